"""The SageMaker Python SDK's Estimator, unmodified, against `orchestrator serve`."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from orchestrator import Orchestrator
from tests.api.test_faults import inject
from tests.integration.conftest import EXAMPLE_DATA, logged, wait_until

pytestmark = pytest.mark.docker


def estimator(image: str, **options: Any) -> Any:
    """An unmodified SDK v2 Estimator on a session whose clients the environment points here."""
    import boto3
    import sagemaker
    from sagemaker.estimator import Estimator

    logging.getLogger("sagemaker").setLevel(logging.WARNING)
    session = sagemaker.Session(boto_session=boto3.Session(region_name="us-east-1"))
    defaults = {
        "instance_count": 1,
        "instance_type": "ml.m5.large",
        "output_path": "s3://sdk-artifacts/out",
    }
    return Estimator(
        image_uri=image,
        role="arn:aws:iam::123456789012:role/SageMakerRole",
        sagemaker_session=session,
        **{**defaults, **options},
    )


def test_estimator_fit_runs_and_streams_the_log(
    aws_env: dict[str, str],
    orch: Orchestrator,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SAGEMAKER_SUPPRESS_V2_WARNING", "1")  # v2 is the SDK with Estimator
    orch.upload(EXAMPLE_DATA, "s3://sdk-data/train")
    fitted = estimator(
        "orchestrator/linear-regression:latest",
        hyperparameters={"epochs": 5, "learning_rate": 0.1},
        metric_definitions=[{"Name": "train:mse", "Regex": r"epoch=\d+ train_mse=([0-9.]+)"}],
        base_job_name="sdk",
    )
    fitted.fit({"train": "s3://sdk-data/train"}, logs=True)
    job = fitted.latest_training_job.describe()
    assert job["TrainingJobStatus"] == "Completed"
    assert fitted.model_data.endswith("/output/model.tar.gz")
    assert len(orch.metric_series(job["TrainingJobName"], "train:mse")) == 5
    streamed = capsys.readouterr().out
    assert "epoch=5 train_mse=" in streamed and "model saved" in streamed


def test_estimator_with_spot_and_checkpoints_is_interrupted_and_saves(
    aws_env: dict[str, str],
    server: Any,
    orch: Orchestrator,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    orch.upload(EXAMPLE_DATA, "s3://sdk-data/train")
    spot = estimator(
        "orchestrator/linear-regression:latest",
        hyperparameters={"epochs": 30, "learning_rate": 0.1, "epoch_seconds": 0.1},
        use_spot_instances=True,
        max_run=600,
        max_wait=1200,
        checkpoint_s3_uri="s3://sdk-checkpoints/run",
        base_job_name="sdk-spot",
    )
    spot.fit({"train": "s3://sdk-data/train"}, wait=False)
    name = spot.latest_training_job.name
    wait_until(lambda: logged(orch, name, "epoch=5 "), "five epochs")
    status, _, body = inject(server, {"TrainingJobName": name, "FaultType": "spot-interruption"})
    assert status == 200, body
    spot.latest_training_job.wait(logs="All")
    job = spot.latest_training_job.describe()
    assert job["TrainingJobStatus"] == "Completed"
    assert job["EnableManagedSpotTraining"] is True
    assert job["CheckpointConfig"]["S3Uri"] == "s3://sdk-checkpoints/run"
    assert "Interrupted" in [t["Status"] for t in job["SecondaryStatusTransitions"]]
    assert job["BillableTimeInSeconds"] < job["TrainingTimeInSeconds"]
    streamed = capsys.readouterr().out
    assert "resuming from checkpoint at epoch" in streamed
    assert "Managed Spot Training savings:" in streamed


def test_estimators_with_keep_alive_reuse_one_warm_pool(
    aws_env: dict[str, str], orch: Orchestrator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAGEMAKER_SUPPRESS_V2_WARNING", "1")

    def pooled(name: str) -> Any:
        return estimator(
            "orchestrator/testbox:latest",
            container_arguments=["cache", f"from-{name}"],
            keep_alive_period_in_seconds=120,
            base_job_name=name,
        )

    first, second = pooled("sdk-pool-a"), pooled("sdk-pool-b")
    first.fit(logs=False)
    second.fit(logs=False)
    a, b = first.latest_training_job.describe(), second.latest_training_job.describe()
    assert a["WarmPoolStatus"]["Status"] == "Reused"
    assert a["WarmPoolStatus"]["ReusedByJob"] == b["TrainingJobName"]
    assert b["WarmPoolStatus"]["Status"] == "Available"
    assert b["ResourceConfig"]["KeepAlivePeriodInSeconds"] == 120
    lines = [line for _, line in orch.log_events(b["TrainingJobName"])]
    assert "cache holds: from-sdk-pool-a" in lines
