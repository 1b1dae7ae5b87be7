"""The metric store: series, running summaries and BatchGetMetrics aggregation."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from orchestrator.store.db import Database
from orchestrator.store.metrics import MetricStore, NewPoint

R = "arn:aws:sagemaker:us-east-1:123456789012:training-job/j"


@pytest.fixture
def metrics(tmp_path: Path) -> MetricStore:
    store = MetricStore(Database(tmp_path / "db.sqlite"))
    # three minutes of loss, two points a minute, in two batches
    store.append(R, [NewPoint("loss", 60.0 * (i // 2) + i, 10.0 - i) for i in range(3)])
    store.append(R, [NewPoint("loss", 60.0 * (i // 2) + i, 10.0 - i) for i in range(3, 6)])
    return store


def test_series_and_summary(metrics: MetricStore) -> None:
    series = metrics.series(R, "loss")
    assert [p.iteration for p in series] == [0, 1, 2, 3, 4, 5]
    assert [p.value for p in series] == [10, 9, 8, 7, 6, 5]
    (summary,) = metrics.summaries(R)
    assert (summary.last, summary.minimum, summary.maximum, summary.count) == (5, 5, 10, 6)


def test_last_is_the_latest_by_time_not_arrival(metrics: MetricStore) -> None:
    metrics.append(R, [NewPoint("loss", 1.0, 100.0)])  # late arrival of an old point
    (summary,) = metrics.summaries(R)
    assert summary.last == 5 and summary.maximum == 100 and summary.count == 7


@pytest.mark.parametrize(
    ("stat", "expected"),
    [
        ("Min", [9, 7, 5]),
        ("Max", [10, 8, 6]),
        ("Avg", [9.5, 7.5, 5.5]),
        ("Count", [2, 2, 2]),
        ("StdDev", [0.5, 0.5, 0.5]),
        ("Last", [9, 7, 5]),
    ],
)
def test_statistics_per_minute(metrics: MetricStore, stat: str, expected: list[float]) -> None:
    xs, ys, truncated = metrics.aggregate(R, "loss", stat, "OneMinute", "Timestamp")
    assert xs == [0, 60, 120] and not truncated
    assert ys == pytest.approx(expected)


def test_iteration_buckets_and_mixed_axes(metrics: MetricStore) -> None:
    xs, ys, _ = metrics.aggregate(R, "loss", "Last", "IterationNumber", "IterationNumber")
    assert xs == [0, 1, 2, 3, 4, 5] and ys == [10, 9, 8, 7, 6, 5]
    xs, _, _ = metrics.aggregate(R, "loss", "Last", "OneHour", "IterationNumber")
    assert xs == [5]  # the hour's latest point is iteration 5
    xs, _, _ = metrics.aggregate(R, "loss", "Avg", "IterationNumber", "Timestamp")
    assert xs == [0, 1, 62, 63, 124, 125]


def test_start_end_and_truncation(metrics: MetricStore) -> None:
    xs, _, _ = metrics.aggregate(R, "loss", "Count", "OneMinute", "Timestamp", start=60, end=119)
    assert xs == [60]
    xs, _, truncated = metrics.aggregate(
        R, "loss", "Last", "IterationNumber", "IterationNumber", limit=4
    )
    assert xs == [0, 1, 2, 3] and truncated


def test_given_steps_are_the_iteration(metrics: MetricStore) -> None:
    metrics.append(R, [NewPoint("acc", 5.0, 0.5, step=10), NewPoint("acc", 6.0, 0.7, step=20)])
    assert [p.iteration for p in metrics.series(R, "acc")] == [10, 20]
    assert metrics.steps_taken(R, "acc", [10, 11]) == {10}
    assert math.isclose(metrics.summaries(R)[0].last, 0.7)
