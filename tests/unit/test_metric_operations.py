"""BatchPutMetrics and BatchGetMetrics: per-item errors, request errors, output shapes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from orchestrator.errors import ValidationError
from orchestrator.metrics import operations
from orchestrator.metrics.operations import batch_get_metrics, batch_put_metrics
from orchestrator.operations import training_jobs as service
from orchestrator.validation.model import shape_errors
from tests.unit.harness import Harness, request

TC = "arn:aws:sagemaker:us-east-1:123456789012:experiment-trial-component/trial-1"


@pytest.fixture
def h(tmp_path: Path) -> Harness:
    return Harness(tmp_path)


def put(h: Harness, *items: dict[str, Any]) -> dict[str, Any]:
    response = batch_put_metrics(
        h.metrics, TC, {"TrialComponentName": "trial-1", "MetricData": list(items)}
    )
    assert shape_errors(response, "BatchPutMetricsResponse", "sagemaker-metrics") == []
    return response


def point(name: str = "loss", value: Any = 1.0, **extra: Any) -> dict[str, Any]:
    return {"MetricName": name, "Timestamp": 1_700_000_000, "Value": value, **extra}


def get(h: Harness, resource: str, **query: Any) -> dict[str, Any]:
    q = {
        "MetricName": "loss",
        "ResourceArn": resource,
        "MetricStat": "Last",
        "Period": "IterationNumber",
        "XAxisType": "IterationNumber",
        **query,
    }
    response = batch_get_metrics(h.metrics, h.store, {"MetricQueries": [q]})
    assert shape_errors(response, "BatchGetMetricsResponse", "sagemaker-metrics") == []
    result: dict[str, Any] = response["MetricQueryResults"][0]
    return result


def test_points_are_stored_and_read_back(h: Harness) -> None:
    assert put(h, point(value=3.0, Step=0), point(value=2.0, Step=1)) == {}
    assert get(h, TC) == {"Status": "Complete", "XAxisValues": [0, 1], "MetricValues": [3.0, 2.0]}


def test_bad_items_are_refused_one_by_one(h: Harness) -> None:
    response = put(
        h,
        point(),
        point(value=float("nan")),
        point(Step=-1),
        {"MetricName": "", "Timestamp": 1, "Value": 1.0},
        point(value="x"),
        point(Timestamp="not a time"),
        point(name="ok"),
    )
    assert [e["MetricIndex"] for e in response["Errors"]] == [1, 2, 3, 4, 5]
    assert {e["Code"] for e in response["Errors"]} == {"VALIDATION_ERROR"}
    assert {s.metric for s in h.metrics.summaries(TC)} == {"loss", "ok"}


def test_a_second_value_for_a_step_is_a_conflict(h: Harness) -> None:
    put(h, point(Step=5))
    response = put(h, point(Step=5), point(Step=6), point(Step=6))
    assert response["Errors"] == [
        {"Code": "CONFLICT_ERROR", "MetricIndex": 0},
        {"Code": "CONFLICT_ERROR", "MetricIndex": 2},
    ]


def test_too_many_metrics(h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(operations, "MAX_METRICS_PER_RESOURCE", 2)
    response = put(h, point("a"), point("b"), point("c"), point("a"))
    assert response["Errors"] == [{"Code": "METRIC_LIMIT_EXCEEDED", "MetricIndex": 2}]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"TrialComponentName": "Bad_Name", "MetricData": [point()]}, "trialComponentName"),
        ({"TrialComponentName": "t", "MetricData": [point()] * 11}, "length less than or equal"),
        ({"TrialComponentName": "t", "MetricData": []}, "length greater than or equal to 1"),
        ({"MetricData": [point()]}, "trialComponentName"),
    ],
)
def test_request_errors(h: Harness, body: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        batch_put_metrics(h.metrics, TC, body)


def test_queries_on_unknown_resources_and_bad_queries(h: Harness) -> None:
    unknown = get(h, TC.replace("trial-1", "nothing"))
    assert unknown["Status"] == "ValidationError" and "not found" in unknown["Message"]
    with pytest.raises(ValidationError, match="metricStat"):
        get(h, TC, MetricStat="Median")


def test_a_training_job_is_a_metric_resource(h: Harness) -> None:
    h.program(
        "fake/ok:latest",
        duration=5,
        lines=["step 1 loss=0.5", "step 2 loss=0.25", "loss=nan", "step 3 loss=0.125"],
    )
    algo = {
        "TrainingImage": "fake/ok:latest",
        "TrainingInputMode": "File",
        "MetricDefinitions": [{"Name": "loss", "Regex": "loss=([^ ]+)"}],
    }
    h.run(request(AlgorithmSpecification=algo))
    arn = h.store.require("job-1").arn
    assert get(h, arn)["MetricValues"] == [0.5, 0.25, 0.125]
    final = service.describe(h.store, "job-1", h.metrics)["FinalMetricDataList"]
    assert [(m["MetricName"], m["Value"]) for m in final] == [("loss", 0.125)]
    assert get(h, arn, MetricName="other") == {
        "Status": "Complete",
        "XAxisValues": [],
        "MetricValues": [],
    }


def test_metric_definitions_are_validated_at_create(h: Harness) -> None:
    algo = {
        "TrainingImage": "fake/ok:latest",
        "TrainingInputMode": "File",
        "MetricDefinitions": [{"Name": "loss", "Regex": "loss=[0-9]+"}],
    }
    with pytest.raises(ValidationError, match=r"MetricDefinitions\[0\] \('loss'\)"):
        h.supervisor(request(AlgorithmSpecification=algo))
    too_many = [{"Name": f"m{i}", "Regex": "(x)"} for i in range(41)]
    algo["MetricDefinitions"] = too_many
    with pytest.raises(ValidationError, match=r"algorithmSpecification\.metricDefinitions"):
        h.supervisor(request(AlgorithmSpecification=algo))
