"""Managed spot with checkpoints on the example image: interrupted, resumed, completed."""

from __future__ import annotations

import re
from typing import Any

import pytest

from orchestrator import Orchestrator, Settings
from tests.integration.conftest import EXAMPLE_DATA, job, logged, wait_until

pytestmark = pytest.mark.docker


def spot_example(name: str, checkpoints: str, epochs: int = 40) -> dict[str, Any]:
    """The example image checkpointing each epoch, as a managed spot job."""
    request = job(
        name,
        HyperParameters={"epochs": str(epochs), "learning_rate": "0.1", "epoch_seconds": "0.1"},
        InputDataConfig=[
            {
                "ChannelName": "train",
                "DataSource": {
                    "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://data/spot/train"}
                },
            }
        ],
        EnableManagedSpotTraining=True,
        StoppingCondition={"MaxRuntimeInSeconds": 600, "MaxWaitTimeInSeconds": 1200},
        CheckpointConfig={"S3Uri": checkpoints},
    )
    request["AlgorithmSpecification"] = {
        "TrainingImage": "orchestrator/linear-regression:latest",
        "TrainingInputMode": "File",
    }
    return request


def test_the_example_resumes_from_its_last_checkpoint_after_a_spot_interruption(
    orch: Orchestrator, settings: Settings
) -> None:
    orch.upload(EXAMPLE_DATA, "s3://data/spot/train")
    orch.create_training_job(spot_example("spotty", "s3://ckpt/spotty"))
    wait_until(lambda: logged(orch, "spotty", "epoch=8 "), "eight epochs")
    orch.inject_fault("spotty", "spot-interruption")
    described = orch.wait("spotty", timeout=180)
    assert (described["TrainingJobStatus"], described["SecondaryStatus"]) == ("Completed",) * 2
    statuses = [t["Status"] for t in described["SecondaryStatusTransitions"]]
    assert statuses == [
        "Starting", "Downloading", "Training", "Interrupted",
        "Starting", "Downloading", "Training", "Uploading", "Completed",
    ]  # fmt: skip
    lines = [line for _, line in orch.log_events("spotty")]
    assert "SIGTERM received: saving the model and exiting" in lines
    resumed = [re.search(r"resuming from checkpoint at epoch (\d+)", line) for line in lines]
    epochs = [int(m.group(1)) for m in resumed if m]
    assert len(epochs) == 1 and epochs[0] >= 8  # the second attempt went on from there
    assert "epoch=40 " in " ".join(lines)
    assert described["BillableTimeInSeconds"] < described["TrainingTimeInSeconds"]
    stored = settings.object_store_root / "ckpt" / "spotty" / "checkpoint.npz"
    assert stored.is_file()


def test_a_spot_interruption_needs_a_spot_job(orch: Orchestrator) -> None:
    orch.create_training_job(job("on-demand", ["sleep", "30"]))
    wait_until(lambda: logged(orch, "on-demand", "sleeping"), "the job to train")
    with pytest.raises(Exception, match="not a managed spot training job"):
        orch.inject_fault("on-demand", "spot-interruption")
    orch.stop_training_job("on-demand")
    orch.wait("on-demand", timeout=60)
