"""The SageMaker SDK's ModelQualityMonitor against `orchestrator serve` with the S3 store (moto):
suggest_baseline runs AWS's analyzer image URI as our analyzer, and the SDK's own helpers read
the statistics and constraints it wrote."""

from __future__ import annotations

import random
from typing import Any

import pytest

from orchestrator.api.server import ApiServer
from tests.api.test_s3_sdk import s3_server_api  # noqa: F401  (the fixture)

pytestmark = pytest.mark.docker


def _binary_csv(rows: int, accuracy: float, seed: int) -> str:
    """label,prediction,probability rows, the prediction right about `accuracy` of the time."""
    rng = random.Random(seed)
    lines = ["label,prediction,probability"]
    for _ in range(rows):
        label = rng.randint(0, 1)
        right = rng.random() < accuracy
        prediction = label if right else 1 - label
        probability = rng.uniform(0.5, 1.0) if prediction == 1 else rng.uniform(0.0, 0.5)
        lines.append(f"{label},{prediction},{probability:.4f}")
    return "\n".join(lines) + "\n"


def test_suggest_baseline_writes_statistics_and_constraints_the_sdk_reads(
    s3_server_api: ApiServer,  # noqa: F811
    s3_env: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for variable in ("SAGEMAKER", "SAGEMAKER_METRICS", "CLOUDWATCH_LOGS"):
        monkeypatch.setenv(f"AWS_ENDPOINT_URL_{variable}", s3_server_api.url)
    monkeypatch.setenv("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    import boto3
    import sagemaker
    from sagemaker.model_monitor import ModelQualityMonitor
    from sagemaker.model_monitor.dataset_format import DatasetFormat

    s3: Any = boto3.client("s3")
    s3.create_bucket(Bucket="mq-sdk")
    s3.put_object(Bucket="mq-sdk", Key="baseline/data.csv", Body=_binary_csv(300, 0.9, 1).encode())
    session = sagemaker.Session(boto_session=boto3.Session(region_name="us-east-1"))
    monitor = ModelQualityMonitor(
        role="arn:aws:iam::123456789012:role/SageMakerRole",
        instance_count=1,
        instance_type="ml.m5.large",
        sagemaker_session=session,
    )
    job = monitor.suggest_baseline(
        baseline_dataset="s3://mq-sdk/baseline/data.csv",
        dataset_format=DatasetFormat.csv(header=True),
        problem_type="BinaryClassification",
        inference_attribute="prediction",
        probability_attribute="probability",
        ground_truth_attribute="label",
        output_s3_uri="s3://mq-sdk/baseline/results",
        wait=True,
        logs=False,
    )
    described = job.describe()
    assert described["ProcessingJobStatus"] == "Completed", described.get("ExitMessage")
    statistics = monitor.baseline_statistics().body_dict
    metrics = statistics["binary_classification_metrics"]
    assert 0.8 < metrics["accuracy"]["value"] < 1.0
    assert statistics["dataset"]["item_count"] == 300
    constraints = monitor.suggested_constraints().body_dict
    accuracy = constraints["binary_classification_constraints"]["accuracy"]
    assert accuracy["comparison_operator"] == "LessThanThreshold"
    assert accuracy["threshold"] == metrics["accuracy"]["value"]
