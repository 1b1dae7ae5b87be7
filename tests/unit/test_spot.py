"""Managed spot on the fake runtime: interruptions, restarts with checkpoints, MaxWait, billing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from orchestrator.errors import ValidationError
from orchestrator.operations import training_jobs as service
from tests.unit.harness import Died, Harness, killed, recovered, request

SPOT: dict[str, Any] = {
    "EnableManagedSpotTraining": True,
    "StoppingCondition": {"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 7200},
    "CheckpointConfig": {"S3Uri": "s3://bucket/ckpt/job-1"},
}


def _spot(**changes: Any) -> dict[str, Any]:
    return request(**{**SPOT, **changes})


@pytest.fixture
def h(tmp_path: Path) -> Harness:
    harness = Harness(tmp_path, spot_recapture_seconds=30)
    harness.program("fake/ok:latest", duration=50, files={"model/m.txt": "m"})
    return harness


def _interrupt_once_at(h: Harness, training_seconds: float) -> None:
    """Reclaim the capacity once the first attempt has trained this long."""
    done: list[bool] = []

    def hook(now: float) -> None:
        record = h.store.require("job-1")
        at = record.attempt_training_at
        if not done and at is not None and now - at >= training_seconds:
            done.append(True)
            service.inject_fault(h.store, h.clock, "job-1", "spot-interruption")

    h.on_wait(hook)


def test_an_interrupted_spot_job_restarts_with_its_checkpoints_and_completes(h: Harness) -> None:
    seen: list[list[str]] = []

    def on_start(opt_ml: Path) -> None:
        checkpoints = opt_ml.parent / "algo-1.checkpoints"
        seen.append(sorted(p.name for p in checkpoints.iterdir()))
        (checkpoints / f"ckpt-{len(seen)}.txt").write_text("state")

    h.program("fake/ckpt:latest", duration=50, on_start=on_start)
    _interrupt_once_at(h, 20)
    h.run(
        _spot(
            AlgorithmSpecification={
                "TrainingImage": "fake/ckpt:latest",
                "TrainingInputMode": "File",
            }
        )
    )
    record = h.store.require("job-1")
    assert (record.secondary_status, record.attempt, record.retries) == ("Completed", 2, 0)
    assert h.statuses() == [
        "Starting", "Downloading", "Training", "Interrupted",
        "Starting", "Downloading", "Training", "Uploading", "Completed",
    ]  # fmt: skip
    transitions = h.store.transitions("job-1")
    assert transitions[3].message.startswith("The spot instance was interrupted")
    assert transitions[4].start_time - transitions[3].start_time >= 30  # recapture delay
    assert transitions[4].message == (
        "Restarting the training job after the spot interruption (attempt 2)."
    )
    assert seen == [[], ["ckpt-1.txt"]]  # the second attempt starts from the first's checkpoint
    containers = list(h.runtime.containers.values())
    assert containers[0].signals == ["SIGTERM"]  # interrupted with SIGTERM, as a stop is


def test_spot_training_time_excludes_interruptions_and_is_billed_at_a_discount(
    h: Harness,
) -> None:
    _interrupt_once_at(h, 20)
    h.run(_spot())
    described = service.describe(h.store, "job-1")
    assert 70 <= described["TrainingTimeInSeconds"] <= 73  # 20 s, then a whole 50 s attempt
    wall = described["TrainingEndTime"] - described["TrainingStartTime"]
    assert wall >= described["TrainingTimeInSeconds"] + 30  # the recapture pause is not billed
    assert described["BillableTimeInSeconds"] == pytest.approx(
        described["TrainingTimeInSeconds"] * 0.3, abs=1
    )


def test_interruptions_do_not_count_against_retry_strategy(h: Harness) -> None:
    _interrupt_once_at(h, 10)
    lost: list[bool] = []

    def lose_attempt_2(now: float) -> None:
        record = h.store.require("job-1")
        if record.attempt == 2 and record.secondary_status == "Training" and not lost:
            lost.append(True)
            for container in h.runtime.containers.values():
                container.removed = True

    h.on_wait(lose_attempt_2)
    h.run(_spot(RetryStrategy={"MaximumRetryAttempts": 1}))
    record = h.store.require("job-1")
    assert (record.secondary_status, record.attempt, record.retries) == ("Completed", 3, 1)


def test_max_runtime_counts_only_training_time_for_spot(h: Harness) -> None:
    h.program("fake/long:latest", duration=100_000)
    _interrupt_once_at(h, 40)
    h.run(
        _spot(
            AlgorithmSpecification={
                "TrainingImage": "fake/long:latest",
                "TrainingInputMode": "File",
            },
            StoppingCondition={"MaxRuntimeInSeconds": 60, "MaxWaitTimeInSeconds": 7200},
        )
    )
    record = h.store.require("job-1")
    assert record.secondary_status == "MaxRuntimeExceeded"
    assert 60 <= record.run_seconds < 63  # 40 s + 20 s, the interruption not counted
    assert (record.training_end_time or 0) - (record.training_start_time or 0) >= 90


def test_max_wait_time_ends_an_interrupted_job(tmp_path: Path) -> None:
    h = Harness(tmp_path, spot_recapture_seconds=10_000)  # capacity does not come back
    h.program("fake/ok:latest", duration=50)
    _interrupt_once_at(h, 10)
    h.run(_spot(StoppingCondition={"MaxRuntimeInSeconds": 600, "MaxWaitTimeInSeconds": 900}))
    record = h.store.require("job-1")
    assert (record.status, record.secondary_status) == ("Stopped", "MaxWaitTimeExceeded")
    assert h.statuses()[-3:] == ["Interrupted", "Stopping", "MaxWaitTimeExceeded"]
    assert (record.training_end_time or 0) - record.creation_time >= 900


def test_a_seeded_random_interruption_rate(tmp_path: Path) -> None:
    h = Harness(tmp_path, spot_interruptions_per_hour=360.0, spot_seed=7, spot_recapture_seconds=1)
    h.program("fake/ok:latest", duration=50)
    h.run(_spot(StoppingCondition={"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 100_000}))
    record = h.store.require("job-1")
    assert record.secondary_status == "Completed"
    assert h.statuses().count("Interrupted") == record.attempt - 1 >= 1


def test_only_spot_jobs_can_be_interrupted(h: Harness) -> None:
    h.supervisor(request())
    with pytest.raises(ValidationError, match="not a managed spot training job"):
        service.inject_fault(h.store, h.clock, "job-1", "spot-interruption")


def test_a_job_adopted_while_interrupted_starts_its_next_attempt(h: Harness) -> None:
    _interrupt_once_at(h, 10)
    original_sleep = h.clock.sleep

    def die_in_recapture(seconds: float) -> None:
        if h.store.require("job-1").secondary_status == "Interrupted":
            raise Died
        original_sleep(seconds)

    h.clock.sleep = die_in_recapture  # type: ignore[method-assign]
    killed(h, h.supervisor(_spot()))
    h.clock.sleep = original_sleep  # type: ignore[method-assign]
    record = recovered(h)
    assert (record.secondary_status, record.attempt) == ("Completed", 2)
    assert h.statuses().count("Interrupted") == 1


def test_checkpoints_that_cannot_be_saved_at_an_interruption_are_retried(h: Harness) -> None:
    _interrupt_once_at(h, 10)
    original = h.objects.upload_file
    calls: list[str] = []

    def down_during_the_interruption(source: Path, uri: str) -> None:
        record = h.store.require("job-1")
        if "ckpt" in uri and record.fault == "spot-interruption" and len(calls) < 10:
            calls.append(uri)
            raise OSError(5, "I/O error")
        original(source, uri)

    h.program("fake/ckpt-writer:latest", duration=50, files={"checkpoints/state.txt": "s"})
    h.objects.upload_file = down_during_the_interruption  # type: ignore[method-assign]
    h.run(
        _spot(
            AlgorithmSpecification={
                "TrainingImage": "fake/ckpt-writer:latest",
                "TrainingInputMode": "File",
            },
            RetryStrategy={"MaximumRetryAttempts": 2},
        )
    )
    record = h.store.require("job-1")
    assert record.secondary_status == "Completed" and record.retries == 1
    retry = next(t for t in h.store.transitions("job-1") if "Retrying" in t.message)
    assert "checkpoints could not be synced" in retry.message


def test_an_engine_killed_in_the_interruptions_grace_period_is_finished_by_its_adopter(
    h: Harness,
) -> None:
    from orchestrator.runtime.fake import FakeRuntime

    _interrupt_once_at(h, 10)
    real_stop = FakeRuntime.stop

    def die_after_sigterm(container_id: str, grace: float) -> None:
        real_stop(h.runtime, container_id, grace)  # the container got SIGTERM and exited
        raise Died

    h.runtime.stop = die_after_sigterm  # type: ignore[method-assign]
    killed(h, h.supervisor(_spot()))
    del h.runtime.stop
    record = recovered(h)
    assert (record.secondary_status, record.attempt) == ("Completed", 2)
    assert "Interrupted" in h.statuses() and record.fault is None
