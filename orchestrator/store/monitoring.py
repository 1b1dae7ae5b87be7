"""Monitoring job definitions (model quality, and the other kinds later), schedules and their
executions in the store. An execution is claimed by inserting its (schedule, scheduled time)
row: of several engines on one store, exactly one runs each slot.

Names are unique across every kind of definition: the service answers ResourceInUse for a
name another definition has, whatever its kind (our choice where the sources are silent).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from orchestrator.store.db import Database
from orchestrator.store.tokens import decode_token, encode_token

_SORT = {"Name": "name", "CreationTime": "creation_time"}


@dataclass(frozen=True)
class Definition:
    name: str
    type: str
    arn: str
    request: dict[str, Any]
    creation_time: float
    endpoint: str | None


@dataclass(frozen=True)
class DefinitionQuery:
    type: str
    endpoint: str | None = None
    name_contains: str | None = None
    creation_after: float | None = None
    creation_before: float | None = None
    sort_by: str = "CreationTime"
    sort_order: str = "Descending"
    max_results: int = 10
    next_token: str | None = None


class DefinitionTaken(Exception):
    """The name belongs to another definition."""


class MonitoringStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def insert(self, definition: Definition) -> None:
        try:
            with self.db.write() as conn:
                conn.execute(
                    "INSERT INTO monitoring_definitions"
                    " (name, type, arn, request, creation_time, endpoint)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        definition.name,
                        definition.type,
                        definition.arn,
                        json.dumps(definition.request),
                        definition.creation_time,
                        definition.endpoint,
                    ),
                )
        except sqlite3.IntegrityError:
            raise DefinitionTaken(definition.name) from None

    def get(self, name: str, kind: str) -> Definition | None:
        row = (
            self.db.read()
            .execute(
                "SELECT * FROM monitoring_definitions WHERE name = ? AND type = ?", (name, kind)
            )
            .fetchone()
        )
        return _definition(row) if row else None

    def delete(self, name: str, kind: str) -> bool:
        with self.db.write() as conn:
            deleted = conn.execute(
                "DELETE FROM monitoring_definitions WHERE name = ? AND type = ?", (name, kind)
            )
        return deleted.rowcount > 0

    def page(self, query: DefinitionQuery) -> tuple[list[Definition], str | None]:
        column = _SORT[query.sort_by]
        descending = query.sort_order == "Descending"
        clauses = [
            ("type = ?", query.type),
            ("endpoint = ?", query.endpoint),
            ("instr(lower(name), lower(?)) > 0", query.name_contains),
            ("creation_time > ?", query.creation_after),
            ("creation_time < ?", query.creation_before),
        ]
        where = [sql for sql, value in clauses if value is not None]
        params: list[Any] = [value for _, value in clauses if value is not None]
        if query.next_token:
            position = decode_token(query.next_token)
            if position is None or "v" not in position or "n" not in position:
                raise ValueError("NextToken")
            where.append(f"({column}, name) {'<' if descending else '>'} (?, ?)")
            params += [position["v"], position["n"]]
        direction = "DESC" if descending else "ASC"
        rows = (
            self.db.read()
            .execute(
                f"SELECT * FROM monitoring_definitions WHERE {' AND '.join(where)}"
                f" ORDER BY {column} {direction}, name {direction} LIMIT ?",
                (*params, query.max_results + 1),
            )
            .fetchall()
        )
        found = [_definition(row) for row in rows[: query.max_results]]
        token = None
        if len(rows) > query.max_results:
            last = rows[query.max_results - 1]
            token = encode_token({"v": last[column], "n": last["name"]})
        return found, token


def _definition(row: sqlite3.Row) -> Definition:
    return Definition(
        name=row["name"],
        type=row["type"],
        arn=row["arn"],
        request=json.loads(row["request"]),
        creation_time=row["creation_time"],
        endpoint=row["endpoint"],
    )


@dataclass(frozen=True)
class ScheduleRecord:
    name: str
    arn: str
    request: dict[str, Any]
    status: str
    definition: str
    creation_time: float
    last_modified_time: float
    next_slot: float | None
    failure_reason: str | None


@dataclass(frozen=True)
class ExecutionRecord:
    schedule: str
    scheduled_time: float
    creation_time: float
    processing_job: str | None  # the stored name of its processing job, once it has one
    failure_reason: str | None
    violations: int | None = None  # how many its report lists, once read


class ScheduleTaken(Exception):
    """The name belongs to another schedule."""


class ScheduleStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def insert(self, record: ScheduleRecord) -> None:
        try:
            with self.db.write() as conn:
                conn.execute(
                    "INSERT INTO monitoring_schedules (name, arn, request, status, definition,"
                    " creation_time, last_modified_time, next_slot)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        record.name,
                        record.arn,
                        json.dumps(record.request),
                        record.status,
                        record.definition,
                        record.creation_time,
                        record.last_modified_time,
                        record.next_slot,
                    ),
                )
        except sqlite3.IntegrityError:
            raise ScheduleTaken(record.name) from None

    def get(self, name: str) -> ScheduleRecord | None:
        row = (
            self.db.read()
            .execute("SELECT * FROM monitoring_schedules WHERE name = ?", (name,))
            .fetchone()
        )
        return _schedule(row) if row else None

    def any_scheduled(self) -> bool:
        """Whether any schedule may have work (one indexed row read, every engine tick)."""
        row = (
            self.db.read()
            .execute("SELECT 1 FROM monitoring_schedules WHERE status = 'Scheduled' LIMIT 1")
            .fetchone()
        )
        return row is not None

    def all(self) -> list[ScheduleRecord]:
        rows = self.db.read().execute("SELECT * FROM monitoring_schedules ORDER BY name")
        return [_schedule(row) for row in rows]

    def using(self, definition: str) -> list[str]:
        rows = self.db.read().execute(
            "SELECT name FROM monitoring_schedules WHERE definition = ?", (definition,)
        )
        return [row["name"] for row in rows]

    def update(self, name: str, now: float, **values: Any) -> bool:
        allowed = {"status", "next_slot", "failure_reason"}
        if set(values) - allowed:
            raise ValueError(f"not a schedule column: {sorted(set(values) - allowed)}")
        assignments = "".join(f", {key} = ?" for key in values)
        with self.db.write() as conn:
            changed = conn.execute(
                f"UPDATE monitoring_schedules SET last_modified_time = ?{assignments}"
                " WHERE name = ?",
                (now, *values.values(), name),
            )
        return changed.rowcount > 0

    def delete(self, name: str) -> bool:
        with self.db.write() as conn:
            deleted = conn.execute("DELETE FROM monitoring_schedules WHERE name = ?", (name,))
        return deleted.rowcount > 0

    def claim(self, name: str, slot: float, now: float, following: float | None) -> bool:
        """Take the slot: its execution row, and the schedule's next slot, in one transaction;
        False if another engine took it (or the schedule moved on, stopped or went)."""
        with self.db.write() as conn:
            moved = conn.execute(
                "UPDATE monitoring_schedules SET next_slot = ?, last_modified_time = ?"
                " WHERE name = ? AND next_slot = ? AND status = 'Scheduled'",
                (following, now, name, slot),
            )
            if moved.rowcount == 0:
                return False
            conn.execute(
                "INSERT INTO monitoring_executions (schedule, scheduled_time, creation_time)"
                " VALUES (?, ?, ?)",
                (name, slot, now),
            )
        return True

    def move_execution(self, name: str, slot: float, latest: float) -> None:
        """The claimed execution runs for a later slot (the latest one missed)."""
        with self.db.write() as conn:
            conn.execute(
                "UPDATE monitoring_executions SET scheduled_time = ?"
                " WHERE schedule = ? AND scheduled_time = ?",
                (latest, name, slot),
            )

    def settle_execution(
        self, name: str, slot: float, job: str | None, failure: str | None = None
    ) -> None:
        with self.db.write() as conn:
            conn.execute(
                "UPDATE monitoring_executions SET processing_job = ?, failure_reason = ?"
                " WHERE schedule = ? AND scheduled_time = ?",
                (job, failure, name, slot),
            )

    def set_violations(self, name: str, slot: float, count: int) -> None:
        with self.db.write() as conn:
            conn.execute(
                "UPDATE monitoring_executions SET violations = ?"
                " WHERE schedule = ? AND scheduled_time = ?",
                (count, name, slot),
            )

    def executions(self, name: str | None = None) -> list[ExecutionRecord]:
        where, params = ("WHERE schedule = ?", (name,)) if name is not None else ("", ())
        rows = self.db.read().execute(
            f"SELECT * FROM monitoring_executions {where} ORDER BY scheduled_time, schedule",
            params,
        )
        return [
            ExecutionRecord(
                row["schedule"],
                row["scheduled_time"],
                row["creation_time"],
                row["processing_job"],
                row["failure_reason"],
                row["violations"],
            )
            for row in rows
        ]


def _schedule(row: sqlite3.Row) -> ScheduleRecord:
    return ScheduleRecord(
        name=row["name"],
        arn=row["arn"],
        request=json.loads(row["request"]),
        status=row["status"],
        definition=row["definition"],
        creation_time=row["creation_time"],
        last_modified_time=row["last_modified_time"],
        next_slot=row["next_slot"],
        failure_reason=row["failure_reason"],
    )
