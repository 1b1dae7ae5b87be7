"""The capacity ledger: which jobs hold a share of the host, and who waits, in what order.

Every engine process on the same store shares it, so several `orchestrator run` terminals and a
`serve` never oversubscribe the host between them. A request is one IMMEDIATE transaction:
join the queue (keeping an earlier place), then take the share if it fits beside what is granted
and no live job queued earlier still waits: first come, first served (a job that needs no GPU
may pass jobs that wait only for GPUs: capacity.may_pass). A share's GPUs are recorded by UUID
with it, so every process, and an engine that adopts the job, sees which GPUs are whose.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

from orchestrator.capacity import (
    Capacity,
    Demand,
    HostPlacement,
    Placement,
    fits,
    may_pass,
    place,
)
from orchestrator.gpus import pick
from orchestrator.store.db import Database

_ACTIVE_JOB = "jobs.status IN ('InProgress', 'Stopping')"
# A share is held by a running job, or by an Available warm pool.
_RUNNING = f"EXISTS (SELECT 1 FROM jobs WHERE jobs.name = a.job AND {_ACTIVE_JOB})"
_HELD = (
    f"{_RUNNING}"
    " OR (a.job LIKE 'pool:%' AND EXISTS (SELECT 1 FROM warm_pools p"
    " WHERE p.id = substr(a.job, 6) AND p.status = 'Available'))"
    # A job that has just ended still holds its share until its pool is settled.
    " OR EXISTS (SELECT 1 FROM warm_pools p WHERE p.holder = a.job AND p.status = 'InUse')"
)


@dataclass(frozen=True)
class Allocation:
    job: str
    seq: int
    cpus: float
    memory_bytes: int
    granted: bool
    gpus: int = 0
    gpu_ids: tuple[str, ...] = ()


class CapacityLedger:
    def __init__(self, db: Database) -> None:
        self.db = db

    def request(
        self,
        job: str,
        demand: Demand,
        capacity: Capacity,
        now: float,
        hosts: Sequence[tuple[str, str]] = (),
    ) -> tuple[str, ...] | None:
        """Hold the job's share if it may start now, and return its GPUs (UUIDs, possibly
        none); otherwise keep its place in the queue and return None. On a cluster
        (`capacity.nodes`) each of `hosts` (name, instance type) is placed on a node too."""
        with self.db.write() as conn:
            row = conn.execute(
                "SELECT granted, gpu_ids FROM allocations WHERE job = ?", (job,)
            ).fetchone()
            if row is not None and row["granted"]:
                return _uuids(row["gpu_ids"])
            if row is None:
                conn.execute(
                    "INSERT INTO allocations (job, seq, cpus, memory, gpus, granted) VALUES"
                    " (?, (SELECT coalesce(max(seq), 0) + 1 FROM allocations), ?, ?, ?, 0)",
                    (job, demand.cpus, demand.memory_bytes, demand.gpus),
                )
            used = self._used(conn)
            ahead = self._waiting_ahead(conn, job, now)
            if not may_pass(demand, used, ahead, capacity) or not fits(demand, used, capacity):
                return None
            if capacity.nodes and hosts:
                return self._place(conn, job, hosts, capacity)
            chosen = pick(demand.gpus, capacity.gpus, self._held_gpus(conn))
            if chosen is None:
                return None
            conn.execute(
                "UPDATE allocations SET granted = 1, gpu_ids = ? WHERE job = ?",
                (",".join(chosen), job),
            )
            return chosen

    def _place(
        self,
        conn: sqlite3.Connection,
        job: str,
        hosts: Sequence[tuple[str, str]],
        capacity: Capacity,
    ) -> tuple[str, ...] | None:
        """Each host on a node beside what the nodes hold (capacity.place), recorded with
        the grant in the same transaction."""
        placement = place(
            hosts,
            capacity.nodes,
            self._used_by_node(conn),
            self._held_gpus(conn),
            capacity.strict_gpus,
        )
        if placement is None:
            return None
        conn.execute("DELETE FROM placements WHERE job = ?", (job,))
        conn.executemany(
            "INSERT INTO placements (job, host, node, cpus, memory, gpu_ids)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [
                (job, host, p.node, p.cpus, p.memory_bytes, ",".join(p.gpus))
                for host, p in placement.items()
            ],
        )
        chosen = tuple(g for p in placement.values() for g in p.gpus)
        conn.execute(
            "UPDATE allocations SET granted = 1, gpu_ids = ? WHERE job = ?",
            (",".join(chosen), job),
        )
        return chosen

    @staticmethod
    def _used_by_node(conn: sqlite3.Connection) -> dict[str, Demand]:
        rows = conn.execute(
            "SELECT pl.node, sum(pl.cpus), sum(pl.memory) FROM placements pl"
            " JOIN allocations a ON a.job = pl.job"
            f" WHERE a.granted = 1 AND ({_HELD}) GROUP BY pl.node"
        )
        return {r[0]: Demand(float(r[1]), int(r[2])) for r in rows}

    def placement_of(self, job: str) -> Placement:
        """Where each host of the job was placed (empty on a single engine)."""
        rows = self.db.read().execute(
            "SELECT host, node, cpus, memory, gpu_ids FROM placements WHERE job = ?", (job,)
        )
        return {
            r["host"]: HostPlacement(r["node"], _uuids(r["gpu_ids"]), r["cpus"], r["memory"])
            for r in rows
        }

    def held_by_node(self) -> dict[str, Demand]:
        """What the granted shares hold on each node (the dashboard's and docs' view)."""
        return self._used_by_node(self.db.read())

    @staticmethod
    def _held_gpus(conn: sqlite3.Connection) -> set[str]:
        rows = conn.execute(
            f"SELECT gpu_ids FROM allocations a WHERE granted = 1 AND gpu_ids != '' AND ({_HELD})"
        )
        return {uuid for row in rows for uuid in _uuids(row["gpu_ids"])}

    @staticmethod
    def _used(conn: sqlite3.Connection) -> Demand:
        """Shares of running jobs, and of Available warm pools (rows `pool:<id>`)."""
        row = conn.execute(
            "SELECT coalesce(sum(cpus), 0), coalesce(sum(memory), 0) FROM allocations a"
            f" WHERE granted = 1 AND ({_HELD})"
        ).fetchone()
        return Demand(float(row[0]), int(row[1]))

    @staticmethod
    def _waiting_ahead(conn: sqlite3.Connection, job: str, now: float) -> list[Demand]:
        """Jobs queued earlier that still wait (and whose owner lives: an orphan does not
        block the queue, and takes its place back when it is adopted)."""
        rows = conn.execute(
            "SELECT cpus, memory, gpus FROM allocations JOIN jobs ON jobs.name = allocations.job"
            " WHERE granted = 0 AND seq < (SELECT seq FROM allocations WHERE job = ?)"
            f" AND {_ACTIVE_JOB} AND jobs.owner IS NOT NULL AND jobs.lease_expires >= ?",
            (job, now),
        )
        return [Demand(float(r["cpus"]), int(r["memory"]), int(r["gpus"])) for r in rows]

    def may_reclaim(self, job: str, demand: Demand, capacity: Capacity, now: float) -> bool:
        """Whether ending idle warm pools would let this job start now: it is first in the
        queue, and it would fit if no Available pool held a share."""
        conn = self.db.read()
        rows = conn.execute(
            "SELECT cpus, memory, gpu_ids FROM allocations a"
            f" WHERE granted = 1 AND job != ? AND {_RUNNING}",
            (job,),
        ).fetchall()
        running = Demand(sum(r["cpus"] for r in rows), sum(r["memory"] for r in rows))
        if not may_pass(demand, running, self._waiting_ahead(conn, job, now), capacity):
            return False
        held = {uuid for r in rows for uuid in _uuids(r["gpu_ids"])}
        free_gpus = pick(demand.gpus, capacity.gpus, held)
        return fits(demand, running, capacity) and free_gpus is not None

    def gpus_of(self, job: str) -> tuple[str, ...]:
        """The GPUs granted to the job (to its warm pool's share while it reuses one)."""
        row = (
            self.db.read()
            .execute("SELECT gpu_ids FROM allocations WHERE job = ? AND granted = 1", (job,))
            .fetchone()
        )
        return _uuids(row["gpu_ids"]) if row is not None else ()

    def release(self, job: str) -> None:
        with self.db.write() as conn:
            conn.execute("DELETE FROM allocations WHERE job = ?", (job,))
            conn.execute("DELETE FROM placements WHERE job = ?", (job,))

    def reap(self) -> int:
        """Drop the shares of jobs that ended or no longer exist (their owner died first)."""
        with self.db.write() as conn:
            cursor = conn.execute(f"DELETE FROM allocations AS a WHERE NOT ({_HELD})")
            conn.execute("DELETE FROM placements WHERE job NOT IN (SELECT job FROM allocations)")
            return cursor.rowcount

    def allocations(self) -> list[Allocation]:
        """Every share and every waiting job, in queue order."""
        rows = self.db.read().execute(
            "SELECT job, seq, cpus, memory, granted, gpus, gpu_ids FROM allocations ORDER BY seq"
        )
        return [
            Allocation(
                r["job"],
                r["seq"],
                r["cpus"],
                r["memory"],
                bool(r["granted"]),
                r["gpus"],
                _uuids(r["gpu_ids"]),
            )
            for r in rows
        ]


def _uuids(stored: str) -> tuple[str, ...]:
    return tuple(stored.split(",")) if stored else ()
