"""The search index: every property of every job as rows, kept current by version numbers.

A job's `version` rises with every change to it (status, request, tags, final metrics); its
`indexed_version` says which version its rows describe. Search refreshes the jobs whose two
numbers differ before it queries.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from orchestrator.errors import ValidationError
from orchestrator.search.properties import Row
from orchestrator.store.db import Database

# Sort properties that are columns of `jobs` (always present, indexed for ordering).
_JOB_COLUMNS = {
    "TrainingJobName": "j.name",
    "CreationTime": "j.creation_time",
    "LastModifiedTime": "j.last_modified_time",
    "TrainingJobStatus": "j.status",
}


@dataclass(frozen=True)
class SortKey:
    property: str
    column: str  # "num" or "text" of the property's index rows
    descending: bool


@dataclass(frozen=True)
class Page:
    names: list[str]
    next_token: str | None
    total: int


class SearchIndex:
    def __init__(self, db: Database) -> None:
        self.db = db

    def stale(self, limit: int = 1000) -> list[tuple[str, int]]:
        """(name, version) of jobs whose index rows are out of date."""
        rows = self.db.read().execute(
            "SELECT name, version FROM jobs WHERE version != indexed_version LIMIT ?", (limit,)
        )
        return [(row["name"], row["version"]) for row in rows]

    def replace(self, entries: Sequence[tuple[str, int, list[Row]]]) -> None:
        """Store each job's rows as of `version`; a job changed meanwhile stays stale."""
        with self.db.write() as conn:
            for name, version, rows in entries:
                conn.execute("DELETE FROM search_props WHERE job = ?", (name,))
                conn.executemany(
                    "INSERT INTO search_props (job, path, elem, seq, text, num)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    [(name, r.path, r.elem, r.seq, r.text, r.num) for r in rows],
                )
                conn.execute("UPDATE jobs SET indexed_version = ? WHERE name = ?", (version, name))

    def query(
        self,
        matching: tuple[str, list[Any]],
        sort: SortKey,
        limit: int,
        token: str | None,
        digest: str,
    ) -> Page:
        """One page of matching job names in sort order, and how many match in all."""
        sql, params = matching
        key, join, join_params = self._sort_expression(sort)
        direction = "DESC" if sort.descending else "ASC"
        where = [f"j.name IN ({sql})"]
        where_params = list(params)
        if token:
            condition, values = _after(_decode(token, digest), key, sort.descending)
            where.append(condition)
            where_params += values
        statement = (
            f"SELECT j.name AS name, {key} AS k FROM jobs j{join} WHERE {' AND '.join(where)}"
            f" ORDER BY ({key} IS NULL), {key} {direction}, j.name {direction} LIMIT ?"
        )
        conn = self.db.read()
        rows = conn.execute(statement, [*join_params, *where_params, limit + 1]).fetchall()
        total = conn.execute(f"SELECT count(DISTINCT job) FROM ({sql})", params).fetchone()[0]
        next_token = None
        if len(rows) > limit:
            last = rows[limit - 1]
            next_token = _encode(last["k"], last["name"], digest)
        return Page([row["name"] for row in rows[:limit]], next_token, int(total))

    @staticmethod
    def _sort_expression(sort: SortKey) -> tuple[str, str, list[Any]]:
        if sort.property in _JOB_COLUMNS:
            return _JOB_COLUMNS[sort.property], "", []
        join = " LEFT JOIN search_props sp ON sp.job = j.name AND sp.path = ? AND sp.seq = 0"
        return f"sp.{sort.column}", join, [sort.property]


def _after(position: tuple[Any, str], key: str, descending: bool) -> tuple[str, list[Any]]:
    """Rows strictly after `position` in the order: values first, missing values last."""
    value, name = position
    beyond = "<" if descending else ">"
    if value is None:
        return f"({key} IS NULL AND j.name {beyond} ?)", [name]
    return (
        f"({key} IS NULL OR {key} {beyond} ? OR ({key} = ? AND j.name {beyond} ?))",
        [value, value, name],
    )


def _encode(value: Any, name: str, digest: str) -> str:
    raw = json.dumps({"k": value, "n": name, "q": digest}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode(token: str, digest: str) -> tuple[Any, str]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("n"), str) or "k" not in data:
        raise ValidationError("Invalid NextToken: it does not come from a previous response.")
    if data.get("q") != digest:
        raise ValidationError(
            "Invalid NextToken: it belongs to a search with another expression or sort."
        )
    return data["k"], data["n"]


def request_digest(document: Any) -> str:
    """Identifies a search (expression and sort) so a token cannot be used with another."""
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:16]
