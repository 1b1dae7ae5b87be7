"""Metric time series: one row per point, and a running summary per (resource, metric).

A resource is a training job's ARN or a trial component's ARN. Points are keyed by a
per-metric sequence number; the iteration number of a point is its Step if it was given one
(BatchPutMetrics), else its sequence number (scraped points count 0, 1, 2, ...).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from orchestrator.store.db import Database

PERIOD_SECONDS = {"OneMinute": 60, "FiveMinute": 300, "OneHour": 3600}
_AGGREGATES = {
    "Min": "min(value)",
    "Max": "max(value)",
    "Avg": "avg(value)",
    "Count": "count(*)",
    # population standard deviation from the bucket's sums
    "StdDev": "sqrt(max(avg(value * value) - avg(value) * avg(value), 0))",
}


@dataclass(frozen=True)
class NewPoint:
    metric: str
    timestamp: float
    value: float
    step: int | None = None


@dataclass(frozen=True)
class StoredPoint:
    iteration: int
    timestamp: float
    value: float


@dataclass(frozen=True)
class MetricSummary:
    metric: str
    last: float
    last_timestamp: float
    minimum: float
    maximum: float
    count: int


class MetricStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    def append(
        self,
        resource: str,
        points: Sequence[NewPoint],
        job: str | None = None,
        scraped_lines: int | None = None,
        host: str = "algo-1",
    ) -> None:
        """Store points; with `job`, also record how many lines of the host's log they cover,
        in the same transaction, so a stream's scrape position and its points never disagree."""
        with self.db.write() as conn:
            if points:
                self._insert(conn, resource, points)
                # A training job's final metrics are searchable: its index entry is stale now.
                conn.execute("UPDATE jobs SET version = version + 1 WHERE arn = ?", (resource,))
            if job is not None and scraped_lines is not None:
                conn.execute(
                    "INSERT INTO log_streams (job, host, scraped_lines) VALUES (?, ?, ?)"
                    " ON CONFLICT (job, host) DO UPDATE SET scraped_lines = excluded.scraped_lines",
                    (job, host, scraped_lines),
                )

    def _insert(self, conn: sqlite3.Connection, resource: str, points: Sequence[NewPoint]) -> None:
        next_seq = self._next_seqs(conn, resource, {p.metric for p in points})
        rows: list[PointRow] = []
        for point in points:
            seq = next_seq[point.metric]
            next_seq[point.metric] = seq + 1
            rows.append((resource, point.metric, seq, point.step, point.timestamp, point.value))
        conn.executemany(
            "INSERT INTO metric_points (resource, metric, seq, step, timestamp, value)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            rows,
        )
        conn.executemany(_UPSERT_SUMMARY, _summaries(resource, rows))

    @staticmethod
    def _next_seqs(conn: sqlite3.Connection, resource: str, metrics: set[str]) -> dict[str, int]:
        marks = ",".join("?" * len(metrics))
        rows = conn.execute(
            f"SELECT metric, seq FROM metric_summary WHERE resource = ? AND metric IN ({marks})",
            (resource, *metrics),
        )
        found = {row["metric"]: row["seq"] + 1 for row in rows}
        return {metric: found.get(metric, 0) for metric in metrics}

    def metric_count(self, resource: str) -> int:
        row = (
            self.db.read()
            .execute("SELECT count(*) FROM metric_summary WHERE resource = ?", (resource,))
            .fetchone()
        )
        return int(row[0])

    def known_metrics(self, resource: str) -> set[str]:
        rows = self.db.read().execute(
            "SELECT metric FROM metric_summary WHERE resource = ?", (resource,)
        )
        return {row["metric"] for row in rows}

    def steps_taken(self, resource: str, metric: str, steps: Iterable[int]) -> set[int]:
        """Which of these steps already hold a point of this metric."""
        wanted = list(steps)
        if not wanted:
            return set()
        marks = ",".join("?" * len(wanted))
        rows = self.db.read().execute(
            f"SELECT step FROM metric_points WHERE resource = ? AND metric = ?"
            f" AND step IN ({marks})",
            (resource, metric, *wanted),
        )
        return {row["step"] for row in rows}

    def moments(self, resource: str) -> dict[str, tuple[int, float, float]]:
        """Each metric's (count, sum, sum of squares) of its points, in one query."""
        rows = self.db.read().execute(
            "SELECT metric, count(*), total(value), total(value * value) FROM metric_points"
            " WHERE resource = ? GROUP BY metric",
            (resource,),
        )
        return {row[0]: (int(row[1]), float(row[2]), float(row[3])) for row in rows}

    def resources(self, prefix: str) -> list[str]:
        """Every resource with metrics whose ARN starts with `prefix`."""
        rows = self.db.read().execute(
            "SELECT DISTINCT resource FROM metric_summary WHERE resource >= ? AND resource < ?"
            " ORDER BY resource",
            (prefix, prefix + "\uffff"),
        )
        return [row["resource"] for row in rows]

    def summaries(self, resource: str) -> list[MetricSummary]:
        rows = self.db.read().execute(
            "SELECT metric, last, last_timestamp, minimum, maximum, count FROM metric_summary"
            " WHERE resource = ? ORDER BY metric",
            (resource,),
        )
        return [MetricSummary(**dict(row)) for row in rows]

    def series(self, resource: str, metric: str) -> list[StoredPoint]:
        rows = self.db.read().execute(
            "SELECT coalesce(step, seq) AS iteration, timestamp, value FROM metric_points"
            " WHERE resource = ? AND metric = ? ORDER BY seq",
            (resource, metric),
        )
        return [StoredPoint(**dict(row)) for row in rows]

    def aggregate(
        self,
        resource: str,
        metric: str,
        stat: str,
        period: str,
        x_axis: str,
        start: float | None = None,
        end: float | None = None,
        limit: int = 10_000,
    ) -> tuple[list[int], list[float], bool]:
        """(x values, statistic per bucket, truncated) for a BatchGetMetrics query."""
        bucket = (
            "coalesce(step, seq)"
            if period == "IterationNumber"
            else f"CAST(timestamp / {PERIOD_SECONDS[period]} AS INTEGER) * {PERIOD_SECONDS[period]}"
        )
        # Within a bucket, the latest point (by time, then arrival) stands for it: its value is
        # Last, and its iteration or timestamp is the x value when the axis differs from the
        # bucket.
        x_value = (
            "bucket"
            if (period == "IterationNumber") == (x_axis == "IterationNumber")
            else "CAST(timestamp AS INTEGER)"
            if x_axis == "Timestamp"
            else "coalesce(step, seq)"
        )
        stat_sql = "value" if stat == "Last" else _AGGREGATES[stat]
        sql = (
            f"SELECT {x_value} AS x, {stat_sql} AS y, max(timestamp * 1e6 + seq) AS latest"
            f" FROM (SELECT *, {bucket} AS bucket FROM metric_points"
            " WHERE resource = ? AND metric = ? AND timestamp >= ? AND timestamp <= ?)"
            " GROUP BY bucket ORDER BY bucket LIMIT ?"
        )
        rows = (
            self.db.read()
            .execute(
                sql, (resource, metric, start or 0.0, end if end is not None else 1e18, limit + 1)
            )
            .fetchall()
        )
        truncated = len(rows) > limit
        rows = rows[:limit]
        return [int(r["x"]) for r in rows], [float(r["y"]) for r in rows], truncated


# SQLite gives the bare columns (value, timestamp, seq) of the row holding max(...) in an
# aggregate query; the summary upsert keeps the latest point by time as "last".
_UPSERT_SUMMARY = """
INSERT INTO metric_summary (resource, metric, seq, last, last_timestamp, minimum, maximum, count)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (resource, metric) DO UPDATE SET
    seq = max(seq, excluded.seq),
    last = CASE WHEN excluded.last_timestamp >= last_timestamp THEN excluded.last ELSE last END,
    last_timestamp = max(last_timestamp, excluded.last_timestamp),
    minimum = min(minimum, excluded.minimum),
    maximum = max(maximum, excluded.maximum),
    count = count + excluded.count
"""


PointRow = tuple[str, str, int, "int | None", float, float]


@dataclass
class _Running:
    seq: int
    last: float
    last_timestamp: float
    minimum: float
    maximum: float
    count: int = 1

    def add(self, seq: int, timestamp: float, value: float) -> None:
        self.seq = max(self.seq, seq)
        if timestamp >= self.last_timestamp:
            self.last, self.last_timestamp = value, timestamp
        self.minimum, self.maximum = min(self.minimum, value), max(self.maximum, value)
        self.count += 1


def _summaries(resource: str, rows: list[PointRow]) -> list[tuple[object, ...]]:
    """One summary row per metric of a batch of point rows."""
    running: dict[str, _Running] = {}
    for _, metric, seq, _, timestamp, value in rows:
        if metric in running:
            running[metric].add(seq, timestamp, value)
        else:
            running[metric] = _Running(seq, value, timestamp, value, value)
    return [
        (resource, metric, r.seq, r.last, r.last_timestamp, r.minimum, r.maximum, r.count)
        for metric, r in running.items()
    ]
