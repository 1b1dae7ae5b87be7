"""The `orchestrator` command from several terminals, against real containers."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from orchestrator import Orchestrator
from tests.integration.conftest import job, logged, orphaned, wait_until

pytestmark = pytest.mark.docker


def cli(env: dict[str, str], *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orchestrator", *args],
        env=env,
        text=True,
        capture_output=True,
        timeout=120,
        **kwargs,
    )


def start(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "orchestrator", *args],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def write_job(tmp_path: Path, request: dict[str, Any]) -> str:
    path = tmp_path / f"{request['TrainingJobName']}.json"
    path.write_text(json.dumps(request))
    return str(path)


def wait_for(env: dict[str, str], name: str, secondary: str) -> None:
    deadline = time.monotonic() + 60
    while True:
        done = cli(env, "describe", name)
        if done.returncode == 0 and json.loads(done.stdout)["SecondaryStatus"] == secondary:
            return
        assert time.monotonic() < deadline, f"{name} never reached {secondary}"
        time.sleep(0.1)


def test_run_streams_status_and_logs_and_exits_0(env: dict[str, str], tmp_path: Path) -> None:
    done = cli(env, "run", write_job(tmp_path, job("clijob", ["ok"])))
    assert done.returncode == 0, done.stderr
    assert "Training: Downloading the training image." in done.stdout
    assert "algo-1 | hello from the training container" in done.stdout
    assert "clijob: Completed (Completed)" in done.stdout
    assert "Model artifact: s3://artifacts/out/clijob/output/model.tar.gz" in done.stdout
    listed = cli(env, "list", "--json")
    assert json.loads(listed.stdout)["TrainingJobSummaries"][0]["TrainingJobName"] == "clijob"
    logs = cli(env, "logs", "clijob")
    assert "hello from the training container" in logs.stdout and "done" in logs.stdout


def test_run_exits_non_zero_for_a_failed_job(env: dict[str, str], tmp_path: Path) -> None:
    done = cli(env, "run", write_job(tmp_path, job("clifail", ["fail", "broken"])))
    assert done.returncode == 1
    assert "FailureReason: AlgorithmError: broken" in done.stdout


def test_stop_and_logs_from_another_terminal(env: dict[str, str], tmp_path: Path) -> None:
    runner = start(env, "run", write_job(tmp_path, job("clistop", ["sleep", "120"])))
    try:
        wait_for(env, "clistop", "Training")
        follower = start(env, "logs", "clistop", "-f")  # it reads the log from its start
        stopped = cli(env, "stop", "clistop")
        assert stopped.returncode == 0 and "stopping clistop" in stopped.stdout
        out, _ = runner.communicate(timeout=60)
        assert runner.returncode == 3
        assert "clistop: Stopped (Stopped)" in out
        followed, _ = follower.communicate(timeout=30)
        assert "got SIGTERM, saving" in followed
    finally:
        runner.kill()


def test_a_job_whose_runner_was_killed_is_recovered(
    env: dict[str, str], tmp_path: Path, orch: Orchestrator
) -> None:
    runner = start(env, "run", write_job(tmp_path, job("orphan", ["sleep", "4"])))
    wait_for(env, "orphan", "Training")
    wait_until(lambda: logged(orch, "orphan", "sleeping"), "the container's first line")
    runner.send_signal(signal.SIGKILL)  # the supervising process dies; the container runs on
    runner.communicate(timeout=10)
    wait_until(lambda: orphaned(orch, "orphan"), "its lease to run out")
    recovered = cli(env, "recover")
    assert recovered.returncode == 0, recovered.stderr
    assert "adopted orphan" in recovered.stdout and "orphan: Completed" in recovered.stdout
    logs = cli(env, "logs", "orphan").stdout.splitlines()
    assert sum("sleeping" in line for line in logs) == 1  # resumed, not replayed
