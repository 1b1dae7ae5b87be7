"""Warm pools in the store: every move is one transaction, so two jobs racing for one pool
never both get it, and a pool's capacity share moves with it.

A pool's share in the capacity ledger is the row of the job holding it while the pool is in
use, and the row `pool:<id>` while it is Available; reuse renames it back to the new job.
Each job's view (WarmPoolStatus) lives on the job: `warm_pool_status`, the time its resources
were retained from and until, and the job that reused them.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from orchestrator.store.db import Database

AVAILABLE, IN_USE, TERMINATED, REUSED = "Available", "InUse", "Terminated", "Reused"


@dataclass(frozen=True)
class WarmPool:
    id: str
    match_key: str
    holder: str
    status: str
    keep_alive: int
    available_at: float | None
    expires_at: float | None
    cache: str


SHARE_PREFIX = "pool:"


def share(pool_id: str) -> str:
    """The capacity ledger's key for an Available pool's reservation."""
    return f"{SHARE_PREFIX}{pool_id}"


class WarmPoolStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, pool_id: str, job: str, key: str, keep_alive: int, cache: str) -> None:
        """A cold start: a new pool, in use by the job that made it."""
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO warm_pools (id, match_key, holder, status, keep_alive, cache)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (pool_id, key, job, IN_USE, keep_alive, cache),
            )
            self._job(conn, job, pool_id=pool_id, warm_pool_status=IN_USE)

    def claim(self, job: str, key: str, keep_alive: int, now: float) -> WarmPool | None:
        """Take over the oldest Available pool that matches, with its capacity share; the
        job that left it becomes Reused. None if nothing matches."""
        with self.db.write() as conn:
            row = conn.execute(
                "SELECT * FROM warm_pools WHERE status = ? AND match_key = ? AND expires_at > ?"
                " ORDER BY available_at LIMIT 1",
                (AVAILABLE, key, now),
            ).fetchone()
            if row is None:
                return None
            pool = WarmPool(**dict(row))
            conn.execute(
                "UPDATE warm_pools SET status = ?, holder = ?, keep_alive = ?,"
                " available_at = NULL, expires_at = NULL WHERE id = ?",
                (IN_USE, job, keep_alive, pool.id),
            )
            conn.execute("DELETE FROM allocations WHERE job = ?", (job,))
            conn.execute(
                "UPDATE allocations SET job = ?, granted = 1 WHERE job = ?", (job, share(pool.id))
            )
            self._job(
                conn, pool.holder, warm_pool_status=REUSED, pool_reused_by=job, pool_until=now
            )
            self._job(conn, job, pool_id=pool.id, warm_pool_status=IN_USE)
            return pool

    def make_available(self, job: str, now: float, max_available: int) -> bool:
        """The job ended and keeps its pool: Available for KeepAlivePeriodInSeconds. False if
        `max_available` pools are Available already (counted in the same transaction)."""
        with self.db.write() as conn:
            pool = self._held(conn, job)
            if pool is None:
                return False
            count = conn.execute(
                "SELECT count(*) FROM warm_pools WHERE status = ?", (AVAILABLE,)
            ).fetchone()[0]
            if count >= max_available:
                return False
            conn.execute(
                "UPDATE warm_pools SET status = ?, available_at = ?, expires_at = ? WHERE id = ?",
                (AVAILABLE, now, now + pool.keep_alive, pool.id),
            )
            conn.execute("UPDATE allocations SET job = ? WHERE job = ?", (share(pool.id), job))
            self._job(conn, job, warm_pool_status=AVAILABLE, pool_since=now)
            return True

    def terminate_held(self, job: str, now: float) -> WarmPool | None:
        """The job ended without keeping its pool (an internal error, a quota): Terminated."""
        with self.db.write() as conn:
            pool = self._held(conn, job)
            if pool is not None:
                self._terminate(conn, pool, now)
            return pool

    def terminate(self, pool_id: str, until: float) -> WarmPool | None:
        """End an Available pool (expired, released, reclaimed); None if it is not Available."""
        with self.db.write() as conn:
            row = conn.execute(
                "SELECT * FROM warm_pools WHERE id = ? AND status = ?", (pool_id, AVAILABLE)
            ).fetchone()
            if row is None:
                return None
            pool = WarmPool(**dict(row))
            self._terminate(conn, pool, until)
            return pool

    def _terminate(self, conn: sqlite3.Connection, pool: WarmPool, until: float) -> None:
        conn.execute("UPDATE warm_pools SET status = ? WHERE id = ?", (TERMINATED, pool.id))
        conn.execute("DELETE FROM allocations WHERE job = ?", (share(pool.id),))
        retained = pool.status == AVAILABLE
        self._job(conn, pool.holder, warm_pool_status=TERMINATED, pool_until=until)
        if not retained:  # never kept: nothing was retained for this job
            self._job(conn, pool.holder, pool_since=until)

    def set_keep_alive(self, pool_id: str, seconds: int) -> bool:
        """A new KeepAlivePeriodInSeconds for an Available pool, counted from when it became
        Available; False if it is no longer Available (reused or ended meanwhile)."""
        with self.db.write() as conn:
            cursor = conn.execute(
                "UPDATE warm_pools SET keep_alive = ?, expires_at = available_at + ?"
                " WHERE id = ? AND status = ?",
                (seconds, seconds, pool_id, AVAILABLE),
            )
            return cursor.rowcount == 1

    def abandoned(self, now: float) -> list[WarmPool]:
        """InUse pools whose job has ended and has no live owner to settle them."""
        rows = self.db.read().execute(
            "SELECT warm_pools.* FROM warm_pools JOIN jobs ON jobs.name = warm_pools.holder"
            " WHERE warm_pools.status = ? AND jobs.status IN ('Completed', 'Failed', 'Stopped')"
            " AND (jobs.owner IS NULL OR jobs.lease_expires < ?)",
            (IN_USE, now),
        )
        return [WarmPool(**dict(row)) for row in rows]

    def need_settling(self, now: float) -> bool:
        """Whether any pool has expired or been abandoned: one indexed read, for hot paths."""
        row = (
            self.db.read()
            .execute(
                "SELECT 1 FROM warm_pools WHERE (status = ? AND expires_at <= ?) OR (status = ?"
                " AND holder IN (SELECT name FROM jobs WHERE status IN"
                " ('Completed', 'Failed', 'Stopped') AND (owner IS NULL OR lease_expires < ?)))"
                " LIMIT 1",
                (AVAILABLE, now, IN_USE, now),
            )
            .fetchone()
        )
        return row is not None

    def expired(self, now: float) -> list[WarmPool]:
        rows = self.db.read().execute(
            "SELECT * FROM warm_pools WHERE status = ? AND expires_at <= ?", (AVAILABLE, now)
        )
        return [WarmPool(**dict(row)) for row in rows]

    def available(self) -> list[WarmPool]:
        """Available pools, oldest first."""
        rows = self.db.read().execute(
            "SELECT * FROM warm_pools WHERE status = ? ORDER BY available_at", (AVAILABLE,)
        )
        return [WarmPool(**dict(row)) for row in rows]

    def all(self) -> list[WarmPool]:
        rows = self.db.read().execute("SELECT * FROM warm_pools ORDER BY rowid")
        return [WarmPool(**dict(row)) for row in rows]

    def of_job(self, job: str) -> WarmPool | None:
        row = (
            self.db.read()
            .execute(
                "SELECT warm_pools.* FROM warm_pools JOIN jobs ON jobs.pool_id = warm_pools.id"
                " WHERE jobs.name = ?",
                (job,),
            )
            .fetchone()
        )
        return WarmPool(**dict(row)) if row else None

    @staticmethod
    def _held(conn: sqlite3.Connection, job: str) -> WarmPool | None:
        row = conn.execute(
            "SELECT * FROM warm_pools WHERE holder = ? AND status = ?", (job, IN_USE)
        ).fetchone()
        return WarmPool(**dict(row)) if row else None

    @staticmethod
    def _job(conn: sqlite3.Connection, job: str, **values: object) -> None:
        """Set a job's warm pool columns; its search entry is stale from now on."""
        assignments = ", ".join(f"{column} = ?" for column in values)
        conn.execute(
            f"UPDATE jobs SET {assignments}, version = version + 1 WHERE name = ?",
            (*values.values(), job),
        )
