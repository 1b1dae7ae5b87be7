"""The search index: every property of every job as rows, kept current by version numbers.

A job's `version` rises with every change to it (status, request, tags, final metrics); its
`indexed_version` says which version its rows describe. Search refreshes the jobs whose two
numbers differ before it queries.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from orchestrator.errors import ValidationError
from orchestrator.search.properties import Row
from orchestrator.store.db import Database
from orchestrator.store.tokens import decode_token, encode_token

FEW_MATCHES = 2000  # up to this many matches are sorted directly

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


# Search Resource=TrainingJob sees training jobs only (processing jobs share the table).
TRAINING = "kind = 'training'"


class SearchIndex:
    def __init__(self, db: Database) -> None:
        self.db = db

    def stale(self, limit: int = 1000) -> list[tuple[str, int]]:
        """(name, version) of jobs whose index rows are out of date."""
        rows = self.db.read().execute(
            "SELECT name, version FROM jobs WHERE version != indexed_version"
            " AND +kind = 'training' LIMIT ?",  # +: the partial index of unindexed jobs
            (limit,),
        )
        return [(row["name"], row["version"]) for row in rows]

    def replace(self, entries: Sequence[tuple[str, int, list[Row]]]) -> None:
        """Store each job's rows as of `version`; a job changed meanwhile stays stale, and one
        deleted meanwhile (DeleteTrainingJob) gets no rows."""
        with self.db.write() as conn:
            for name, version, rows in entries:
                conn.execute("DELETE FROM search_props WHERE job = ?", (name,))
                marked = conn.execute(
                    "UPDATE jobs SET indexed_version = ? WHERE name = ?", (version, name)
                )
                if marked.rowcount == 0:
                    continue  # the job is gone: indexing it would outlive it
                conn.executemany(
                    "INSERT INTO search_props (job, path, elem, seq, text, num)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    [(name, r.path, r.elem, r.seq, r.text, r.num) for r in rows],
                )

    def estimate(self, query: tuple[str, list[Any]], cap: int) -> int:
        """How many rows a query yields, counting no further than `cap` (cheap to ask)."""
        sql, params = query
        row = (
            self.db.read()
            .execute(f"SELECT count(*) FROM (SELECT 1 FROM ({sql}) LIMIT ?)", [*params, cap])
            .fetchone()
        )
        return int(row[0])

    def query(
        self,
        matching: tuple[str, list[Any]] | None,
        sort: SortKey,
        limit: int,
        token: str | None,
        digest: str,
    ) -> Page:
        """One page of matching job names in sort order, and how many match in all.

        The matches are computed once into a temporary table. A few are sorted directly; many
        are found by walking the sort property's index in order until the page is full.
        """
        conn = self.db.read()
        position = _decode(token, digest) if token else None
        if matching is None:
            total = int(conn.execute(f"SELECT count(*) FROM jobs WHERE {TRAINING}").fetchone()[0])
            member = ""
        else:
            total = _materialize(conn, matching)
            # Unary +: the membership filters the walk along the sort index; without it SQLite
            # may drive from the matches and sort them all (5.7 ms vs 0.04 ms at 3,400 matches).
            member = "+j.name IN (SELECT job FROM temp.search_match)"
        few = matching is not None and total <= FEW_MATCHES
        rows = _page(conn, sort, member, position, limit + 1, few)
        next_token = None
        if len(rows) > limit:
            name, value = rows[limit - 1]
            next_token = _encode(value, name, digest)
        return Page([name for name, _ in rows[:limit]], next_token, total)


def _materialize(conn: sqlite3.Connection, matching: tuple[str, list[Any]]) -> int:
    sql, params = matching
    conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS search_match (job TEXT PRIMARY KEY) WITHOUT ROWID"
    )
    conn.execute("DELETE FROM temp.search_match")
    conn.execute(f"INSERT OR IGNORE INTO temp.search_match SELECT job FROM ({sql})", params)
    return int(conn.execute("SELECT count(*) FROM temp.search_match").fetchone()[0])


def _page(
    conn: sqlite3.Connection,
    sort: SortKey,
    member: str,
    position: tuple[Any, str] | None,
    count: int,
    few: bool,
) -> list[tuple[str, Any]]:
    direction = "DESC" if sort.descending else "ASC"
    if sort.property not in _JOB_COLUMNS:
        return _property_page(conn, sort, member, position, count, direction)
    key = _JOB_COLUMNS[sort.property]  # never missing: the column's index gives the order
    after, params = _after_present(position, key, sort.descending)
    # Few matches: read them (CROSS JOIN keeps them the outer loop) and sort them. Many: walk
    # the sort column's index, keeping the members, until the page is full.
    where = [c for c in (after, "" if few else member, f"j.{TRAINING}") if c]
    source = "temp.search_match m CROSS JOIN jobs j ON j.name = m.job" if few else "jobs j"
    order = f"{key} {direction}, j.name {direction}"
    return _fetch(conn, f"SELECT j.name, {key} FROM {source}", where, params, order, count)


def _property_page(
    conn: sqlite3.Connection,
    sort: SortKey,
    member: str,
    position: tuple[Any, str] | None,
    count: int,
    direction: str,
) -> list[tuple[str, Any]]:
    """Jobs with a value for the sort property, in its index order; then those without."""
    column = f"sp.{sort.column}"
    rows: list[tuple[str, Any]] = []
    if position is None or position[0] is not None:
        where = ["sp.path = ?", "sp.seq = 0", f"{column} IS NOT NULL"]
        if member:
            where.append(member.replace("j.name", "sp.job"))
        after, params = _after_present(position, column, sort.descending, name="sp.job")
        if after:
            where.append(after)
        order = f"{column} {direction}, sp.job {direction}"
        select = f"SELECT sp.job, {column} FROM search_props sp"
        rows = _fetch(conn, select, where, [sort.property, *params], order, count)
    if len(rows) < count:
        where = [
            "j.name NOT IN (SELECT job FROM search_props WHERE path = ? AND seq = 0"
            f" AND {sort.column} IS NOT NULL)"
        ]
        params = [sort.property]
        where.append(f"j.{TRAINING}")
        if member:
            where.append(member)
        if position is not None and position[0] is None:
            where.append(f"j.name {'<' if direction == 'DESC' else '>'} ?")
            params.append(position[1])
        select = "SELECT j.name, NULL FROM jobs j"
        rows += _fetch(conn, select, where, params, f"j.name {direction}", count - len(rows))
    return rows


def _fetch(
    conn: sqlite3.Connection,
    select: str,
    where: list[str],
    params: list[Any],
    order: str,
    count: int,
) -> list[tuple[str, Any]]:
    clause = f" WHERE {' AND '.join(where)}" if where else ""
    rows = conn.execute(f"{select}{clause} ORDER BY {order} LIMIT ?", [*params, count])
    return [(row[0], row[1]) for row in rows]


def _after_present(
    position: tuple[Any, str] | None, key: str, descending: bool, name: str = "j.name"
) -> tuple[str, list[Any]]:
    """Rows after `position` among rows that have a value (a row value uses the index)."""
    if position is None or position[0] is None:
        return "", []
    return f"({key}, {name}) {'<' if descending else '>'} (?, ?)", [position[0], position[1]]


def _encode(value: Any, name: str, digest: str) -> str:
    return encode_token({"k": value, "n": name, "q": digest})


def _decode(token: str, digest: str) -> tuple[Any, str]:
    data = decode_token(token)
    if data is None or not isinstance(data.get("n"), str) or "k" not in data:
        raise ValidationError("Invalid NextToken: it does not come from a previous response.")
    if data.get("q") != digest:
        raise ValidationError(
            "Invalid NextToken: it belongs to a search with another expression or sort."
        )
    return data["k"], data["n"]


def request_digest(document: Any) -> str:
    """Identifies a search (expression and sort) so a token cannot be used with another."""
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:16]
