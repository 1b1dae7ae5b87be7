"""What every supervisor shares: settings, store, runtime, object store, clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.clock import Clock
from orchestrator.config import Settings
from orchestrator.runtime.protocol import LABEL_JOB, LABEL_STORE, Runtime
from orchestrator.storage.protocol import ObjectStore
from orchestrator.store.jobs import JobStore
from orchestrator.store.metrics import MetricStore


@dataclass(frozen=True)
class EngineContext:
    """Shared by the engine and its supervisors; `capacity` is asked of the runtime once."""

    settings: Settings
    store: JobStore
    runtime: Runtime
    objects: ObjectStore
    clock: Clock
    metrics: MetricStore
    _capacity: list[tuple[int, int]] = field(default_factory=list, compare=False, repr=False)

    def capacity(self) -> tuple[int, int]:
        """The host's (CPUs, memory bytes), asked of the runtime once per engine."""
        if not self._capacity:
            self._capacity.append(self.runtime.capacity())
        return self._capacity[0]

    def job_dir(self, name: str) -> Path:
        return self.settings.jobs_root / name

    def log_path(self, name: str, host: str = "algo-1") -> Path:
        return self.log_file(self.settings, name, host)

    @staticmethod
    def log_file(settings: Settings, name: str, host: str = "algo-1") -> Path:
        """Where a host's log lives; readers need no engine to find it."""
        return settings.jobs_root / name / "logs" / f"{host}.log"

    def job_labels(self, name: str) -> dict[str, str]:
        """Labels that tie a container to one job of this store (and no other store's)."""
        return {LABEL_JOB: name, LABEL_STORE: str(self.settings.database_path)}
