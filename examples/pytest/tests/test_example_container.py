"""The example container's own test suite, written with the orchestrator's pytest plugin: no
conftest, only its fixtures (`training_image`, `channel`, `run_training_job`, `orchestrator`,
`sagemaker_endpoint`)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.sagemaker_container
CONTAINER = Path(__file__).resolve().parents[1] / "container"
METRICS = [{"Name": "loss", "Regex": r"loss=([0-9.]+)"}]


def request(name: str, image: str, train: dict[str, Any], **hyperparameters: str) -> dict[str, Any]:
    return {
        "TrainingJobName": name,
        "RoleArn": "arn:aws:iam::123456789012:role/SageMakerRole",
        "AlgorithmSpecification": {
            "TrainingImage": image,
            "TrainingInputMode": "File",
            "MetricDefinitions": METRICS,
        },
        "HyperParameters": hyperparameters,
        "InputDataConfig": [train],
        "OutputDataConfig": {"S3OutputPath": "s3://example-artifacts/out"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    }


@pytest.fixture
def image(training_image: Any) -> str:
    return str(training_image(CONTAINER))


@pytest.fixture
def train(channel: Any) -> dict[str, Any]:
    return dict(channel({"part-1.csv": "1,2\n3,4\n", "part-2.csv": "5,6\n"}))


def test_it_trains_and_reports_its_metric(
    image: str, train: dict[str, Any], run_training_job: Any
) -> None:
    result = run_training_job(request("trains", image, train, epochs="4", learning_rate="0.5"))
    result.assert_completed().assert_logged("training on 3 rows")
    assert result.assert_metric("loss", at_most=0.1) == pytest.approx(0.5**4, rel=1e-4)


def test_a_bad_hyperparameter_fails_with_its_reason(
    image: str, train: dict[str, Any], run_training_job: Any
) -> None:
    result = run_training_job(request("bad-rate", image, train, learning_rate="fast"))
    result.assert_failed("learning_rate must be a positive number, got 'fast'")


def test_it_honours_sigterm(image: str, train: dict[str, Any], orchestrator: Any) -> None:
    job = request("stopped", image, train, epochs="600", seconds_per_epoch="1")
    orchestrator.create_training_job(job)
    deadline = time.monotonic() + 120
    while not any("epoch=1 " in line for _, line in orchestrator.log_events("stopped")):
        assert time.monotonic() < deadline, "the job never started training"
        time.sleep(0.2)
    orchestrator.stop_training_job("stopped")
    described = orchestrator.wait("stopped", timeout=120)
    assert described["TrainingJobStatus"] == "Stopped"
    assert any("saved the model so far" in line for _, line in orchestrator.log_events("stopped"))


def test_boto3_code_runs_against_the_endpoint(image: str, sagemaker_endpoint: Any) -> None:
    import boto3

    sm = boto3.client("sagemaker")  # no endpoint_url: the fixture's environment points it
    train = sagemaker_endpoint.channel({"data.csv": "1\n2\n"}, test="boto3")
    sm.create_training_job(**request("via-boto3", image, train, epochs="2"))
    sm.get_waiter("training_job_completed_or_stopped").wait(
        TrainingJobName="via-boto3", WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    described = sm.describe_training_job(TrainingJobName="via-boto3")
    assert described["TrainingJobStatus"] == "Completed"
    assert {m["MetricName"] for m in described["FinalMetricDataList"]} == {"loss"}
