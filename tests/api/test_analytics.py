"""The SageMaker SDK's analytics against `orchestrator serve`: TrainingJobAnalytics reads
CloudWatch metrics (Smithy RPC v2 CBOR, as botocore speaks it), ExperimentAnalytics reads
trial components through Search."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

import botocore.exceptions
import pytest

from orchestrator import Orchestrator
from orchestrator.api.server import ApiServer
from tests.api.conftest import ShapeChecker, client
from tests.api.test_wire import call
from tests.integration.conftest import job

pytestmark = pytest.mark.docker

NAMESPACE = "/aws/sagemaker/TrainingJobs"


def _metrics_job(sm: Any, name: str, **changes: Any) -> dict[str, Any]:
    request = job(name, ["metrics", "4", "1.1"], **changes)
    request["AlgorithmSpecification"]["MetricDefinitions"] = [
        {"Name": "loss", "Regex": r"loss=([0-9.]+)"}
    ]
    request["HyperParameters"] = {"learning_rate": "0.1", "optimizer": "adam"}
    sm.create_training_job(**request)
    with contextlib.suppress(botocore.exceptions.WaiterError):  # a failure says why below
        sm.get_waiter("training_job_completed_or_stopped").wait(
            TrainingJobName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
        )
    described: dict[str, Any] = sm.describe_training_job(TrainingJobName=name)
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    return described


def test_cloudwatch_metrics_of_a_training_job(
    sm: Any, orch: Orchestrator, shapes: ShapeChecker
) -> None:
    described = _metrics_job(sm, "cw-job")
    cloudwatch = client("cloudwatch", shapes)
    listed = cloudwatch.list_metrics(Namespace=NAMESPACE, MetricName="loss")["Metrics"]
    dimensions = [m["Dimensions"] for m in listed]
    assert [{"Name": "TrainingJobName", "Value": "cw-job"}] in dimensions
    assert [{"Name": "Host", "Value": "cw-job/algo-1"}] in dimensions
    start = described["TrainingStartTime"] - dt.timedelta(minutes=1)
    end = described["TrainingEndTime"] + dt.timedelta(minutes=1)
    answer = cloudwatch.get_metric_statistics(
        Namespace=NAMESPACE,
        MetricName="loss",
        Dimensions=[{"Name": "TrainingJobName", "Value": "cw-job"}],
        StartTime=start,
        EndTime=end,
        Period=1,
        Statistics=["Average", "Maximum", "SampleCount"],
    )
    points = orch.metric_series("cw-job", "loss")
    got = sorted((d["Timestamp"].timestamp(), d["Average"]) for d in answer["Datapoints"])
    assert [value for _, value in got] == [p.value for p in points]
    assert all(d["SampleCount"] == 1 for d in answer["Datapoints"])
    with pytest.raises(cloudwatch.exceptions.ClientError):
        cloudwatch.get_metric_statistics(
            Namespace=NAMESPACE, MetricName="loss", StartTime=end, EndTime=start, Period=60
        )
    assert shapes.checked >= 2


def test_training_job_analytics_dataframe_has_the_jobs_points(
    sm: Any, orch: Orchestrator, aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    _metrics_job(sm, "analytics-job")
    import boto3
    import sagemaker
    from sagemaker.analytics import TrainingJobAnalytics

    session = sagemaker.Session(boto_session=boto3.Session(region_name="us-east-1"))
    frame = TrainingJobAnalytics(
        "analytics-job", metric_names=["loss"], sagemaker_session=session, period=1
    ).dataframe()
    points = orch.metric_series("analytics-job", "loss")
    assert list(frame["metric_name"]) == ["loss"] * len(points)
    assert list(frame["value"]) == [p.value for p in points]
    elapsed = [p.timestamp - points[0].timestamp for p in points]
    assert list(frame["timestamp"]) == pytest.approx(elapsed, abs=1.0)  # whole-second periods


def test_cloudwatch_over_rpc_v2_cbor(sm: Any, server: ApiServer) -> None:
    """The other wire format botocore may pick for CloudWatch (the model lists it first)."""
    import cbor2

    described = _metrics_job(sm, "cbor-job")
    headers = {
        "Content-Type": "application/cbor",
        "Accept": "application/cbor",
        "smithy-protocol": "rpc-v2-cbor",
    }
    request = {
        "Namespace": NAMESPACE,
        "MetricName": "loss",
        "Dimensions": [{"Name": "Host", "Value": "cbor-job/algo-1"}],
        "StartTime": described["TrainingStartTime"] - dt.timedelta(minutes=1),
        "EndTime": described["TrainingEndTime"] + dt.timedelta(minutes=1),
        "Period": 60,
        "Statistics": ["Minimum", "Maximum"],
    }
    path = "/service/GraniteServiceVersion20100801/operation/GetMetricStatistics"
    body = cbor2.dumps(request, datetime_as_timestamp=True)
    status, response_headers, raw = call(server, "POST", path, body, headers)
    assert status == 200 and response_headers["smithy-protocol"] == "rpc-v2-cbor"
    answer = cbor2.loads(raw)
    assert isinstance(answer["Datapoints"][0]["Timestamp"], dt.datetime)  # tag 1
    assert min(d["Minimum"] for d in answer["Datapoints"]) == pytest.approx(0.25)
    status, _, raw = call(server, "POST", path, b"\xff\x00", headers)
    assert status == 400 and cbor2.loads(raw)["__type"] == "SerializationException"


def test_trial_components_and_experiment_analytics(
    sm: Any,
    orch: Orchestrator,
    aws_env: dict[str, str],
    shapes: ShapeChecker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    for trial in ("trial-a", "trial-b"):
        config = {"ExperimentName": "exp-1", "TrialName": trial}
        _metrics_job(sm, f"exp-{trial}", ExperimentConfig=config)
    _metrics_job(sm, "outside")  # in no experiment
    # Metrics a training script logs itself land in the same trial component.
    client("sagemaker-metrics", shapes).batch_put_metrics(
        TrialComponentName="exp-trial-a-aws-training-job",
        MetricData=[
            {"MetricName": "val:acc", "Timestamp": 1_700_000_000, "Value": 0.9},
            {"MetricName": "loss", "Timestamp": 1_700_000_000, "Value": 0.75},  # older
        ],
    )
    described = sm.describe_trial_component(TrialComponentName="exp-trial-a-aws-training-job")
    assert described["Source"]["SourceType"] == "SageMakerTrainingJob"
    assert described["Source"]["SourceArn"].endswith(":training-job/exp-trial-a")
    assert described["Parameters"]["learning_rate"] == {"StringValue": "0.1"}
    assert described["Status"]["PrimaryStatus"] == "Completed"
    summaries = {m["MetricName"]: m for m in described["Metrics"]}
    loss = orch.metric_series("exp-trial-a", "loss")
    assert summaries["loss"]["Last"] == loss[-1].value  # the newest point, the job's
    assert summaries["loss"]["Count"] == 5  # one summary of the job's and the script's points
    assert len(described["Metrics"]) == 2
    assert summaries["val:acc"]["Last"] == 0.9
    with pytest.raises(sm.exceptions.ResourceNotFound):
        sm.describe_trial_component(TrialComponentName="nope")
    found = sm.search(
        Resource="ExperimentTrialComponent",
        SearchExpression={
            "Filters": [{"Name": "Parents.ExperimentName", "Operator": "Equals", "Value": "exp-1"}]
        },
        SortBy="TrialComponentName",
        SortOrder="Ascending",
    )
    names = [r["TrialComponent"]["TrialComponentName"] for r in found["Results"]]
    assert names == ["exp-trial-a-aws-training-job", "exp-trial-b-aws-training-job"]
    assert found["Results"][0]["TrialComponent"]["Metrics"]  # read for the page
    tagged = sm.search(
        Resource="ExperimentTrialComponent",
        VisibilityConditions=[{"Key": "Tags.team", "Value": "nobody"}],
    )
    assert tagged["Results"] == []

    import boto3
    import sagemaker
    from sagemaker.analytics import ExperimentAnalytics

    session = sagemaker.Session(boto_session=boto3.Session(region_name="us-east-1"))
    frame = ExperimentAnalytics(experiment_name="exp-1", sagemaker_session=session).dataframe()
    assert sorted(frame["TrialComponentName"]) == names
    row = frame.set_index("TrialComponentName").loc["exp-trial-a-aws-training-job"]
    assert row["loss - Last"] == loss[-1].value and row["loss - Min"] == min(p.value for p in loss)
    assert row["learning_rate"] == "0.1" and row["Trials"] == ["trial-a"]
    assert row["val:acc - Last"] == 0.9
