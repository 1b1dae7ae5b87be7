"""kill -9 of `orchestrator run` while a job waits, between retries, or before a stop."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from orchestrator import Orchestrator
from tests.integration.conftest import (
    job,
    leftover_containers,
    logged,
    orphaned,
    secondary,
    wait_until,
)
from tests.integration.test_cli import cli, start, write_job

pytestmark = pytest.mark.docker

XLARGE = {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 1}


def _kill(runner: subprocess.Popen[str]) -> None:
    """The supervising process dies at once; its containers and jobs stay behind."""
    runner.send_signal(signal.SIGKILL)
    runner.communicate(timeout=30)


def _statuses(orch: Orchestrator, name: str) -> list[str]:
    described = orch.describe_training_job(name)
    return [t["Status"] for t in described["SecondaryStatusTransitions"]]


def test_a_pending_job_survives_kill_9_of_its_engine(
    env: dict[str, str], tmp_path: Path, orch: Orchestrator
) -> None:
    env = {**env, "ORCHESTRATOR_CPUS": "4"}
    first = start(
        env, "run", write_job(tmp_path, job("holder", ["sleep", "3"], ResourceConfig=XLARGE))
    )
    second: subprocess.Popen[str] | None = None
    try:
        wait_until(lambda: orch.store.get("holder") is not None, "holder to be created")
        wait_until(lambda: secondary(orch, "holder") == "Training", "holder to train")
        request = job("waiter", ["ok"], ResourceConfig=XLARGE)
        second = start(env, "run", write_job(tmp_path, request))
        wait_until(lambda: orch.store.get("waiter") is not None, "waiter to be created")
        wait_until(lambda: secondary(orch, "waiter") == "Pending", "waiter to wait")
        _kill(second)
        wait_until(lambda: orphaned(orch, "waiter"), "the waiter's lease to run out")
        recovered = cli(env, "recover")
        assert recovered.returncode == 0, recovered.stderr
        assert "adopted waiter" in recovered.stdout and "waiter: Completed" in recovered.stdout
        assert _statuses(orch, "waiter")[:3] == ["Starting", "Pending", "Starting"]
        holder = orch.describe_training_job("holder")
        assert orch.describe_training_job("waiter")["TrainingStartTime"] >= holder.get(
            "TrainingEndTime", 0
        )
        out, _ = first.communicate(timeout=60)
        assert first.returncode == 0, out
    finally:
        for runner in (first, second):
            if runner is not None:
                runner.kill()


def test_a_retried_job_keeps_its_attempt_count_across_kill_9(
    env: dict[str, str], tmp_path: Path, orch: Orchestrator, docker_client: Any
) -> None:
    request = job("retried", ["sleep", "4"], RetryStrategy={"MaximumRetryAttempts": 2})
    runner = start(env, "run", write_job(tmp_path, request))
    try:
        wait_until(lambda: orch.store.get("retried") is not None, "the job to be created")
        wait_until(lambda: logged(orch, "retried", "sleeping"), "attempt 1 to train")
        faulted = cli(env, "fault", "retried", "internal-error")
        assert faulted.returncode == 0 and "internal-error fault set" in faulted.stdout
        wait_until(lambda: logged(orch, "retried", "sleeping", times=2), "attempt 2 to train")
        _kill(runner)
        wait_until(lambda: orphaned(orch, "retried"), "the lease to run out")
        recovered = cli(env, "recover")
        assert recovered.returncode == 0, recovered.stderr
        assert "retried: Completed" in recovered.stdout
        record = orch.store.require("retried")
        assert record.attempt == 2  # continued, not restarted from 1 nor counted again
        messages = [
            t["StatusMessage"]
            for t in orch.describe_training_job("retried")["SecondaryStatusTransitions"]
        ]
        assert sum("Retrying the training job" in m for m in messages) == 1
        assert logged(orch, "retried", "sleeping", times=2)
        assert not logged(orch, "retried", "sleeping", times=3)  # resumed, not replayed
        assert leftover_containers(docker_client, orch.settings) == []
    finally:
        runner.kill()


def test_stop_of_an_orphan_finishes_the_stop_itself(
    env: dict[str, str], tmp_path: Path, orch: Orchestrator, docker_client: Any
) -> None:
    runner = start(env, "run", write_job(tmp_path, job("orphan-stop", ["sleep", "300"])))
    try:
        wait_until(lambda: orch.store.get("orphan-stop") is not None, "the job to be created")
        wait_until(lambda: logged(orch, "orphan-stop", "sleeping"), "the job to train")
        _kill(runner)
        wait_until(lambda: orphaned(orch, "orphan-stop"), "the lease to run out")
        stopped = cli(env, "stop", "orphan-stop")
        assert stopped.returncode == 0, stopped.stderr
        assert "stopped orphan-stop (Stopped)" in stopped.stdout
        described = json.loads(cli(env, "describe", "orphan-stop").stdout)
        assert (described["TrainingJobStatus"], described["SecondaryStatus"]) == ("Stopped",) * 2
        assert logged(orch, "orphan-stop", "got SIGTERM, saving")
        assert leftover_containers(docker_client, orch.settings) == []
    finally:
        runner.kill()


def test_fault_refuses_bad_input_with_one_line(env: dict[str, str], tmp_path: Path) -> None:
    done = cli(env, "run", write_job(tmp_path, job("finished", ["ok"])))
    assert done.returncode == 0
    refused = cli(env, "fault", "finished", "internal-error")
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1
    assert "already ended" in refused.stderr
    missing = cli(env, "fault", "nope", "internal-error")
    assert missing.returncode == 2 and "Requested resource not found" in missing.stderr


def test_a_warm_pool_outlives_its_process_and_still_expires_on_time(
    env: dict[str, str], tmp_path: Path, orch: Orchestrator
) -> None:
    resources = {**XLARGE, "InstanceType": "ml.m5.large", "KeepAlivePeriodInSeconds": 3}
    done = cli(
        env, "run", write_job(tmp_path, job("pooled", ["cache", "x"], ResourceConfig=resources))
    )
    assert done.returncode == 0, done.stderr  # the process is gone; the pool stays
    listed = cli(env, "pools")
    assert "Available" in listed.stdout and "pooled" in listed.stdout
    (pool,) = orch.warm_pools()
    assert (Path(pool.cache) / "algo-1" / "x").is_file()
    wait_until(
        lambda: "Terminated" in cli(env, "pools").stdout, "the pool to expire with no engine"
    )
    described = json.loads(cli(env, "describe", "pooled").stdout)
    assert described["WarmPoolStatus"] == {
        "Status": "Terminated",
        "ResourceRetainedBillableTimeInSeconds": 3,
    }
    assert not Path(pool.cache).exists()
    refused = cli(env, "pools", "release", "pooled")
    assert refused.returncode == 2 and "no Available warm pool" in refused.stderr
