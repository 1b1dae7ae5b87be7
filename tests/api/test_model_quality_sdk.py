"""The SageMaker SDK's ModelQualityMonitor against `orchestrator serve` with the S3 store (moto):
suggest_baseline runs AWS's analyzer image URI as our analyzer, and the SDK's own helpers read
the statistics and constraints it wrote."""

from __future__ import annotations

import datetime
import json
import random
from typing import Any

import pytest

from orchestrator.api.server import ApiServer
from tests.api.test_s3_sdk import s3_server_api, sdk_on_s3  # noqa: F401  (fixtures)
from tests.integration.conftest import wait_until

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


def _monitor_with_baseline(bucket: str) -> tuple[Any, Any, Any]:
    """(S3 client, ModelQualityMonitor, its baselining job) over a good model's data."""
    import boto3
    import sagemaker
    from sagemaker.model_monitor import ModelQualityMonitor
    from sagemaker.model_monitor.dataset_format import DatasetFormat

    s3: Any = boto3.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="baseline/data.csv", Body=_binary_csv(300, 0.9, 1).encode())
    session = sagemaker.Session(boto_session=boto3.Session(region_name="us-east-1"))
    monitor = ModelQualityMonitor(
        role="arn:aws:iam::123456789012:role/SageMakerRole",
        instance_count=1,
        instance_type="ml.m5.large",
        sagemaker_session=session,
    )
    job = monitor.suggest_baseline(
        baseline_dataset=f"s3://{bucket}/baseline/data.csv",
        dataset_format=DatasetFormat.csv(header=True),
        problem_type="BinaryClassification",
        inference_attribute="prediction",
        probability_attribute="probability",
        ground_truth_attribute="label",
        output_s3_uri=f"s3://{bucket}/baseline/results",
        wait=True,
        logs=False,
    )
    return s3, monitor, job


def test_suggest_baseline_writes_statistics_and_constraints_the_sdk_reads(
    sdk_on_s3: ApiServer,  # noqa: F811
) -> None:
    _, monitor, job = _monitor_with_baseline("mq-sdk")
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


def _captured_and_truth(rows: int, accuracy: float, seed: int) -> tuple[str, str]:
    """Data-capture records (CSV output "prediction,probability") and ground-truth records,
    joined by inferenceId, captured a few minutes ago."""
    rng = random.Random(seed)
    at = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    captured, truth = [], []
    for number in range(rows):
        label = rng.randint(0, 1)
        prediction = label if rng.random() < accuracy else 1 - label
        probability = rng.uniform(0.5, 1.0) if prediction == 1 else rng.uniform(0.0, 0.5)
        event = {"eventId": f"e-{number}", "inferenceId": f"i-{number}"}
        event["inferenceTime"] = at.strftime("%Y-%m-%dT%H:%M:%SZ")
        output = {"data": f"{prediction},{probability:.4f}", "encoding": "CSV"}
        output["observedContentType"], output["mode"] = "text/csv", "OUTPUT"
        captured.append(
            {"captureData": {"endpointOutput": output}, "eventMetadata": event, "eventVersion": "0"}
        )
        truth.append(
            {
                "groundTruthData": {"data": str(label), "encoding": "CSV"},
                "eventMetadata": {"eventId": f"i-{number}"},
                "eventVersion": "0",
            }
        )
    lines = [json.dumps(record) for record in captured], [json.dumps(record) for record in truth]
    return "\n".join(lines[0]) + "\n", "\n".join(lines[1]) + "\n"


def test_a_one_time_schedule_over_a_worse_model_reports_violations(
    sdk_on_s3: ApiServer,  # noqa: F811
) -> None:
    from sagemaker.model_monitor import BatchTransformInput, CronExpressionGenerator
    from sagemaker.model_monitor.dataset_format import MonitoringDatasetFormat

    s3, monitor, _ = _monitor_with_baseline("mq-watch")
    session = monitor.sagemaker_session
    captured, truth = _captured_and_truth(300, 0.55, 3)  # the worse model, in production
    hour = datetime.datetime.now(datetime.timezone.utc).strftime("%Y/%m/%d/%H")
    s3.put_object(Bucket="mq-watch", Key=f"captured/{hour}/data.jsonl", Body=captured.encode())
    s3.put_object(Bucket="mq-watch", Key=f"truth/{hour}/labels.jsonl", Body=truth.encode())
    monitor.create_monitoring_schedule(
        monitor_schedule_name="watch-once",
        batch_transform_input=BatchTransformInput(
            data_captured_destination_s3_uri="s3://mq-watch/captured",
            destination="/opt/ml/processing/input",
            dataset_format=MonitoringDatasetFormat.csv(header=False),
            inference_attribute="0",
            probability_attribute="1",
            probability_threshold_attribute=0.5,
        ),
        ground_truth_input="s3://mq-watch/truth",
        problem_type="BinaryClassification",
        output_s3_uri="s3://mq-watch/reports",
        constraints=monitor.suggested_constraints(),
        schedule_cron_expression=CronExpressionGenerator.now(),
        data_analysis_start_time="-PT1H",
        data_analysis_end_time="-PT0H",
    )
    ended = ("Completed", "CompletedWithViolations", "Failed", "Stopped")

    def finished() -> bool:
        executions = monitor.list_executions()
        return bool(executions) and executions[-1].describe()["ProcessingJobStatus"] in (
            "Completed",
            "Failed",
            "Stopped",
        )

    wait_until(finished, "the one-time schedule's execution to end", timeout=180)
    summaries = session.sagemaker_client.list_monitoring_executions(
        MonitoringScheduleName="watch-once"
    )["MonitoringExecutionSummaries"]
    assert [s["MonitoringExecutionStatus"] for s in summaries] == ["CompletedWithViolations"]
    assert summaries[0]["MonitoringExecutionStatus"] in ended
    violations = monitor.list_executions()[-1].constraint_violations().body_dict["violations"]
    violated = {v["metric_name"] for v in violations}
    assert "accuracy" in violated and "f1" in violated
    described = session.sagemaker_client.describe_monitoring_schedule(
        MonitoringScheduleName="watch-once"
    )
    last = described["LastMonitoringExecutionSummary"]
    assert last["MonitoringExecutionStatus"] == "CompletedWithViolations"
