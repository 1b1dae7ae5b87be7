"""The capacity page: what the scheduler may hand out, what running jobs and warm pools hold,
who waits, and (on a Swarm) the same per node. Read from the ledger every engine shares."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from orchestrator.capacity import Capacity
from orchestrator.local import Orchestrator
from orchestrator.operations.training_jobs import settle_warm_pools
from orchestrator.processing_spec import public_name
from orchestrator.store.capacity import Allocation, CapacityLedger
from orchestrator.store.jobs import JobRecord
from orchestrator.store.pools import SHARE_PREFIX, WarmPool, WarmPoolStore


def _holder(allocation: Allocation, pools: Mapping[str, WarmPool]) -> dict[str, Any]:
    if not allocation.job.startswith(SHARE_PREFIX):
        return {"job": allocation.job, "warmPool": False}
    pool = pools.get(allocation.job.removeprefix(SHARE_PREFIX))
    return {"job": pool.holder if pool is not None else allocation.job, "warmPool": True}


def _share(allocation: Allocation, pools: Mapping[str, WarmPool]) -> dict[str, Any]:
    return {
        **_holder(allocation, pools),
        "cpus": allocation.cpus,
        "memoryBytes": allocation.memory_bytes,
        "gpus": allocation.gpus,
        "gpuIds": list(allocation.gpu_ids),
    }


def summary(
    capacity: Capacity,
    allocations: Sequence[Allocation],
    pools: Mapping[str, WarmPool],
    held_by_node: Mapping[str, Any],
) -> dict[str, Any]:
    """The numbers, purely: totals, held, free, per node, the holders and the waiting."""
    granted = [a for a in allocations if a.granted]
    held_cpus = sum(a.cpus for a in granted)
    held_memory = sum(a.memory_bytes for a in granted)
    held_gpus = {uuid: _holder(a, pools)["job"] for a in granted for uuid in a.gpu_ids}
    return {
        "cpus": {"total": capacity.cpus, "held": held_cpus, "host": capacity.host_cpus},
        "memoryBytes": {
            "total": capacity.memory_bytes,
            "held": held_memory,
            "host": capacity.host_memory_bytes,
        },
        "gpus": [{"uuid": uuid, "heldBy": held_gpus.get(uuid)} for uuid in capacity.gpus],
        "nodes": [
            {
                "id": node.id,
                "name": node.name,
                "cpus": node.cpus,
                "memoryBytes": node.memory_bytes,
                "gpus": len(node.gpus),
                "heldCpus": held_by_node[node.id].cpus if node.id in held_by_node else 0.0,
                "heldMemoryBytes": (
                    held_by_node[node.id].memory_bytes if node.id in held_by_node else 0
                ),
            }
            for node in capacity.nodes
        ],
        "running": [_share(a, pools) for a in granted],
        "waiting": [_share(a, pools) for a in allocations if not a.granted],
    }


def capacity_view(orch: Orchestrator) -> dict[str, Any]:
    now = orch.clock.now()
    settle_warm_pools(orch.store, now)
    ledger = CapacityLedger(orch.store.db)
    ledger.reap()  # shares of jobs that ended while nobody cleaned up: not held
    pools = {pool.id: pool for pool in WarmPoolStore(orch.store.db).all()}
    # The engine's capacity: the host asked once, GPUs detected once per engine.
    capacity = orch.engine.ctx.capacity()
    document = summary(capacity, ledger.allocations(), pools, ledger.held_by_node())
    for share in document["running"]:
        _name_of(orch, share)
    document["pending"] = [
        pending
        for share in document["waiting"]
        if (pending := _waiting_for(orch, _name_of(orch, share), share)) is not None
    ]
    return document


def _name_of(orch: Orchestrator, share: dict[str, Any]) -> JobRecord | None:
    """Names a share's job as the API does, with its kind (the ledger keys processing jobs by
    their stored row name); the job's record, if it still has one."""
    record = orch.store.get(share["job"])
    share["kind"] = record.kind if record is not None else "training"
    if record is not None and record.kind == "processing":
        share["job"] = public_name(record.name)
    return record


def _waiting_for(
    orch: Orchestrator, record: JobRecord | None, share: Mapping[str, Any]
) -> dict[str, Any] | None:
    """A job in Pending, with the message that says what it waits for."""
    if record is None or record.secondary_status != "Pending":
        return None
    transitions = orch.store.transitions(record.name)
    message = transitions[-1].message if transitions else None
    return {"job": share["job"], "kind": share["kind"], "message": message or ""}
