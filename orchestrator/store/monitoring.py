"""Monitoring job definitions (model quality, and the other kinds later) in the store.

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
