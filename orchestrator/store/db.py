"""SQLite connections: WAL, a busy timeout, one connection per thread, schema on first use."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CACHE_KIB = 64 * 1024  # per connection

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    name TEXT PRIMARY KEY,
    arn TEXT NOT NULL,
    status TEXT NOT NULL,
    secondary_status TEXT NOT NULL,
    request TEXT NOT NULL,
    creation_time REAL NOT NULL,
    last_modified_time REAL NOT NULL,
    training_start_time REAL,
    training_end_time REAL,
    failure_reason TEXT,
    model_artifacts TEXT,
    stop_cause TEXT,
    exit_code INTEGER,
    version INTEGER NOT NULL DEFAULT 0,
    indexed_version INTEGER NOT NULL DEFAULT -1,
    owner TEXT,
    lease_expires REAL,
    attempt INTEGER NOT NULL DEFAULT 1,
    pending_since REAL,
    fault TEXT,
    fault_at REAL,
    retries INTEGER NOT NULL DEFAULT 0,
    run_seconds REAL NOT NULL DEFAULT 0,
    attempt_training_at REAL,
    billable_seconds REAL,
    pool_id TEXT,
    warm_pool_status TEXT,
    pool_since REAL,
    pool_until REAL,
    pool_reused_by TEXT,
    kind TEXT NOT NULL DEFAULT 'training',
    exit_message TEXT
);
CREATE INDEX IF NOT EXISTS jobs_arn ON jobs (arn);
CREATE INDEX IF NOT EXISTS jobs_lower_name ON jobs (lower(name));
CREATE INDEX IF NOT EXISTS jobs_creation ON jobs (creation_time, name);
CREATE INDEX IF NOT EXISTS jobs_status ON jobs (status, name);
CREATE INDEX IF NOT EXISTS jobs_modified ON jobs (last_modified_time, name);
-- Search's unfiltered pages: TotalHits counts the training jobs from this index instead of
-- reading every row (60 ms at 100,000 jobs), and the newest-first walk follows it. Partial, so
-- only queries that say kind = 'training' literally can pick it (ListTrainingJobs' `kind = ?`
-- keeps its plan; the stale-rows query opts out with +kind).
CREATE INDEX IF NOT EXISTS jobs_training ON jobs (creation_time, name) WHERE kind = 'training';
CREATE TABLE IF NOT EXISTS transitions (
    job TEXT NOT NULL REFERENCES jobs(name) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    status TEXT NOT NULL,
    start_time REAL NOT NULL,
    end_time REAL,
    message TEXT NOT NULL,
    PRIMARY KEY (job, seq)
);
CREATE TABLE IF NOT EXISTS metric_points (
    resource TEXT NOT NULL,
    metric TEXT NOT NULL,
    seq INTEGER NOT NULL,
    step INTEGER,
    timestamp REAL NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (resource, metric, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS metric_points_step ON metric_points (resource, metric, step)
    WHERE step IS NOT NULL;
CREATE TABLE IF NOT EXISTS metric_summary (
    resource TEXT NOT NULL,
    metric TEXT NOT NULL,
    seq INTEGER NOT NULL,
    last REAL NOT NULL,
    last_timestamp REAL NOT NULL,
    minimum REAL NOT NULL,
    maximum REAL NOT NULL,
    count INTEGER NOT NULL,
    PRIMARY KEY (resource, metric)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS metric_summary_by_metric ON metric_summary (metric, last);
CREATE INDEX IF NOT EXISTS jobs_unindexed ON jobs (name) WHERE version != indexed_version;
CREATE TABLE IF NOT EXISTS search_props (
    job TEXT NOT NULL,
    path TEXT NOT NULL,
    elem INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    text TEXT,
    num REAL,
    PRIMARY KEY (job, path, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS search_props_num ON search_props (path, num, job)
    WHERE num IS NOT NULL;
CREATE INDEX IF NOT EXISTS search_props_text ON search_props (path, text, job)
    WHERE text IS NOT NULL;
CREATE TABLE IF NOT EXISTS host_runs (
    job TEXT NOT NULL REFERENCES jobs(name) ON DELETE CASCADE,
    attempt INTEGER NOT NULL,
    host TEXT NOT NULL,
    container_id TEXT,
    log_base INTEGER NOT NULL DEFAULT 0,
    started INTEGER NOT NULL DEFAULT 0,
    exit_code INTEGER,
    PRIMARY KEY (job, attempt, host)
);
CREATE TABLE IF NOT EXISTS log_streams (
    job TEXT NOT NULL REFERENCES jobs(name) ON DELETE CASCADE,
    host TEXT NOT NULL,
    scraped_lines INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (job, host)
);
CREATE TABLE IF NOT EXISTS allocations (
    job TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    cpus REAL NOT NULL,
    memory INTEGER NOT NULL,
    granted INTEGER NOT NULL DEFAULT 0,
    gpus INTEGER NOT NULL DEFAULT 0,
    gpu_ids TEXT NOT NULL DEFAULT ''
);
-- Where each host of a granted job runs, on a cluster of nodes (Swarm), and what it holds there.
CREATE TABLE IF NOT EXISTS placements (
    job TEXT NOT NULL,
    host TEXT NOT NULL,
    node TEXT NOT NULL,
    cpus REAL NOT NULL,
    memory INTEGER NOT NULL,
    gpu_ids TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (job, host)
);
CREATE TABLE IF NOT EXISTS warm_pools (
    id TEXT PRIMARY KEY,
    match_key TEXT NOT NULL,
    holder TEXT NOT NULL,
    status TEXT NOT NULL,
    keep_alive INTEGER NOT NULL,
    available_at REAL,
    expires_at REAL,
    cache TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS warm_pools_available ON warm_pools (status, match_key, available_at);
CREATE TABLE IF NOT EXISTS monitoring_definitions (
    name TEXT PRIMARY KEY,
    type TEXT NOT NULL,
    arn TEXT NOT NULL,
    request TEXT NOT NULL,
    creation_time REAL NOT NULL,
    endpoint TEXT
);
CREATE INDEX IF NOT EXISTS monitoring_definitions_by_type
    ON monitoring_definitions (type, creation_time, name);
CREATE TABLE IF NOT EXISTS monitoring_schedules (
    name TEXT PRIMARY KEY,
    arn TEXT NOT NULL,
    request TEXT NOT NULL,
    status TEXT NOT NULL,
    definition TEXT NOT NULL,
    creation_time REAL NOT NULL,
    last_modified_time REAL NOT NULL,
    next_slot REAL,
    failure_reason TEXT
);
CREATE TABLE IF NOT EXISTS monitoring_executions (
    schedule TEXT NOT NULL REFERENCES monitoring_schedules(name) ON DELETE CASCADE,
    scheduled_time REAL NOT NULL,
    creation_time REAL NOT NULL,
    processing_job TEXT,
    failure_reason TEXT,
    violations INTEGER,
    PRIMARY KEY (schedule, scheduled_time)
);
CREATE TABLE IF NOT EXISTS tags (
    job TEXT NOT NULL REFERENCES jobs(name) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (job, key)
);
"""

_ADDED_JOB_COLUMNS = {
    "version": "INTEGER NOT NULL DEFAULT 0",
    "indexed_version": "INTEGER NOT NULL DEFAULT -1",
    "attempt": "INTEGER NOT NULL DEFAULT 1",
    "pending_since": "REAL",
    "fault": "TEXT",
    "fault_at": "REAL",
    "retries": "INTEGER NOT NULL DEFAULT 0",
    "run_seconds": "REAL NOT NULL DEFAULT 0",
    "attempt_training_at": "REAL",
    "billable_seconds": "REAL",
    "pool_id": "TEXT",
    "warm_pool_status": "TEXT",
    "pool_since": "REAL",
    "pool_until": "REAL",
    "pool_reused_by": "TEXT",
    "kind": "TEXT NOT NULL DEFAULT 'training'",  # or 'processing': one engine runs both
    "exit_message": "TEXT",
}
_ADDED_COLUMNS = {
    "jobs": _ADDED_JOB_COLUMNS,
    "allocations": {"gpus": "INTEGER NOT NULL DEFAULT 0", "gpu_ids": "TEXT NOT NULL DEFAULT ''"},
    "monitoring_executions": {"violations": "INTEGER"},
}


class Database:
    """A SQLite file shared by every process on the machine that uses the same home."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()
        path.parent.mkdir(parents=True, exist_ok=True)
        # executescript commits on its own, so it runs outside write().
        self._add_missing_columns()
        self._connection().executescript(SCHEMA)

    def _has_jobs(self) -> bool:
        row = (
            self._connection()
            .execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'jobs'")
            .fetchone()
        )
        return row is not None

    def _add_missing_columns(self) -> None:
        """Stores made by an earlier version lack newer columns; add them in place."""
        if not self._has_jobs():
            return
        conn = self._connection()
        for table, columns in _ADDED_COLUMNS.items():
            present = {row["name"] for row in conn.execute(f"PRAGMA table_info({table})")}
            if not present:
                continue  # the table is new: the schema creates it whole
            for column, definition in columns.items():
                if column not in present:
                    conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA foreign_keys=ON")
            # A search at 100,000 jobs looks up ~50 MB of index pages; with SQLite's default
            # 2 MB cache every lookup re-reads and re-parses them (42 ms vs 28 ms measured).
            # Pages are cached as they are read, so small stores use little of this.
            conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
            self._local.conn = conn
        return conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction; taken IMMEDIATE so concurrent writers queue, not deadlock."""
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def read(self) -> sqlite3.Connection:
        return self._connection()

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
