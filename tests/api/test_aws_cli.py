"""The real AWS CLI against `orchestrator serve`: the commands users already have in scripts."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import job

pytestmark = pytest.mark.docker
AWS = str(Path(sys.executable).with_name("aws"))


def aws(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([AWS, *args], env=env, capture_output=True, text=True, timeout=180)


@pytest.fixture
def cli_env(aws_env: dict[str, str], env: dict[str, str]) -> dict[str, str]:
    return {**env, **aws_env}


def settle(env: dict[str, str], name: str) -> None:
    """Poll until the job has ended, so the CLI waiter (120 s between polls) answers at once."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status = aws(
            env,
            "sagemaker",
            "describe-training-job",
            "--training-job-name",
            name,
            "--query",
            "TrainingJobStatus",
            "--output",
            "text",
        ).stdout.strip()
        if status in ("Completed", "Failed", "Stopped"):
            return
        time.sleep(0.2)
    raise AssertionError(f"{name} did not end")


def create(env: dict[str, str], request_uri: str) -> subprocess.CompletedProcess[str]:
    return aws(env, "sagemaker", "create-training-job", "--cli-input-json", request_uri)


def wait(env: dict[str, str], name: str) -> subprocess.CompletedProcess[str]:
    """`aws sagemaker wait training-job-completed-or-stopped`: exit 0, or 255 on failure."""
    return aws(
        env, "sagemaker", "wait", "training-job-completed-or-stopped", "--training-job-name", name
    )


def _write(tmp_path: Path, request: dict[str, Any]) -> str:
    path = tmp_path / "job.json"
    path.write_text(json.dumps(request))
    return f"file://{path}"


def test_create_wait_describe_list(cli_env: dict[str, str], tmp_path: Path) -> None:
    created = create(cli_env, _write(tmp_path, job("cli-ok", ["ok"])))
    assert created.returncode == 0, created.stderr
    settle(cli_env, "cli-ok")
    assert json.loads(created.stdout)["TrainingJobArn"].endswith("/cli-ok")
    waited = wait(cli_env, "cli-ok")
    assert waited.returncode == 0, waited.stderr
    described = json.loads(
        aws(cli_env, "sagemaker", "describe-training-job", "--training-job-name", "cli-ok").stdout
    )
    assert described["TrainingJobStatus"] == "Completed"
    listed = aws(
        cli_env,
        "sagemaker",
        "list-training-jobs",
        "--name-contains",
        "cli",
        "--query",
        "TrainingJobSummaries[].TrainingJobName",
        "--output",
        "text",
    )
    assert listed.stdout.split() == ["cli-ok"]


def test_wait_fails_for_a_failed_job_and_errors_exit_255(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    create(cli_env, _write(tmp_path, job("cli-fail", ["fail", "oops"])))
    settle(cli_env, "cli-fail")
    waited = wait(cli_env, "cli-fail")
    assert waited.returncode == 255 and "terminal failure state" in waited.stderr
    missing = aws(cli_env, "sagemaker", "describe-training-job", "--training-job-name", "nope")
    assert missing.returncode == 254 or missing.returncode == 255
    assert "ValidationException" in missing.stderr
    expression = '{"Filters": [{"Name": "TrainingJobStatus", "Value": "Failed"}]}'
    search = aws(
        cli_env,
        "sagemaker",
        "search",
        "--resource",
        "TrainingJob",
        "--search-expression",
        expression,
        "--query",
        "Results[].TrainingJob.TrainingJobName",
        "--output",
        "text",
    )
    assert search.returncode == 0, search.stderr
    assert search.stdout.split() == ["cli-fail"]


def test_stop_from_the_cli(cli_env: dict[str, str], tmp_path: Path) -> None:
    create(cli_env, _write(tmp_path, job("cli-stop", ["sleep", "120"])))
    stopped = aws(cli_env, "sagemaker", "stop-training-job", "--training-job-name", "cli-stop")
    assert stopped.returncode == 0, stopped.stderr
    settle(cli_env, "cli-stop")
    waited = wait(cli_env, "cli-stop")
    assert waited.returncode == 0
    status = aws(
        cli_env,
        "sagemaker",
        "describe-training-job",
        "--training-job-name",
        "cli-stop",
        "--query",
        "TrainingJobStatus",
        "--output",
        "text",
    )
    assert status.stdout.strip() == "Stopped"
