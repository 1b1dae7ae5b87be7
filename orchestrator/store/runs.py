"""Host runs: one row per (attempt, host) of a job, with its container and where its log began.

A job's attempts each run their hosts afresh; each host's log file is appended to across
attempts, so a host run records how many lines the file held when it began (`log_base`): an
adopter re-reading that container's output from its start skips exactly the lines already copied.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from orchestrator.store.db import Database


@dataclass(frozen=True)
class HostRun:
    job: str
    attempt: int
    host: str
    container_id: str | None
    log_base: int
    started: bool
    exit_code: int | None


class HostRunStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def begin(self, job: str, attempt: int, host: str, log_base: int) -> None:
        """Record a host run about to start (again, after an adoption: keeps what is known)."""
        with self.db.write() as conn:
            conn.execute(
                "INSERT INTO host_runs (job, attempt, host, log_base) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (job, attempt, host) DO UPDATE SET log_base = excluded.log_base",
                (job, attempt, host, log_base),
            )

    def set_container(self, job: str, attempt: int, host: str, container_id: str) -> None:
        with self.db.write() as conn:
            conn.execute(
                "UPDATE host_runs SET container_id = ? WHERE job = ? AND attempt = ? AND host = ?",
                (container_id, job, attempt, host),
            )

    def set_started(self, job: str, attempt: int, host: str) -> None:
        """The container was started: from here, a missing container is a lost one."""
        with self.db.write() as conn:
            conn.execute(
                "UPDATE host_runs SET started = 1 WHERE job = ? AND attempt = ? AND host = ?",
                (job, attempt, host),
            )

    def set_exit(self, job: str, attempt: int, host: str, exit_code: int) -> None:
        with self.db.write() as conn:
            conn.execute(
                "UPDATE host_runs SET exit_code = ? WHERE job = ? AND attempt = ? AND host = ?",
                (exit_code, job, attempt, host),
            )

    def get(self, job: str, attempt: int, host: str) -> HostRun | None:
        row = (
            self.db.read()
            .execute(
                "SELECT * FROM host_runs WHERE job = ? AND attempt = ? AND host = ?",
                (job, attempt, host),
            )
            .fetchone()
        )
        return _host_run(row) if row else None

    def of_job(self, job: str) -> list[HostRun]:
        rows = self.db.read().execute(
            "SELECT * FROM host_runs WHERE job = ? ORDER BY attempt, host", (job,)
        )
        return [_host_run(row) for row in rows]

    def scraped_lines(self, job: str, host: str) -> int:
        """How many lines of the host's log file have been scraped for metrics."""
        row = (
            self.db.read()
            .execute(
                "SELECT scraped_lines FROM log_streams WHERE job = ? AND host = ?", (job, host)
            )
            .fetchone()
        )
        return int(row[0]) if row else 0


def _host_run(row: sqlite3.Row) -> HostRun:
    values = dict(row)
    values["started"] = bool(values["started"])
    return HostRun(**values)
