"""`orchestrator pools`: the warm pools of this store, and releasing one."""

from __future__ import annotations

import time

from orchestrator.errors import ValidationError
from orchestrator.local import Orchestrator


def show_pools(orch: Orchestrator, action: str, name: str | None) -> int:
    if action == "release":
        if not name:
            raise ValidationError("pools release needs the name of the job that left the pool")
        orch.release_warm_pool(name)
        print(f"released the warm pool of {name}")
        return 0
    now = time.time()
    rows = [("POOL", "STATUS", "JOB", "EXPIRES IN", "CACHE")]
    for pool in orch.warm_pools():
        left = f"{max(pool.expires_at - now, 0):.0f} s" if pool.expires_at else "-"
        rows.append((pool.id, pool.status, pool.holder, left, pool.cache))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    return 0
