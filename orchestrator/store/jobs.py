"""Training jobs, their status history and tags; status changes are compare-and-set."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from orchestrator.errors import ResourceInUse, ValidationError, training_job_not_found
from orchestrator.lifecycle import MESSAGES, Secondary, is_terminal, primary_of, transition
from orchestrator.store.db import Database
from orchestrator.store.tokens import decode_token, encode_token

# Columns a caller may set alongside or apart from a status change.
_DATA_COLUMNS = frozenset(
    {
        "training_start_time",
        "training_end_time",
        "failure_reason",
        "model_artifacts",
        "stop_cause",
        "exit_code",
        "attempt",
        "pending_since",
        "fault",
        "fault_at",
        "retries",
        "run_seconds",
        "attempt_training_at",
        "billable_seconds",
        "exit_message",
    }
)
_SORT_COLUMNS = {"Name": "name", "CreationTime": "creation_time", "Status": "status"}

# A processing job's row is named `<name>.processing`: SageMaker keeps training and processing
# job names apart, and a job name never holds a dot, so the two can never meet.
PROCESSING_SUFFIX = ".processing"


@dataclass(frozen=True)
class TransitionRecord:
    status: str
    start_time: float
    end_time: float | None
    message: str


@dataclass(frozen=True)
class JobRecord:
    name: str
    arn: str
    status: str
    secondary_status: str
    request: dict[str, Any]
    creation_time: float
    last_modified_time: float
    training_start_time: float | None
    training_end_time: float | None
    failure_reason: str | None
    model_artifacts: str | None
    stop_cause: str | None
    exit_code: int | None
    version: int
    indexed_version: int
    owner: str | None
    lease_expires: float | None
    attempt: int
    pending_since: float | None
    fault: str | None
    fault_at: float | None
    retries: int
    run_seconds: float
    attempt_training_at: float | None
    billable_seconds: float | None
    pool_id: str | None
    warm_pool_status: str | None
    pool_since: float | None
    pool_until: float | None
    pool_reused_by: str | None
    kind: str  # "training" or "processing" (whose name is stored with PROCESSING_SUFFIX)
    exit_message: str | None

    @property
    def secondary(self) -> Secondary:
        return Secondary(self.secondary_status)

    def has_live_owner(self, now: float) -> bool:
        """A supervisor holds the job and its lease has not run out."""
        return self.owner is not None and (self.lease_expires or 0.0) >= now

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> JobRecord:
        values = {key: row[key] for key in _RECORD_FIELDS}
        values["request"] = json.loads(values["request"])
        return cls(**values)


# Older stores have columns nothing reads any more: metrics_lines (now per host stream, in
# log_streams) and container_id (now per host run, in host_runs).
_RECORD_FIELDS = tuple(JobRecord.__dataclass_fields__)


@dataclass(frozen=True)
class ListQuery:
    """ListTrainingJobs filters, already validated and in epoch seconds."""

    kind: str = "training"
    name_contains: str | None = None
    name_prefix: str | None = None
    status_equals: str | None = None
    warm_pool_status_equals: str | None = None
    creation_after: float | None = None
    creation_before: float | None = None
    modified_after: float | None = None
    modified_before: float | None = None
    sort_by: str = "CreationTime"
    sort_order: str = "Descending"
    max_results: int = 10
    next_token: str | None = None


def _public_name(query: ListQuery) -> str:
    """The name as its API shows it: a processing job's without the row's suffix."""
    if query.kind == "training":
        return "name"
    return f"substr(name, 1, length(name) - {len(PROCESSING_SUFFIX)})"


def _sort_expression(query: ListQuery) -> str:
    column = _SORT_COLUMNS[query.sort_by]
    return _public_name(query) if column == "name" else column


def _encode_token(sort_value: Any, name: str) -> str:
    return encode_token({"v": sort_value, "n": name})


def _decode_token(token: str) -> tuple[Any, str]:
    data = decode_token(token)
    if data is not None and isinstance(data.get("n"), str) and "v" in data:
        return data["v"], data["n"]
    raise ValidationError("Invalid NextToken: it does not come from a previous response")


class JobStore:
    """Reads and writes training jobs. Nothing outside this package writes SQL."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def insert(
        self,
        name: str,
        arn: str,
        request: dict[str, Any],
        now: float,
        owner: str | None = None,
        lease_seconds: float = 0.0,
        kind: str = "training",
    ) -> JobRecord:
        """Create a job in Starting, held by `owner` from the first instant (so no other engine
        can adopt it before its supervisor runs); a name already used is ResourceInUse."""
        tags = request.get("Tags") or []
        lease = now + lease_seconds if owner is not None else None
        try:
            with self.db.write() as conn:
                if conn.execute(
                    "SELECT 1 FROM jobs WHERE lower(name) = lower(?)", (name,)
                ).fetchone():
                    raise sqlite3.IntegrityError("the name differs from another only in case")
                conn.execute(
                    "INSERT INTO jobs (name, arn, status, secondary_status, request,"
                    " creation_time, last_modified_time, owner, lease_expires, kind)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        name,
                        arn,
                        "InProgress",
                        "Starting",
                        json.dumps(request),
                        now,
                        now,
                        owner,
                        lease,
                        kind,
                    ),
                )
                self._open_transition(conn, name, 1, Secondary.STARTING, now, None)
                conn.executemany(
                    "INSERT OR REPLACE INTO tags (job, key, value) VALUES (?, ?, ?)",
                    [(name, t["Key"], t.get("Value", "")) for t in tags],
                )
        except sqlite3.IntegrityError:
            what = "Training job" if kind == "training" else "Processing job"
            shown = name.removesuffix(PROCESSING_SUFFIX)
            raise ResourceInUse(f"{what} {shown!r} already exists") from None
        return self.require(name)

    def get(self, name: str) -> JobRecord | None:
        """The job of that name, in any case: names are unique without regard to case, as the
        service's ARNs (which lower-case them) require. The record carries the name as given
        at create; writes use that."""
        conn = self.db.read()
        row = conn.execute("SELECT * FROM jobs WHERE name = ?", (name,)).fetchone()
        if row is None:
            row = conn.execute(
                "SELECT * FROM jobs WHERE lower(name) = lower(?) LIMIT 1", (name,)
            ).fetchone()
        return JobRecord.from_row(row) if row else None

    def by_arn(self, arn: str) -> JobRecord | None:
        row = self.db.read().execute("SELECT * FROM jobs WHERE arn = ?", (arn,)).fetchone()
        return JobRecord.from_row(row) if row else None

    def require(self, name: str) -> JobRecord:
        record = self.get(name)
        if record is None:
            raise training_job_not_found(name)  # as the service answers, never a traceback
        return record

    def move(
        self,
        name: str,
        expected: Secondary,
        target: Secondary,
        now: float,
        message: str | None = None,
        **data: Any,
    ) -> bool:
        """Compare-and-set expected -> target; False when another writer moved it first."""
        transition(expected, target)  # refuses illegal moves before touching the database
        columns = self._data_assignments(data)
        with self.db.write() as conn:
            cursor = conn.execute(
                f"UPDATE jobs SET status = ?, secondary_status = ?, last_modified_time = ?,"
                f" version = version + 1{columns.sql} WHERE name = ? AND secondary_status = ?",
                (
                    primary_of(target).value,
                    target.value,
                    now,
                    *columns.values,
                    name,
                    expected.value,
                ),
            )
            if cursor.rowcount != 1:
                return False
            seq = self._close_transition(conn, name, now)
            self._open_transition(conn, name, seq + 1, target, now, message)
        return True

    def set_message(self, name: str, status: Secondary, message: str, now: float) -> bool:
        """Update the message of the current secondary status, only if it is still `status`
        (a step within that status): a message never lands on a status it was not written
        for, such as a Stopping that a user's stop made meanwhile. False if it did not land."""
        with self.db.write() as conn:
            cursor = conn.execute(
                "UPDATE transitions SET message = ? WHERE job = ? AND end_time IS NULL"
                " AND status = ?",
                (message, name, status.value),
            )
            if cursor.rowcount != 1:
                return False
            conn.execute(
                "UPDATE jobs SET last_modified_time = ?, version = version + 1 WHERE name = ?",
                (now, name),
            )
        return True

    def update(self, name: str, **data: Any) -> None:
        """Set data columns that are not a status change (container id, log offset...)."""
        columns = self._data_assignments(data)
        if not columns.values:
            return
        with self.db.write() as conn:
            conn.execute(
                f"UPDATE jobs SET version = version + 1{columns.sql} WHERE name = ?",
                (*columns.values, name),
            )

    def update_request(self, name: str, changes: dict[str, Any], now: float) -> None:
        """Replace top-level request fields (UpdateTrainingJob); None removes a field."""
        with self.db.write() as conn:
            row = conn.execute("SELECT request FROM jobs WHERE name = ?", (name,)).fetchone()
            request = json.loads(row["request"])
            for key, value in changes.items():
                if value is None:
                    request.pop(key, None)
                else:
                    request[key] = value
            conn.execute(
                "UPDATE jobs SET request = ?, last_modified_time = ?, version = version + 1"
                " WHERE name = ?",
                (json.dumps(request), now, name),
            )

    def add_tags(self, name: str, tags: dict[str, str]) -> None:
        with self.db.write() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO tags (job, key, value) VALUES (?, ?, ?)",
                [(name, key, value) for key, value in tags.items()],
            )
            conn.execute("UPDATE jobs SET version = version + 1 WHERE name = ?", (name,))

    def delete_tags(self, name: str, keys: list[str]) -> None:
        with self.db.write() as conn:
            conn.executemany(
                "DELETE FROM tags WHERE job = ? AND key = ?", [(name, key) for key in keys]
            )
            conn.execute("UPDATE jobs SET version = version + 1 WHERE name = ?", (name,))

    def transitions(self, name: str) -> list[TransitionRecord]:
        rows = self.db.read().execute(
            "SELECT status, start_time, end_time, message FROM transitions"
            " WHERE job = ? ORDER BY seq",
            (name,),
        )
        return [TransitionRecord(**dict(row)) for row in rows]

    def tags(self, name: str) -> dict[str, str]:
        rows = self.db.read().execute("SELECT key, value FROM tags WHERE job = ?", (name,))
        return {row["key"]: row["value"] for row in rows}

    # -- ownership: one live supervisor per job -------------------------------------------

    def claim(self, name: str, owner: str, now: float, lease_seconds: float) -> bool:
        """Take or renew the job's lease; False if another live owner holds it."""
        with self.db.write() as conn:
            cursor = conn.execute(
                "UPDATE jobs SET owner = ?, lease_expires = ? WHERE name = ?"
                " AND (owner IS NULL OR owner = ? OR lease_expires < ?)",
                (owner, now + lease_seconds, name, owner, now),
            )
            return cursor.rowcount == 1

    def release(self, name: str, owner: str) -> None:
        with self.db.write() as conn:
            conn.execute(
                "UPDATE jobs SET owner = NULL, lease_expires = NULL WHERE name = ? AND owner = ?",
                (name, owner),
            )

    def delete(self, name: str, now: float, also: tuple[str, ...] = ()) -> str | None:
        """DeleteTrainingJob's effect, in one transaction: the job and everything recorded of
        it (transitions, tags, host runs, metrics, also those of the resources `also`, its
        search index rows, its ended warm pools). None once done; else why not: it has not
        ended, its supervisor is still cleaning up after it, or it keeps a warm pool (the
        caller says so as ResourceInUse)."""
        with self.db.write() as conn:
            row = conn.execute(
                "SELECT status, arn, owner, lease_expires FROM jobs WHERE name = ?", (name,)
            ).fetchone()
            if row is None:
                return "missing"
            if row["status"] in ("InProgress", "Stopping"):
                return f"it is {row['status']}"
            if row["owner"] is not None and (row["lease_expires"] or 0.0) >= now:
                return "its supervisor is still cleaning up after it; retry in a moment"
            kept = conn.execute(
                "SELECT status FROM warm_pools WHERE holder = ? AND status IN ('Available',"
                " 'InUse')",
                (name,),
            ).fetchone()
            if kept is not None:
                return f"it keeps a warm pool ({kept['status']})"
            for resource in (row["arn"], *also):
                for table in ("metric_points", "metric_summary"):
                    conn.execute(f"DELETE FROM {table} WHERE resource = ?", (resource,))
            conn.execute("DELETE FROM search_props WHERE job = ?", (name,))
            conn.execute("DELETE FROM allocations WHERE job = ?", (name,))
            conn.execute("DELETE FROM warm_pools WHERE holder = ?", (name,))
            conn.execute("DELETE FROM jobs WHERE name = ?", (name,))  # cascades to the rest
        return None

    def orphans(self, now: float) -> list[JobRecord]:
        """Unfinished jobs whose owner's lease ran out (its process died or was killed)."""
        rows = self.db.read().execute(
            "SELECT * FROM jobs WHERE status IN ('InProgress', 'Stopping')"
            " AND (owner IS NULL OR lease_expires < ?)",
            (now,),
        )
        return [JobRecord.from_row(row) for row in rows]

    # -- listing ---------------------------------------------------------------------------

    def page(self, query: ListQuery) -> tuple[list[JobRecord], str | None]:
        """One page of jobs and the token for the next page (keyset pagination)."""
        column = _sort_expression(query)
        descending = query.sort_order == "Descending"
        where, params = self._filters(query)
        if query.next_token:
            value, name = _decode_token(query.next_token)
            where.append(f"({column}, name) {'<' if descending else '>'} (?, ?)")
            params += [value, name]
        direction = "DESC" if descending else "ASC"
        sql = (
            f"SELECT *, {column} AS sort_value FROM jobs"
            f" {'WHERE ' + ' AND '.join(where) if where else ''}"
            f" ORDER BY {column} {direction}, name {direction} LIMIT ?"
        )
        rows = self.db.read().execute(sql, (*params, query.max_results + 1)).fetchall()
        records = [JobRecord.from_row(row) for row in rows[: query.max_results]]
        token = None
        if len(rows) > query.max_results:
            last = rows[query.max_results - 1]
            token = _encode_token(last["sort_value"], last["name"])
        return records, token

    @staticmethod
    def _filters(query: ListQuery) -> tuple[list[str], list[Any]]:
        name = _public_name(query)
        clauses = [
            ("kind = ?", query.kind),
            (f"instr(lower({name}), lower(?)) > 0", query.name_contains),
            (f"substr({name}, 1, length(?)) = ?", query.name_prefix),
            ("status = ?", query.status_equals),
            ("warm_pool_status = ?", query.warm_pool_status_equals),
            ("creation_time > ?", query.creation_after),
            ("creation_time < ?", query.creation_before),
            ("last_modified_time > ?", query.modified_after),
            ("last_modified_time < ?", query.modified_before),
        ]
        used = [(sql, value) for sql, value in clauses if value is not None]
        params = [v for sql, value in used for v in [value] * sql.count("?")]
        return [sql for sql, _ in used], params

    # -- helpers ---------------------------------------------------------------------------

    @staticmethod
    def _data_assignments(data: dict[str, Any]) -> _Assignments:
        unknown = set(data) - _DATA_COLUMNS
        if unknown:
            raise ValueError(f"not a job data column: {sorted(unknown)}")
        return _Assignments("".join(f", {key} = ?" for key in data), tuple(data.values()))

    @staticmethod
    def _close_transition(conn: sqlite3.Connection, name: str, now: float) -> int:
        conn.execute(
            "UPDATE transitions SET end_time = ? WHERE job = ? AND end_time IS NULL", (now, name)
        )
        row = conn.execute("SELECT max(seq) FROM transitions WHERE job = ?", (name,)).fetchone()
        return int(row[0] or 0)

    @staticmethod
    def _open_transition(
        conn: sqlite3.Connection,
        name: str,
        seq: int,
        status: Secondary,
        now: float,
        message: str | None,
    ) -> None:
        # A terminal status is entered and closed at once: nothing follows it.
        end = now if is_terminal(status) else None
        conn.execute(
            "INSERT INTO transitions (job, seq, status, start_time, end_time, message)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (name, seq, status.value, now, end, message or MESSAGES[status]),
        )


@dataclass(frozen=True)
class _Assignments:
    sql: str
    values: tuple[Any, ...]
