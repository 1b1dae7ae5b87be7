"""`orchestrator gpus`: the GPUs jobs may use here, and which job (or warm pool) holds each."""

from __future__ import annotations

import json

from orchestrator.gpus import plural
from orchestrator.local import Orchestrator
from orchestrator.store.capacity import Allocation
from orchestrator.store.pools import SHARE_PREFIX, WarmPool


def _holder(allocation: Allocation, pools: dict[str, WarmPool]) -> str:
    if not allocation.job.startswith(SHARE_PREFIX):
        return allocation.job
    pool = pools.get(allocation.job.removeprefix(SHARE_PREFIX))
    return f"warm pool of {pool.holder}" if pool is not None else allocation.job


def show_gpus(orch: Orchestrator, as_json: bool) -> int:
    found, allocations = orch.gpus()
    pools = {pool.id: pool for pool in orch.warm_pools()}
    holders = {uuid: _holder(a, pools) for a in allocations if a.granted for uuid in a.gpu_ids}
    waiting = [a for a in allocations if not a.granted and a.gpus]
    if as_json:
        document = {
            "Source": found.source,
            "Simulated": found.simulated,
            "Gpus": [
                {
                    "Index": gpu.index,
                    "Uuid": gpu.uuid,
                    "Name": gpu.name,
                    "MemoryMiB": gpu.memory_mib,
                    "HeldBy": holders.get(gpu.uuid),
                }
                for gpu in found.gpus
            ],
            "Waiting": [{"Job": a.job, "Gpus": a.gpus} for a in waiting],
        }
        print(json.dumps(document, indent=2))
        return 0
    print(f"GPUs: {plural(len(found.gpus))} ({found.source})")
    rows = [("INDEX", "UUID", "NAME", "MEMORY", "HELD BY")]
    for gpu in found.gpus:
        memory = f"{gpu.memory_mib} MiB" if gpu.memory_mib is not None else "-"
        rows.append((str(gpu.index), gpu.uuid, gpu.name, memory, holders.get(gpu.uuid, "-")))
    if found.gpus:
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            print("  ".join(cells).rstrip())
    for allocation in waiting:
        print(f"waiting: {allocation.job} ({plural(allocation.gpus)})")
    return 0
