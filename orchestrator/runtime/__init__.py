"""Container runtimes behind one protocol: Docker for real, a fake for unit tests."""

from orchestrator.runtime.protocol import (
    ContainerInfo,
    ContainerSpec,
    ExitStatus,
    Mount,
    Runtime,
)

__all__ = ["ContainerInfo", "ContainerSpec", "ExitStatus", "Mount", "Runtime"]
