"""The CloudWatch metrics subset, on a store: periods, statistics, and the service's errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from orchestrator.api.cloudwatch import NAMESPACE, CloudWatchApi
from orchestrator.errors import ProtocolError
from orchestrator.store.db import Database
from orchestrator.store.jobs import JobStore
from orchestrator.store.metrics import MetricStore, NewPoint

ARN = "arn:aws:sagemaker:us-east-1:000000000000:training-job/job-1"
T0 = 1_700_000_040.0  # on a minute boundary


@pytest.fixture
def api(tmp_path: Path) -> CloudWatchApi:
    db = Database(tmp_path / "db.sqlite")
    jobs, metrics = JobStore(db), MetricStore(db)
    jobs.insert("job-1", ARN, {"TrainingJobName": "job-1"}, T0)
    values = [4.0, 2.0, 3.0, 1.0]  # two in the first minute, two in the next
    metrics.append(
        ARN, [NewPoint("loss", T0 + t, v) for t, v in zip((1, 30, 61, 90), values, strict=True)]
    )
    return CloudWatchApi(jobs, metrics)


def _ask(api: CloudWatchApi, **changes: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "Namespace": NAMESPACE,
        "MetricName": "loss",
        "Dimensions": [{"Name": "TrainingJobName", "Value": "job-1"}],
        "StartTime": T0,
        "EndTime": T0 + 120,
        "Period": 60,
        "Statistics": ["Average", "Minimum", "SampleCount"],
    }
    request.update(changes)
    return api.get_metric_statistics(request)


def test_points_are_grouped_by_period_on_period_boundaries(api: CloudWatchApi) -> None:
    points = _ask(api)["Datapoints"]
    assert [(p["Timestamp"].timestamp(), p["Average"], p["Minimum"]) for p in points] == [
        (T0, 3.0, 2.0),
        (T0 + 60, 2.0, 1.0),
    ]
    assert [p["SampleCount"] for p in _ask(api, EndTime=T0 + 61)["Datapoints"]] == [2.0]
    host = [{"Name": "Host", "Value": "job-1/algo-1"}]
    assert len(_ask(api, Dimensions=host)["Datapoints"]) == 2
    assert _ask(api, Dimensions=[{"Name": "Host", "Value": "job-1/algo-9"}])["Datapoints"] == []
    assert _ask(api, Namespace="AWS/EC2")["Datapoints"] == []
    iso = _ask(api, StartTime="2023-11-14T22:14:00Z", EndTime="2023-11-14T22:16:00Z")
    assert len(iso["Datapoints"]) == 2  # the same window, as ISO 8601 strings


def test_percentiles(api: CloudWatchApi) -> None:
    points = _ask(api, Statistics=None, ExtendedStatistics=["p50", "p100"])["Datapoints"]
    assert points[0]["ExtendedStatistics"] == {"p50": 2.0, "p100": 4.0}


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"StartTime": T0 + 120, "EndTime": T0}, "InvalidParameterValue"),
        ({"EndTime": float("inf")}, "InvalidParameterValue"),
        ({"StartTime": "yesterday"}, "InvalidParameterValue"),
        ({"ExtendedStatistics": ["p90"]}, "InvalidParameterCombination"),
        ({"Statistics": None}, "InvalidParameterCombination"),
        ({"Statistics": None, "ExtendedStatistics": ["median"]}, "InvalidParameterValue"),
        ({"Period": 1, "EndTime": T0 + 5000}, "InvalidParameterCombination"),
    ],
)
def test_the_services_errors(api: CloudWatchApi, changes: dict[str, Any], code: str) -> None:
    request = {**_base(), **changes}
    request = {key: value for key, value in request.items() if value is not None}
    with pytest.raises(ProtocolError) as refused:
        api.get_metric_statistics(request)
    assert refused.value.code == code


def _base() -> dict[str, Any]:
    return {
        "Namespace": NAMESPACE,
        "MetricName": "loss",
        "StartTime": T0,
        "EndTime": T0 + 120,
        "Period": 60,
        "Statistics": ["Average"],
    }
