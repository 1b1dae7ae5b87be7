"""Placement, decided purely: what a job asks of the host, and whether it fits now or ever.

The ledger in the store (store/capacity.py) holds what is granted and who waits, shared by every
engine process on the same store; these functions decide from its numbers. GPUs are whole
devices handed out by UUID (orchestrator/gpus.py picks them); CPUs and memory are amounts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from orchestrator.gpus import pick, plural
from orchestrator.instances import GIB, resources_of
from orchestrator.runtime.protocol import Node

# A 2-core laptop or CI runner still runs four ml.m5.large jobs (2 vCPUs each) side by side:
# their containers keep their CPU limits and share the cores, slower but concurrent, which is
# what local runs and container tests want. Set ORCHESTRATOR_CPU_OVERCOMMIT=1 to reserve whole
# CPUs, as the cloud does.
DEFAULT_CPU_OVERCOMMIT = 4.0


@dataclass(frozen=True)
class NodeCapacity:
    """One node of a cluster (a Swarm node): what it may hand out (CPUs overcommitted as the
    host's are), its real size, and its GPUs by UUID."""

    id: str
    name: str
    cpus: float
    memory_bytes: int
    host_cpus: float
    gpus: tuple[str, ...] = ()


@dataclass(frozen=True)
class Capacity:
    """What the scheduler may hand out: CPUs (already overcommitted), memory bytes and the
    UUIDs of the GPUs in index order. `strict_gpus`: a job asking for more GPUs than there are
    is a CapacityError instead of running on all of them."""

    cpus: float
    memory_bytes: int
    host_cpus: float
    host_memory_bytes: int
    gpus: tuple[str, ...] = ()
    strict_gpus: bool = False
    # A cluster's nodes: each host of a job is placed on one of them (place()); empty for a
    # single engine, where the numbers above are the one host's.
    nodes: tuple[NodeCapacity, ...] = ()

    def describe(self) -> str:
        amount = _amount(self.cpus, self.memory_bytes, len(self.gpus))
        if self.nodes:
            return f"{amount} on {len(self.nodes)} node{'s' if len(self.nodes) > 1 else ''}"
        return amount


@dataclass(frozen=True)
class Demand:
    """A job's share: CPUs, memory and how many GPUs it gets (`asked_gpus`: its instance
    type's GPUs, which may be more than the host has)."""

    cpus: float
    memory_bytes: int
    gpus: int = 0
    asked_gpus: int = 0

    def describe(self) -> str:
        return _amount(self.cpus, self.memory_bytes, self.gpus)

    def plus(self, other: Demand) -> Demand:
        return Demand(
            self.cpus + other.cpus, self.memory_bytes + other.memory_bytes, self.gpus + other.gpus
        )


def _amount(cpus: float, memory_bytes: int, gpus: int = 0) -> str:
    memory = f"{memory_bytes / GIB:.1f} GiB of memory"
    if gpus:
        return f"{cpus:g} vCPUs, {memory} and {plural(gpus)}"
    return f"{cpus:g} vCPUs and {memory}"


def host_capacity(
    host_cpus: float,
    host_memory_bytes: int,
    cpus: float | None = None,
    memory_gib: float | None = None,
    overcommit: float | None = None,
    gpus: Sequence[str] = (),
    strict_gpus: bool = False,
) -> Capacity:
    """The schedulable capacity. Given CPUs (ORCHESTRATOR_CPUS) are taken at their word:
    overcommit applies to them only when asked; the detected count is overcommitted by default."""
    if overcommit is None:
        overcommit = 1.0 if cpus is not None else DEFAULT_CPU_OVERCOMMIT
    base_cpus = cpus if cpus is not None else host_cpus
    memory = int(memory_gib * GIB) if memory_gib is not None else host_memory_bytes
    return Capacity(base_cpus * overcommit, memory, base_cpus, memory, tuple(gpus), strict_gpus)


def cluster_capacity(
    nodes: Sequence[Node], overcommit: float | None = None, strict_gpus: bool = False
) -> Capacity:
    """A cluster's capacity: every node's, overcommitted as one host's is, and their sum (a
    job as a whole asks at most for all of it; each host is then placed on one node). The GPUs
    are the UUIDs the nodes' `orchestrator.gpus` labels list."""
    factor = DEFAULT_CPU_OVERCOMMIT if overcommit is None else overcommit
    shares = tuple(
        NodeCapacity(n.id, n.name, n.cpus * factor, n.memory_bytes, float(n.cpus), n.gpus)
        for n in nodes
    )
    return Capacity(
        cpus=sum(n.cpus for n in shares),
        memory_bytes=sum(n.memory_bytes for n in shares),
        host_cpus=sum(n.host_cpus for n in shares),
        host_memory_bytes=sum(n.memory_bytes for n in shares),
        gpus=tuple(g for n in shares for g in n.gpus),
        strict_gpus=strict_gpus,
        nodes=shares,
    )


def demand_of(instance_type: str, instance_count: int, capacity: Capacity) -> Demand:
    """An instance type's vCPUs and memory per instance, capped at the host (as the container
    limits are: an ml.m5.24xlarge still runs on a laptop, alone), times the instance count.
    GPUs are capped at the host's too, unless the capacity is strict about them."""
    wanted = resources_of(instance_type)
    cpus = min(float(wanted.vcpus), capacity.host_cpus)
    memory = min(wanted.memory_bytes, capacity.host_memory_bytes)
    asked = wanted.gpus * instance_count
    gpus = asked if capacity.strict_gpus else min(asked, len(capacity.gpus))
    return Demand(cpus * instance_count, memory * instance_count, gpus, asked)


def demand_of_groups(groups: Sequence[tuple[str, int]], capacity: Capacity) -> Demand:
    """The whole job's share, every instance group's (instance type, count) together: a job
    starts when all its hosts fit (gang placement), never half of it. Like one instance, the
    whole job asks at most for the host: a cluster bigger than the machine (three
    ml.m5.large on a 16 GiB laptop) runs alone on it, its containers sharing it."""
    total = Demand(0, 0)
    asked = 0
    for instance_type, count in groups:
        part = demand_of(instance_type, count, capacity)
        total = total.plus(part)
        asked += part.asked_gpus
    gpus = asked if capacity.strict_gpus else min(asked, len(capacity.gpus))
    cpus = min(total.cpus, capacity.host_cpus)
    memory = min(total.memory_bytes, capacity.host_memory_bytes)
    return Demand(cpus, memory, gpus, asked)


def gpu_shortfall(instance_type: str, demand: Demand, capacity: Capacity) -> str | None:
    """What a job that asks for more GPUs than the host has runs on, said in its transitions."""
    if demand.asked_gpus <= demand.gpus:
        return None
    has = len(capacity.gpus)
    asked = f"{instance_type} has {plural(demand.asked_gpus)}"
    if has == 0:
        return f"{asked}; this host has no GPU, so the job runs on CPUs only."
    return f"{asked}; this host has {plural(has)}, so the job runs on all {has} of them."


def fits(demand: Demand, used: Demand, capacity: Capacity) -> bool:
    """Whether the job fits beside what is granted now."""
    return (
        used.cpus + demand.cpus <= capacity.cpus + 1e-9
        and used.memory_bytes + demand.memory_bytes <= capacity.memory_bytes
    )


def may_pass(demand: Demand, used: Demand, ahead: Sequence[Demand], capacity: Capacity) -> bool:
    """Whether a job may start before jobs queued earlier that still wait: only if it needs no
    GPU and they would all still fit on CPUs and memory beside it, so they wait for GPUs alone
    and lose nothing to it. Otherwise first come, first served."""
    if not ahead:
        return True
    if demand.gpus:
        return False
    total = used.plus(demand)
    for waiting in ahead:
        total = total.plus(waiting)
    return fits(Demand(0, 0), total, capacity)


def never_fits(demand: Demand, capacity: Capacity) -> str | None:
    """Why the job could not be placed even on an idle host (CapacityError), or None."""
    if demand.gpus > len(capacity.gpus):
        return (
            f"the job needs {plural(demand.gpus)} and this host has {len(capacity.gpus)}"
            " (ORCHESTRATOR_GPUS_STRICT is set; unset it to run on the GPUs there are)"
        )
    if demand.cpus > capacity.cpus + 1e-9 or demand.memory_bytes > capacity.memory_bytes:
        return (
            f"the job needs {demand.describe()}, and this host offers at most"
            f" {capacity.describe()} (ORCHESTRATOR_CPUS, ORCHESTRATOR_MEMORY_GIB,"
            " ORCHESTRATOR_CPU_OVERCOMMIT)"
        )
    return None


# -- a cluster: each host of a job on a node ---------------------------------------------------


@dataclass(frozen=True)
class HostPlacement:
    """Where one host runs: the node's id, the GPUs (UUIDs) it gets there, and its share."""

    node: str
    gpus: tuple[str, ...]
    cpus: float
    memory_bytes: int


Placement = dict[str, HostPlacement]


def host_demand(instance_type: str, node: NodeCapacity, strict_gpus: bool, mine: int = 0) -> Demand:
    """One host's share of a node: its instance type capped at the node, as on one machine.
    `mine`: the node's GPUs other hosts of the same job already took (not strict: a host past
    the node's last GPU gets none, rather than waiting for ever)."""
    wanted = resources_of(instance_type)
    gpus = wanted.gpus if strict_gpus else min(wanted.gpus, len(node.gpus) - mine)
    return Demand(
        min(float(wanted.vcpus), node.host_cpus),
        min(wanted.memory_bytes, node.memory_bytes),
        gpus,
        wanted.gpus,
    )


def place(
    hosts: Sequence[tuple[str, str]],
    nodes: Sequence[NodeCapacity],
    used: Mapping[str, Demand],
    held_gpus: set[str],
    strict_gpus: bool = False,
) -> Placement | None:
    """Every host (name, instance type) of a job on a node, or None while they do not all fit
    (gang placement). Hosts go largest first, each to the node with the most CPUs left where
    it fits: a job spreads over the nodes, as SageMaker's instances are separate machines, and
    a node's GPUs go to one host at a time. As on one machine, hosts of a job bigger than the
    cluster share a node that no other job uses, their containers keeping their limits."""
    left = {n.id: used.get(n.id, Demand(0, 0)) for n in nodes}
    taken = set(held_gpus)
    placement: Placement = {}
    any_gpus = any(n.gpus for n in nodes)
    by_size = sorted(hosts, key=lambda h: -resources_of(h[1]).vcpus)
    for host, instance_type in by_size:
        best: tuple[NodeCapacity, Demand, tuple[str, ...]] | None = None
        for node in nodes:
            if resources_of(instance_type).gpus and any_gpus and not node.gpus:
                continue  # a GPU host waits for a GPU node; CPUs only on a cluster without
            mine = sum(1 for p in placement.values() for g in p.gpus if g in node.gpus)
            want = host_demand(instance_type, node, strict_gpus, mine)
            alone = used.get(node.id, Demand(0, 0)).cpus == 0  # no other job's share there
            if not alone and not fits(want, left[node.id], _as_capacity(node)):
                continue
            chosen = pick(want.gpus, node.gpus, taken)
            if chosen is None:
                continue
            room = node.cpus - left[node.id].cpus
            if best is None or room > best[0].cpus - left[best[0].id].cpus:
                best = (node, want, chosen)
        if best is None:
            return None
        node, want, chosen = best
        left[node.id] = left[node.id].plus(want)
        taken.update(chosen)
        placement[host] = HostPlacement(node.id, chosen, want.cpus, want.memory_bytes)
    return placement


def never_placed(
    hosts: Sequence[tuple[str, str]], nodes: Sequence[NodeCapacity], strict_gpus: bool
) -> str | None:
    """Why a job could not be placed even on idle nodes (CapacityError), or None."""
    if not nodes:
        return "the swarm has no node that is ready and active"
    if place(hosts, nodes, {}, set(), strict_gpus) is not None:
        return None
    most = max(len(n.gpus) for n in nodes)
    asked = max(resources_of(t).gpus for _, t in hosts)
    return (
        f"a host of the job needs {plural(asked)} and no node of the swarm has more than"
        f" {most} left beside the job's other hosts (ORCHESTRATOR_GPUS_STRICT is set; GPU"
        " nodes carry their GPUs' UUIDs in the orchestrator.gpus label)"
    )


def _as_capacity(node: NodeCapacity) -> Capacity:
    return Capacity(node.cpus, node.memory_bytes, node.host_cpus, node.memory_bytes, node.gpus)
