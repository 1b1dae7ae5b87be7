"""The capacity ledger: which jobs hold a share of the host, and who waits, in what order.

Every engine process on the same store shares it, so several `orchestrator run` terminals and a
`serve` never oversubscribe the host between them. A request is one IMMEDIATE transaction:
join the queue (keeping an earlier place), then take the share if it fits beside what is granted
and no live job queued earlier still waits: first come, first served.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from orchestrator.capacity import Capacity, Demand, fits
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


class CapacityLedger:
    def __init__(self, db: Database) -> None:
        self.db = db

    def request(self, job: str, demand: Demand, capacity: Capacity, now: float) -> bool:
        """Hold the job's share if it may start now; otherwise keep its place in the queue."""
        with self.db.write() as conn:
            row = conn.execute("SELECT granted FROM allocations WHERE job = ?", (job,)).fetchone()
            if row is not None and row["granted"]:
                return True
            if row is None:
                conn.execute(
                    "INSERT INTO allocations (job, seq, cpus, memory, granted) VALUES"
                    " (?, (SELECT coalesce(max(seq), 0) + 1 FROM allocations), ?, ?, 0)",
                    (job, demand.cpus, demand.memory_bytes),
                )
            if self._waiting_ahead(conn, job, now) or not fits(demand, self._used(conn), capacity):
                return False
            conn.execute("UPDATE allocations SET granted = 1 WHERE job = ?", (job,))
            return True

    @staticmethod
    def _used(conn: sqlite3.Connection) -> Demand:
        """Shares of running jobs, and of Available warm pools (rows `pool:<id>`)."""
        row = conn.execute(
            "SELECT coalesce(sum(cpus), 0), coalesce(sum(memory), 0) FROM allocations a"
            f" WHERE granted = 1 AND ({_HELD})"
        ).fetchone()
        return Demand(float(row[0]), int(row[1]))

    @staticmethod
    def _waiting_ahead(conn: sqlite3.Connection, job: str, now: float) -> bool:
        """A job queued earlier still waits (and its owner lives: an orphan does not block the
        queue, and takes its place back when it is adopted)."""
        row = conn.execute(
            "SELECT 1 FROM allocations JOIN jobs ON jobs.name = allocations.job"
            " WHERE granted = 0 AND seq < (SELECT seq FROM allocations WHERE job = ?)"
            f" AND {_ACTIVE_JOB} AND jobs.owner IS NOT NULL AND jobs.lease_expires >= ?"
            " LIMIT 1",
            (job, now),
        ).fetchone()
        return row is not None

    def may_reclaim(self, job: str, demand: Demand, capacity: Capacity, now: float) -> bool:
        """Whether ending idle warm pools would let this job start now: it is first in the
        queue, and it would fit if no Available pool held a share."""
        conn = self.db.read()
        if self._waiting_ahead(conn, job, now):
            return False
        row = conn.execute(
            "SELECT coalesce(sum(cpus), 0), coalesce(sum(memory), 0) FROM allocations a"
            f" WHERE granted = 1 AND {_RUNNING}"
        ).fetchone()
        return fits(demand, Demand(float(row[0]), int(row[1])), capacity)

    def release(self, job: str) -> None:
        with self.db.write() as conn:
            conn.execute("DELETE FROM allocations WHERE job = ?", (job,))

    def reap(self) -> int:
        """Drop the shares of jobs that ended or no longer exist (their owner died first)."""
        with self.db.write() as conn:
            cursor = conn.execute(f"DELETE FROM allocations AS a WHERE NOT ({_HELD})")
            return cursor.rowcount

    def allocations(self) -> list[Allocation]:
        rows = self.db.read().execute(
            "SELECT job, seq, cpus, memory, granted FROM allocations ORDER BY seq"
        )
        return [
            Allocation(r["job"], r["seq"], r["cpus"], r["memory"], bool(r["granted"])) for r in rows
        ]
