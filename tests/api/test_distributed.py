"""The distributed example (three hosts averaging gradients over TCP) through unmodified boto3
and the SageMaker Python SDK (`instance_count=3`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from orchestrator import Orchestrator
from tests.api.conftest import ShapeChecker, client
from tests.api.test_sagemaker_sdk import estimator

pytestmark = pytest.mark.docker

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "distributed-regression"
IMAGE = "orchestrator/distributed-regression:latest"


def _example_request(name: str) -> dict[str, Any]:
    request: dict[str, Any] = json.loads((EXAMPLE / "job.json").read_text())
    request["TrainingJobName"] = name
    request["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] = "s3://dist/train"
    request["HyperParameters"]["epochs"] = "20"
    return request


def test_the_distributed_example_through_boto3(
    sm: Any, orch: Orchestrator, shapes: ShapeChecker
) -> None:
    orch.upload(EXAMPLE / "data", "s3://dist/train")
    sm.create_training_job(**_example_request("dist-boto3"))
    sm.get_waiter("training_job_completed_or_stopped").wait(
        TrainingJobName="dist-boto3", WaiterConfig={"Delay": 1, "MaxAttempts": 180}
    )
    described = sm.describe_training_job(TrainingJobName="dist-boto3")
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    assert described["ResourceConfig"]["InstanceCount"] == 3
    assert described["FinalMetricDataList"][0]["MetricName"] == "train:mse"
    logs = client("logs", shapes)
    streams = logs.describe_log_streams(
        logGroupName="/aws/sagemaker/TrainingJobs", logStreamNamePrefix="dist-boto3/"
    )["logStreams"]
    names = [s["logStreamName"] for s in streams]
    assert [n.rsplit("-", 1)[0] for n in names] == [f"dist-boto3/algo-{i}" for i in (1, 2, 3)]
    worker = logs.get_log_events(
        logGroupName="/aws/sagemaker/TrainingJobs", logStreamName=names[2], startFromHead=True
    )["events"]
    assert any("algo-3: connected to algo-1" in e["message"] for e in worker)


def test_the_distributed_example_through_the_sdk(
    aws_env: dict[str, str],
    orch: Orchestrator,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    orch.upload(EXAMPLE / "data", "s3://dist-sdk/train")
    from sagemaker.inputs import TrainingInput

    three = estimator(
        IMAGE,
        instance_count=3,
        hyperparameters={"epochs": 20, "learning_rate": 0.05, "target": "y"},
        base_job_name="sdk-dist",
    )
    data = TrainingInput("s3://dist-sdk/train", distribution="ShardedByS3Key")
    three.fit({"train": data}, logs=True)
    described = three.latest_training_job.describe()
    assert described["TrainingJobStatus"] == "Completed"
    assert described["ResourceConfig"]["InstanceCount"] == 3
    streamed = capsys.readouterr().out
    # The SDK's log view follows every host's stream (it prefixes each with its stream name).
    for host in ("algo-1", "algo-2", "algo-3"):
        assert f"{host} of 3 hosts (leader algo-1)" in streamed
    assert "model saved by algo-1" in streamed
