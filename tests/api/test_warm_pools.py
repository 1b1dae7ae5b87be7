"""Warm pools through boto3 against `orchestrator serve`: keep, reuse, cache, release, expire."""

from __future__ import annotations

import time
from typing import Any

import pytest

from orchestrator import Orchestrator, Settings
from tests.integration.conftest import job, wait_until

pytestmark = pytest.mark.docker

LARGE = {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1}


def pooled(name: str, keep_alive: int, instance_type: str = "ml.m5.large") -> dict[str, Any]:
    resources = {**LARGE, "InstanceType": instance_type, "KeepAlivePeriodInSeconds": keep_alive}
    return job(name, ["cache", f"from-{name}"], ResourceConfig=resources)


def run(sm: Any, request: dict[str, Any]) -> dict[str, Any]:
    sm.create_training_job(**request)
    name = request["TrainingJobName"]
    sm.get_waiter("training_job_completed_or_stopped").wait(
        TrainingJobName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    return dict(sm.describe_training_job(TrainingJobName=name))


def pool_status(sm: Any, name: str) -> dict[str, Any]:
    return dict(sm.describe_training_job(TrainingJobName=name)["WarmPoolStatus"])


def logged(orch: Orchestrator, name: str, text: str) -> bool:
    return any(text in line for _, line in orch.log_events(name))


def test_a_warm_pool_is_kept_reused_with_its_cache_released_and_filtered(
    sm: Any, orch: Orchestrator, settings: Settings
) -> None:
    first = run(sm, pooled("first", 120))
    assert first["TrainingJobStatus"] == "Completed"
    assert first["WarmPoolStatus"]["Status"] == "Available"
    assert logged(orch, "first", "cache holds: none")  # a cold start
    second = run(sm, pooled("second", 120))
    assert pool_status(sm, "first")["Status"] == "Reused"
    assert pool_status(sm, "first")["ReusedByJob"] == "second"
    assert second["WarmPoolStatus"]["Status"] == "Available"
    assert logged(orch, "second", "cache holds: from-first")  # what the first job left
    third = run(sm, pooled("third", 120, instance_type="ml.c5.xlarge"))
    assert logged(orch, "third", "cache holds: none")  # another instance type: cold start
    assert third["WarmPoolStatus"]["Status"] == "Available"
    available = sm.list_training_jobs(WarmPoolStatusEquals="Available")["TrainingJobSummaries"]
    assert sorted(s["TrainingJobName"] for s in available) == ["second", "third"]
    caches = list(settings.warm_pools_root.iterdir())
    assert len(caches) == 2
    sm.update_training_job(TrainingJobName="second", ResourceConfig={"KeepAlivePeriodInSeconds": 0})
    assert pool_status(sm, "second")["Status"] == "Terminated"
    assert len(list(settings.warm_pools_root.iterdir())) == 1  # its cache is gone
    with pytest.raises(sm.exceptions.ClientError, match="no Available warm pool"):
        sm.update_training_job(
            TrainingJobName="second", ResourceConfig={"KeepAlivePeriodInSeconds": 60}
        )
    reused = sm.list_training_jobs(WarmPoolStatusEquals="Reused")["TrainingJobSummaries"]
    assert [s["TrainingJobName"] for s in reused] == ["first"]


def test_a_short_keep_alive_expires_on_time(sm: Any) -> None:
    ended = run(sm, pooled("brief", 2))
    assert ended["WarmPoolStatus"]["Status"] == "Available"
    started = time.monotonic()
    wait_until(lambda: pool_status(sm, "brief")["Status"] == "Terminated", "the pool to expire")
    assert pool_status(sm, "brief")["ResourceRetainedBillableTimeInSeconds"] == 2
    assert time.monotonic() - started < 30


def test_keep_alive_out_of_range_or_with_spot_is_refused(sm: Any) -> None:
    with pytest.raises(sm.exceptions.ClientError, match="21600"):
        sm.create_training_job(**pooled("too-long", 30_000))
    spot = pooled("spot-pool", 60)
    spot.update(
        EnableManagedSpotTraining=True,
        StoppingCondition={"MaxRuntimeInSeconds": 600, "MaxWaitTimeInSeconds": 900},
    )
    with pytest.raises(sm.exceptions.ClientError, match="cannot be used with managed spot"):
        sm.create_training_job(**spot)
