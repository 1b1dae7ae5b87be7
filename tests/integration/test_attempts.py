"""Retries and capacity on the real Docker engine: lost containers, faults, Pending."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator import Orchestrator, Settings
from tests.integration.conftest import (
    job,
    leftover_containers,
    logged,
    secondary,
    training_containers,
    wait_until,
)

pytestmark = pytest.mark.docker

RETRY_TWICE = {"MaximumRetryAttempts": 2}


def _statuses(described: dict[str, Any]) -> list[str]:
    return [t["Status"] for t in described["SecondaryStatusTransitions"]]


def _remove_training_container(orch: Orchestrator, client: Any, name: str) -> None:
    """`docker rm -f` the job's running container from outside, once it is training."""
    wait_until(lambda: logged(orch, name, "sleeping"), f"{name} to start training")
    (container,) = training_containers(client, orch.settings, name)
    container.remove(force=True)


def test_a_removed_container_is_retried_and_the_second_attempt_completes(
    orch: Orchestrator, docker_client: Any
) -> None:
    orch.create_training_job(job("lost", ["sleep", "2"], RetryStrategy=RETRY_TWICE))
    _remove_training_container(orch, docker_client, "lost")
    described = orch.wait("lost", timeout=120)
    assert (described["TrainingJobStatus"], described["SecondaryStatus"]) == ("Completed",) * 2
    assert _statuses(described) == [
        "Starting", "Downloading", "Training",
        "Starting", "Downloading", "Training", "Uploading", "Completed",
    ]  # fmt: skip
    retry = described["SecondaryStatusTransitions"][3]["StatusMessage"]
    assert retry.startswith(
        "Retrying the training job: retry 1 of 2 (attempt 2), after InternalServerError"
    )
    assert orch.store.require("lost").attempt == 2
    assert logged(orch, "lost", "sleeping", times=2)  # both attempts' output, in one log
    assert leftover_containers(docker_client, orch.settings) == []


def test_without_retry_strategy_a_removed_container_fails_as_an_internal_error(
    orch: Orchestrator, docker_client: Any
) -> None:
    orch.create_training_job(job("lost-once", ["sleep", "60"]))
    _remove_training_container(orch, docker_client, "lost-once")
    described = orch.wait("lost-once", timeout=120)
    assert described["TrainingJobStatus"] == "Failed"
    assert described["FailureReason"].startswith(
        "InternalServerError: the container was removed while it ran"
    )


def test_an_algorithm_error_is_never_retried(orch: Orchestrator) -> None:
    orch.create_training_job(job("algo", ["exit", "3"], RetryStrategy=RETRY_TWICE))
    described = orch.wait("algo", timeout=120)
    assert described["FailureReason"] == (
        "AlgorithmError: the training container exited with code 3"
    )
    assert _statuses(described).count("Training") == 1


def test_an_injected_fault_is_retried(orch: Orchestrator, docker_client: Any) -> None:
    orch.create_training_job(job("faulty", ["sleep", "2"], RetryStrategy=RETRY_TWICE))
    wait_until(lambda: logged(orch, "faulty", "sleeping"), "faulty to start training")
    orch.inject_fault("faulty", "internal-error")
    described = orch.wait("faulty", timeout=120)
    assert described["SecondaryStatus"] == "Completed"
    retry = described["SecondaryStatusTransitions"][3]["StatusMessage"]
    assert "an injected internal-error fault ended attempt 1 in Training" in retry
    assert leftover_containers(docker_client, orch.settings) == []


def test_two_four_vcpu_jobs_run_one_after_the_other(settings: Settings, docker_client: Any) -> None:
    orch = Orchestrator(settings.with_overrides(cpus=4))
    try:
        xlarge = {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 1}
        orch.create_training_job(job("first", ["sleep", "2"], ResourceConfig=xlarge))
        wait_until(lambda: secondary(orch, "first") == "Training", "first to train")
        orch.create_training_job(job("second", ["ok"], ResourceConfig=xlarge))
        wait_until(lambda: secondary(orch, "second") == "Pending", "second to wait")
        second = orch.wait("second", timeout=120)
        first = orch.describe_training_job("first")
        assert first["SecondaryStatus"] == second["SecondaryStatus"] == "Completed"
        assert _statuses(second)[:3] == ["Starting", "Pending", "Starting"]
        pending = second["SecondaryStatusTransitions"][1]["StatusMessage"]
        assert pending.startswith("Waiting for capacity: the job needs 4 vCPUs")
        assert second["TrainingStartTime"] >= first["TrainingEndTime"]
        assert orch.engine.ctx.ledger.allocations() == []
    finally:
        orch.close()
