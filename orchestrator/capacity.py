"""Placement, decided purely: what a job asks of the host, and whether it fits now or ever.

The ledger in the store (store/capacity.py) holds what is granted and who waits, shared by every
engine process on the same store; these functions decide from its numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.instances import GIB, resources_of

# A 2-core laptop or CI runner still runs four ml.m5.large jobs (2 vCPUs each) side by side:
# their containers keep their CPU limits and share the cores, slower but concurrent, which is
# what local runs and container tests want. Set ORCHESTRATOR_CPU_OVERCOMMIT=1 to reserve whole
# CPUs, as the cloud does.
DEFAULT_CPU_OVERCOMMIT = 4.0


@dataclass(frozen=True)
class Capacity:
    """What the scheduler may hand out: CPUs (already overcommitted) and memory bytes."""

    cpus: float
    memory_bytes: int
    host_cpus: float
    host_memory_bytes: int

    def describe(self) -> str:
        return _amount(self.cpus, self.memory_bytes)


@dataclass(frozen=True)
class Demand:
    cpus: float
    memory_bytes: int

    def describe(self) -> str:
        return _amount(self.cpus, self.memory_bytes)


def _amount(cpus: float, memory_bytes: int) -> str:
    return f"{cpus:g} vCPUs and {memory_bytes / GIB:.1f} GiB of memory"


def host_capacity(
    host_cpus: float,
    host_memory_bytes: int,
    cpus: float | None = None,
    memory_gib: float | None = None,
    overcommit: float | None = None,
) -> Capacity:
    """The schedulable capacity. Given CPUs (ORCHESTRATOR_CPUS) are taken at their word:
    overcommit applies to them only when asked; the detected count is overcommitted by default."""
    if overcommit is None:
        overcommit = 1.0 if cpus is not None else DEFAULT_CPU_OVERCOMMIT
    base_cpus = cpus if cpus is not None else host_cpus
    memory = int(memory_gib * GIB) if memory_gib is not None else host_memory_bytes
    return Capacity(base_cpus * overcommit, memory, base_cpus, memory)


def demand_of(instance_type: str, instance_count: int, capacity: Capacity) -> Demand:
    """An instance type's vCPUs and memory per instance, capped at the host (as the container
    limits are: an ml.m5.24xlarge still runs on a laptop, alone), times the instance count."""
    wanted = resources_of(instance_type)
    cpus = min(float(wanted.vcpus), capacity.host_cpus)
    memory = min(wanted.memory_bytes, capacity.host_memory_bytes)
    return Demand(cpus * instance_count, memory * instance_count)


def fits(demand: Demand, used: Demand, capacity: Capacity) -> bool:
    """Whether the job fits beside what is granted now."""
    return (
        used.cpus + demand.cpus <= capacity.cpus + 1e-9
        and used.memory_bytes + demand.memory_bytes <= capacity.memory_bytes
    )


def never_fits(demand: Demand, capacity: Capacity) -> str | None:
    """Why the job could not be placed even on an idle host (CapacityError), or None."""
    if demand.cpus > capacity.cpus + 1e-9 or demand.memory_bytes > capacity.memory_bytes:
        return (
            f"the job needs {demand.describe()}, and this host offers at most"
            f" {capacity.describe()} (ORCHESTRATOR_CPUS, ORCHESTRATOR_MEMORY_GIB,"
            " ORCHESTRATOR_CPU_OVERCOMMIT)"
        )
    return None
