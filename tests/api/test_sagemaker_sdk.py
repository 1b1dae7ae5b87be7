"""The SageMaker Python SDK's Estimator, unmodified, against `orchestrator serve`."""

from __future__ import annotations

import logging

import pytest

from orchestrator import Orchestrator
from tests.integration.conftest import EXAMPLE_DATA

pytestmark = pytest.mark.docker


def test_estimator_fit_runs_and_streams_the_log(
    aws_env: dict[str, str],
    orch: Orchestrator,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SAGEMAKER_SUPPRESS_V2_WARNING", "1")  # v2 is the SDK with Estimator
    import boto3
    import sagemaker
    from sagemaker.estimator import Estimator

    logging.getLogger("sagemaker").setLevel(logging.WARNING)
    orch.upload(EXAMPLE_DATA, "s3://sdk-data/train")
    session = sagemaker.Session(boto_session=boto3.Session(region_name="us-east-1"))
    estimator = Estimator(
        image_uri="orchestrator/linear-regression:latest",
        role="arn:aws:iam::123456789012:role/SageMakerRole",
        instance_count=1,
        instance_type="ml.m5.large",
        output_path="s3://sdk-artifacts/out",
        hyperparameters={"epochs": 5, "learning_rate": 0.1},
        metric_definitions=[{"Name": "train:mse", "Regex": r"epoch=\d+ train_mse=([0-9.]+)"}],
        sagemaker_session=session,
        base_job_name="sdk",
    )
    estimator.fit({"train": "s3://sdk-data/train"}, logs=True)
    job = estimator.latest_training_job.describe()
    assert job["TrainingJobStatus"] == "Completed"
    assert estimator.model_data.endswith("/output/model.tar.gz")
    assert len(orch.metric_series(job["TrainingJobName"], "train:mse")) == 5
    streamed = capsys.readouterr().out
    assert "epoch=5 train_mse=" in streamed and "model saved" in streamed
