"""What every supervisor shares: settings, stores, runtime, object store, clock, capacity."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.capacity import Capacity, cluster_capacity, host_capacity
from orchestrator.clock import Clock
from orchestrator.config import Settings
from orchestrator.errors import HostMisconfigured, ValidationError
from orchestrator.gpus import GpuInventory, inventory
from orchestrator.runtime.protocol import LABEL_JOB, LABEL_STORE, Runtime
from orchestrator.storage.protocol import ObjectStore
from orchestrator.store.capacity import CapacityLedger
from orchestrator.store.jobs import JobStore
from orchestrator.store.metrics import MetricStore
from orchestrator.store.pools import WarmPoolStore
from orchestrator.store.runs import HostRunStore


@dataclass(frozen=True)
class EngineContext:
    """Shared by the engine and its supervisors; the host is asked of the runtime once."""

    settings: Settings
    store: JobStore
    runtime: Runtime
    objects: ObjectStore
    clock: Clock
    metrics: MetricStore
    runs: HostRunStore = field(init=False, compare=False, repr=False)
    ledger: CapacityLedger = field(init=False, compare=False, repr=False)
    pools: WarmPoolStore = field(init=False, compare=False, repr=False)
    _host: list[tuple[int, int]] = field(default_factory=list, compare=False, repr=False)
    _gpus: list[GpuInventory] = field(default_factory=list, compare=False, repr=False)

    def __post_init__(self) -> None:
        # Both live in the job store's database: one file, one set of transactions.
        object.__setattr__(self, "runs", HostRunStore(self.store.db))
        object.__setattr__(self, "ledger", CapacityLedger(self.store.db))
        object.__setattr__(self, "pools", WarmPoolStore(self.store.db))

    def host(self) -> tuple[int, int]:
        """The machine's (CPUs, memory bytes), asked of the runtime once per engine."""
        if not self._host:
            self._host.append(self.runtime.capacity())
        return self._host[0]

    def gpus(self) -> GpuInventory:
        """The GPUs jobs may get (ORCHESTRATOR_GPUS, or what nvidia-smi lists), found once per
        engine and only when first needed: CPU-only runs never ask the driver."""
        if not self._gpus:
            setting = self.settings.gpus
            detected = self.runtime.gpus() if setting.needs_detection else None
            try:
                self._gpus.append(inventory(setting, detected))
            except ValidationError as exc:
                raise HostMisconfigured(str(exc)) from exc
        return self._gpus[0]

    def capacity(self, with_gpus: bool = True) -> Capacity:
        """What the scheduler may hand out: the host, or ORCHESTRATOR_CPUS/_MEMORY_GIB, and
        the GPUs (left out, not detected, for a job that needs none)."""
        nodes = self.runtime.nodes()
        if nodes:
            return cluster_capacity(nodes, self.settings.cpu_overcommit, self.settings.gpus_strict)
        cpus, memory = self.host()
        s = self.settings
        gpus = self.gpus().uuids if with_gpus else ()
        return host_capacity(
            cpus, memory, s.cpus, s.memory_gib, s.cpu_overcommit, gpus, s.gpus_strict
        )

    def job_dir(self, name: str) -> Path:
        return self.settings.jobs_root / name

    def workspace_dir(self, name: str, attempt: int, host: str) -> Path:
        """The host side of /opt/ml: fresh for every attempt, so nothing leaks into the next."""
        return self.job_dir(name) / f"attempt-{attempt}" / host

    def log_path(self, name: str, host: str = "algo-1") -> Path:
        return self.log_file(self.settings, name, host)

    @staticmethod
    def log_file(settings: Settings, name: str, host: str = "algo-1") -> Path:
        """Where a host's log lives (every attempt appends to it); readers need no engine."""
        return settings.jobs_root / name / "logs" / f"{host}.log"

    @property
    def store_tag(self) -> str:
        """Six hex digits of the store's path: in container and network names, which Docker
        keeps unique per engine, so two stores' jobs of one name never collide there."""
        return hashlib.sha256(str(self.settings.database_path).encode()).hexdigest()[:6]

    def job_labels(self, name: str) -> dict[str, str]:
        """Labels that tie a container to one job of this store (and no other store's)."""
        return {LABEL_JOB: name, LABEL_STORE: str(self.settings.database_path)}
