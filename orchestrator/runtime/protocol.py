"""What the engine needs from a container runtime, in Docker's own verbs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from orchestrator.gpus import Gpu

LABEL_JOB = "orchestrator.job"
LABEL_HOST = "orchestrator.host"
LABEL_ATTEMPT = "orchestrator.attempt"
LABEL_STORE = "orchestrator.store"

# A piece of a container's output: when the runtime recorded it (epoch seconds; None if it
# cannot say) and its bytes.
LogChunk = tuple[float | None, bytes]


@dataclass(frozen=True)
class Mount:
    source: Path
    target: str
    read_only: bool = False


@dataclass(frozen=True)
class ContainerSpec:
    name: str
    image: str
    hostname: str
    entrypoint: list[str] | None
    command: list[str] | None
    environment: dict[str, str]
    mounts: list[Mount]
    labels: dict[str, str]
    nano_cpus: int | None = None
    memory_bytes: int | None = None
    network_disabled: bool = False
    # NVIDIA GPUs by UUID: Docker gets a device request for exactly these.
    gpu_device_ids: list[str] = field(default_factory=list)
    # A network of the job's own (a distributed job), and the names it answers to there.
    network: str | None = None
    network_aliases: list[str] = field(default_factory=list)
    # Further networks joined before the start (the host bridge), and /etc/hosts entries.
    extra_networks: list[str] = field(default_factory=list)
    extra_hosts: dict[str, str] = field(default_factory=dict)
    # The node the scheduler placed this host on (a Swarm node's id); None on a single engine.
    node: str | None = None
    # SIGTERM to SIGKILL on stop: a Swarm service fixes it when it is made (Docker takes it at
    # `stop`, which says it again).
    stop_grace_seconds: float | None = None


@dataclass(frozen=True)
class NetworkSpec:
    """A network for one attempt of a distributed job: its hosts reach each other by name.
    `internal`: nothing outside it (EnableNetworkIsolation)."""

    name: str
    labels: dict[str, str]
    internal: bool = False
    subnet: str | None = None  # and its gateway: an address plan of its own (the host bridge)
    gateway: str | None = None


@dataclass(frozen=True)
class ExitStatus:
    code: int
    oom_killed: bool = False


@dataclass(frozen=True)
class ContainerInfo:
    id: str
    labels: dict[str, str]
    running: bool


@dataclass(frozen=True)
class Node:
    """A machine containers can be placed on (a Swarm node): its size, its NVIDIA GPUs by
    UUID (the `orchestrator.gpus` node label) and whether its filesystem is this process's
    (`local`: mounts bind directly; elsewhere they travel through the object store)."""

    id: str
    name: str
    cpus: int
    memory_bytes: int
    gpus: tuple[str, ...] = ()
    local: bool = False


@dataclass(frozen=True)
class NetworkInfo:
    id: str
    name: str
    labels: dict[str, str]


class Runtime(Protocol):
    def create(self, spec: ContainerSpec) -> str:
        """Create (not start) a container; return its id. ImageNotFound if no such image."""

    def start(self, container_id: str) -> None: ...

    def wait(self, container_id: str, timeout: float) -> ExitStatus | None:
        """The exit status once the container has exited; None if still running at timeout."""

    def poll(self, container_id: str) -> ExitStatus | None:
        """The exit status if the container has exited, else None, without waiting."""

    def stop(self, container_id: str, grace_seconds: float) -> None:
        """SIGTERM, wait up to grace_seconds, then SIGKILL."""

    def logs(self, container_id: str) -> Iterator[LogChunk]:
        """stdout and stderr from the start, followed until the container exits, each piece
        with the time the runtime recorded it: an engine that reads the output late (it
        adopted the job) still stamps each line with when it was written."""

    def remove(self, container_id: str) -> None:
        """Remove the container (stopping it first); a missing container is not an error."""

    def find(self, labels: dict[str, str]) -> list[ContainerInfo]:
        """Containers carrying all these labels, running or not."""

    def create_network(self, spec: NetworkSpec) -> str:
        """Create the network (an existing one of that name is reused); return its id."""

    def remove_network(self, network_id: str) -> None:
        """Remove a network whose containers are gone; a missing one is not an error."""

    def find_networks(self, labels: dict[str, str]) -> list[NetworkInfo]:
        """Networks carrying all these labels."""

    def capacity(self) -> tuple[int, int]:
        """(CPUs, memory bytes) of the host the containers run on."""

    def gpus(self) -> tuple[Gpu, ...] | None:
        """The NVIDIA GPUs of the host the containers run on; None if it cannot be asked."""

    def nodes(self) -> tuple[Node, ...]:
        """The nodes the scheduler places hosts on, each pinned by ContainerSpec.node; empty
        for a single engine, where every container runs on the one host `capacity` describes."""
