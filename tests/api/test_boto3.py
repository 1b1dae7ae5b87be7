"""Unmodified boto3 against `orchestrator serve`, on real containers."""

from __future__ import annotations

from typing import Any

import botocore.exceptions
import pytest

from tests.api.conftest import ShapeChecker, client
from tests.integration.conftest import job

pytestmark = pytest.mark.docker
TRIAL_ARN = "arn:aws:sagemaker:us-east-1:000000000000:experiment-trial-component/trial-1"


def _wait(sm: Any, name: str) -> dict[str, Any]:
    sm.get_waiter("training_job_completed_or_stopped").wait(
        TrainingJobName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    response: dict[str, Any] = sm.describe_training_job(TrainingJobName=name)
    return response


def _code(error: botocore.exceptions.ClientError) -> str:
    return str(error.response["Error"]["Code"])


def test_a_job_over_the_api(sm: Any, shapes: ShapeChecker) -> None:
    request = job("api-job", ["metrics", "5", "0"], Tags=[{"Key": "team", "Value": "ml"}])
    request["AlgorithmSpecification"]["MetricDefinitions"] = [
        {"Name": "loss", "Regex": r"loss=([0-9.]+)"}
    ]
    arn = sm.create_training_job(**request)["TrainingJobArn"]
    assert arn.endswith(":training-job/api-job")
    described = _wait(sm, "api-job")
    assert described["TrainingJobStatus"] == "Completed"
    assert described["FinalMetricDataList"][0]["MetricName"] == "loss"
    assert [t["Status"] for t in described["SecondaryStatusTransitions"]][-1] == "Completed"
    listed = sm.list_training_jobs(StatusEquals="Completed", SortBy="Name")
    assert [s["TrainingJobName"] for s in listed["TrainingJobSummaries"]] == ["api-job"]
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "ml"}]
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": "stage", "Value": "dev"}])
    sm.delete_tags(ResourceArn=arn, TagKeys=["team"])
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "stage", "Value": "dev"}]
    profiler = {"S3OutputPath": "s3://artifacts/profiler"}
    assert (
        sm.update_training_job(TrainingJobName="api-job", ProfilerConfig=profiler)["TrainingJobArn"]
        == arn
    )
    assert sm.describe_training_job(TrainingJobName="api-job")["ProfilerConfig"] == profiler
    assert shapes.checked >= 9


def test_errors_are_the_services(sm: Any) -> None:
    sm.create_training_job(**job("twice", ["exit", "3"]))
    with pytest.raises(sm.exceptions.ResourceInUse):
        sm.create_training_job(**job("twice", ["exit", "3"]))
    with pytest.raises(botocore.exceptions.WaiterError, match="terminal failure state"):
        _wait(sm, "twice")  # the waiter fails on Failed, as against AWS
    failed = sm.describe_training_job(TrainingJobName="twice")
    assert failed["FailureReason"].endswith("exited with code 3")
    with pytest.raises(botocore.exceptions.ClientError) as missing:
        sm.describe_training_job(TrainingJobName="nope")
    assert _code(missing.value) == "ValidationException"
    assert "Requested resource not found" in str(missing.value)
    with pytest.raises(botocore.exceptions.ClientError) as untagged:
        sm.list_tags(ResourceArn="arn:aws:sagemaker:us-east-1:000000000000:training-job/nope")
    assert _code(untagged.value) == "ValidationException"  # as the service answers
    with pytest.raises(botocore.exceptions.ClientError) as ended:
        sm.stop_training_job(TrainingJobName="twice")
    assert _code(ended.value) == "ValidationException" and "already ended" in str(ended.value)
    with pytest.raises(botocore.exceptions.ClientError) as bad:
        sm.create_training_job(**job("bad", RoleArn="arn:aws:iam::1:role/x"))
    assert _code(bad.value) == "ValidationException" and "roleArn" in str(bad.value)
    with pytest.raises(botocore.exceptions.ClientError) as warm:
        sm.update_training_job(
            TrainingJobName="twice", ResourceConfig={"KeepAlivePeriodInSeconds": 60}
        )
    assert "no Available warm pool" in str(warm.value)
    with pytest.raises(botocore.exceptions.ClientError) as search:
        sm.search(Resource="TrainingJob", SearchExpression={"Filters": [{"Name": "Nope"}]})
    assert "Unknown property name 'Nope'" in str(search.value)
    found = sm.search(
        Resource="TrainingJob",
        SearchExpression={
            "Filters": [
                {"Name": "TrainingJobStatus", "Value": "Failed"},
                {"Name": "FailureReason", "Operator": "Contains", "Value": "code 3"},
            ]
        },
    )
    assert [r["TrainingJob"]["TrainingJobName"] for r in found["Results"]] == ["twice"]
    assert found["TotalHits"] == {"Value": 1, "Relation": "EqualTo"}


def test_stop_over_the_api(sm: Any) -> None:
    sm.create_training_job(**job("api-stop", ["sleep", "120"]))
    waiter_config = {"Delay": 0.2, "MaxAttempts": 100}
    while sm.describe_training_job(TrainingJobName="api-stop")["SecondaryStatus"] != "Training":
        pass
    sm.stop_training_job(TrainingJobName="api-stop")
    sm.get_waiter("training_job_completed_or_stopped").wait(
        TrainingJobName="api-stop", WaiterConfig=waiter_config
    )
    described = sm.describe_training_job(TrainingJobName="api-stop")
    assert (described["TrainingJobStatus"], described["SecondaryStatus"]) == ("Stopped",) * 2


def test_metrics_and_logs_clients(sm: Any, shapes: ShapeChecker) -> None:
    metrics = client("sagemaker-metrics", shapes)
    logs = client("logs", shapes)
    put = metrics.batch_put_metrics(
        TrialComponentName="trial-1",
        MetricData=[
            {"MetricName": "loss", "Timestamp": 1_700_000_000, "Value": 0.5, "Step": 0},
            {"MetricName": "loss", "Timestamp": 1_700_000_001, "Value": float("inf"), "Step": 1},
        ],
    )
    assert put["Errors"] == [{"Code": "VALIDATION_ERROR", "MetricIndex": 1}]
    got = metrics.batch_get_metrics(
        MetricQueries=[
            {
                "MetricName": "loss",
                "ResourceArn": TRIAL_ARN,
                "MetricStat": "Last",
                "Period": "IterationNumber",
                "XAxisType": "IterationNumber",
            }
        ]
    )
    assert got["MetricQueryResults"][0]["MetricValues"] == [0.5]

    sm.create_training_job(**job("logged", ["metrics", "5", "0"]))
    _wait(sm, "logged")
    group = "/aws/sagemaker/TrainingJobs"
    streams = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix="logged/")
    (stream,) = [s["logStreamName"] for s in streams["logStreams"]]
    assert stream.startswith("logged/algo-1-")
    seen, token = [], None
    while True:
        page = logs.get_log_events(
            logGroupName=group,
            logStreamName=stream,
            startFromHead=True,
            limit=2,
            **({"nextToken": token} if token else {}),
        )
        seen += [e["message"] for e in page["events"]]
        if page["nextForwardToken"] == token:
            break
        token = page["nextForwardToken"]
    assert seen == [f"step={i} loss={1 / (i + 1):.6f} accuracy=nan" for i in range(5)]
    tail = logs.get_log_events(logGroupName=group, logStreamName=stream, limit=2)
    assert [e["message"][:6] for e in tail["events"]] == ["step=3", "step=4"]
    found = logs.filter_log_events(
        logGroupName=group, logStreamNamePrefix="logged", filterPattern='"step=2" -nothing'
    )
    assert [e["message"][:6] for e in found["events"]] == ["step=2"]
    with pytest.raises(logs.exceptions.ResourceNotFoundException):
        logs.get_log_events(logGroupName=group, logStreamName="logged/algo-1-0")
