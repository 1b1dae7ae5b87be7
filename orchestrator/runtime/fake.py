"""An in-memory runtime for unit tests: scripted programs on an injected clock.

It honours the same contract as DockerRuntime, so the stop, timeout and failure paths of the
engine run in milliseconds: a program exits after `duration` seconds of (fake) time, a stop
sends it SIGTERM and, if it ignores that, kills it after the grace period.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from orchestrator.clock import Clock
from orchestrator.errors import ContainerGone, GpuRuntimeMissing, ImageNotFound, RuntimeFailure
from orchestrator.gpus import Gpu
from orchestrator.runtime.protocol import (
    ContainerInfo,
    ContainerSpec,
    ExitStatus,
    LogChunk,
    Mount,
    NetworkInfo,
    NetworkSpec,
    Node,
)

SIGTERM_EXIT = 143
SIGKILL_EXIT = 137


@dataclass
class FakeProgram:
    """What a fake image does when it runs: `files` are written under /opt/ml at start; on
    SIGTERM it exits with `sigterm_exit_code` (a program that handles SIGTERM may exit 0)."""

    duration: float = 1.0
    exit_code: int = 0
    lines: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)
    ignores_sigterm: bool = False
    sigterm_exit_code: int = SIGTERM_EXIT
    oom: bool = False
    on_start: Callable[[Path], None] | None = None
    # Another behaviour on some hosts of a distributed job, by host name (algo-2: ...).
    per_host: dict[str, FakeProgram] = field(default_factory=dict)

    def on(self, host: str) -> FakeProgram:
        return self.per_host.get(host, self)


@dataclass
class FakeContainer:
    id: str
    spec: ContainerSpec
    program: FakeProgram
    started_at: float | None = None
    exit: ExitStatus | None = None
    removed: bool = False
    signals: list[str] = field(default_factory=list)


def _host_path(mounts: list[Mount], container_path: str) -> Path:
    """Where a container path lands on the host: the deepest mount wins, as in Docker."""
    mount = max(
        (m for m in mounts if container_path.startswith(m.target.rstrip("/") + "/")),
        key=lambda m: len(m.target),
    )
    return mount.source / container_path[len(mount.target.rstrip("/")) + 1 :]


class FakeRuntime:
    def __init__(
        self,
        clock: Clock,
        programs: dict[str, FakeProgram] | None = None,
        gpus: tuple[Gpu, ...] | None = None,
        nvidia_runtime: bool = True,
        nodes: tuple[Node, ...] = (),
    ) -> None:
        self.clock = clock
        self.cluster = nodes  # a Swarm's nodes; () for one engine
        self.host_gpus = gpus  # what nvidia-smi would list; None: no nvidia-smi
        self.nvidia_runtime = nvidia_runtime
        self.programs = programs or {}
        self.containers: dict[str, FakeContainer] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.fail_create: RuntimeFailure | None = None
        self.networks: dict[str, NetworkSpec] = {}

    def create(self, spec: ContainerSpec) -> str:
        if self.fail_create is not None:
            raise self.fail_create
        if spec.image not in self.programs:
            raise ImageNotFound(f"image {spec.image!r} is not on this Docker engine")
        for network in [spec.network, *spec.extra_networks]:
            if network is not None and network not in self.networks:
                raise RuntimeFailure(f"docker create failed: network {network} not found")
        container_id = f"fake{next(self._ids)}"
        with self._lock:
            self.containers[container_id] = FakeContainer(
                container_id, spec, self.programs[spec.image].on(spec.hostname)
            )
        return container_id

    def _get(self, container_id: str) -> FakeContainer:
        container = self.containers.get(container_id)
        if container is None or container.removed:
            raise ContainerGone(f"no such container: {container_id}")
        return container

    def start(self, container_id: str) -> None:
        container = self._get(container_id)
        if container.spec.gpu_device_ids and not self.nvidia_runtime:
            raise GpuRuntimeMissing(
                'could not select device driver "nvidia" with capabilities: [[gpu]]'
            )
        container.started_at = self.clock.now()
        opt_ml = next((m.source for m in container.spec.mounts if m.target == "/opt/ml"), None)
        if opt_ml is not None:
            for relative, content in container.program.files.items():
                path = _host_path(container.spec.mounts, f"/opt/ml/{relative}")
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(content)
            if container.program.on_start:
                container.program.on_start(opt_ml)

    def _settle(self, container: FakeContainer) -> None:
        program = container.program
        started = container.started_at
        running = container.exit is None and started is not None
        if running and self.clock.now() - (started or 0.0) >= program.duration:
            code = SIGKILL_EXIT if program.oom else program.exit_code
            container.exit = ExitStatus(code, program.oom)

    def wait(self, container_id: str, timeout: float) -> ExitStatus | None:
        container = self._get(container_id)
        self._settle(container)
        if container.exit is None:
            self.clock.sleep(timeout)
            self._settle(container)
        return container.exit

    def poll(self, container_id: str) -> ExitStatus | None:
        container = self._get(container_id)
        self._settle(container)
        return container.exit

    def stop(self, container_id: str, grace_seconds: float) -> None:
        container = self._get(container_id)
        self._settle(container)
        if container.exit is not None:
            return
        container.signals.append("SIGTERM")
        if not container.program.ignores_sigterm:
            container.exit = ExitStatus(container.program.sigterm_exit_code)
            return
        self.clock.sleep(grace_seconds)
        container.signals.append("SIGKILL")
        container.exit = ExitStatus(SIGKILL_EXIT)

    def logs(self, container_id: str) -> Iterator[LogChunk]:
        container = self._get(container_id)
        for line in container.program.lines:  # written as the program starts
            yield container.started_at, line.encode() + b"\n"

    def remove(self, container_id: str) -> None:
        container = self.containers.get(container_id)
        if container is not None:
            container.removed = True

    def find(self, labels: dict[str, str]) -> list[ContainerInfo]:
        return [
            ContainerInfo(c.id, dict(c.spec.labels), c.exit is None and c.started_at is not None)
            for c in self.containers.values()
            if not c.removed and all(c.spec.labels.get(k) == v for k, v in labels.items())
        ]

    def capacity(self) -> tuple[int, int]:
        return 2, 8 * 1024**3

    def gpus(self) -> tuple[Gpu, ...] | None:
        return self.host_gpus

    def nodes(self) -> tuple[Node, ...]:
        return self.cluster

    def create_network(self, spec: NetworkSpec) -> str:
        with self._lock:
            self.networks.setdefault(spec.name, spec)
        return spec.name

    def remove_network(self, network_id: str) -> None:
        with self._lock:
            attached = [
                c.id
                for c in self.containers.values()
                if not c.removed and network_id in (c.spec.network, *c.spec.extra_networks)
            ]
            if attached:
                raise RuntimeFailure(f"network {network_id} has active endpoints: {attached}")
            self.networks.pop(network_id, None)

    def find_networks(self, labels: dict[str, str]) -> list[NetworkInfo]:
        return [
            NetworkInfo(name, name, dict(spec.labels))
            for name, spec in list(self.networks.items())
            if all(spec.labels.get(k) == v for k, v in labels.items())
        ]
