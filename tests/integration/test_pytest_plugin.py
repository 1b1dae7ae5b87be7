"""The pytest plugin, run the way a team runs it: suites in a pytest subprocess (pytester), on
the real Docker engine; their results, failure output and clean-up checked from outside."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from pathlib import Path
from typing import Any

import docker.errors
import pytest

from orchestrator.runtime.protocol import LABEL_STORE

pytestmark = pytest.mark.docker

SUITE = """
import pytest

pytestmark = pytest.mark.sagemaker_container


def request(name, *arguments):
    return {
        "TrainingJobName": name,
        "RoleArn": "arn:aws:iam::123456789012:role/SageMakerRole",
        "AlgorithmSpecification": {
            "TrainingImage": "orchestrator/testbox:latest",
            "TrainingInputMode": "File",
            "ContainerArguments": list(arguments),
        },
        "OutputDataConfig": {"S3OutputPath": "s3://suite/out"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        "StoppingCondition": {"MaxRuntimeInSeconds": 300},
    }


def test_completes(run_training_job):
    run_training_job(request("fine", "ok")).assert_completed().assert_logged("hello from")


def test_expects_completion_of_a_failing_job(run_training_job):
    run_training_job(request("broken", "fail", "the labels column is missing")).assert_completed()
"""


def _containers_of(docker_client: Any, home: Path) -> list[Any]:
    found = docker_client.containers.list(all=True, filters={"label": LABEL_STORE})
    return [c for c in found if c.labels.get(LABEL_STORE, "").startswith(str(home))]


def test_a_suite_passes_and_fails_with_the_story_and_leaves_nothing(
    pytester: pytest.Pytester, docker_client: Any, tmp_path: Path
) -> None:
    pytester.makepyfile(test_suite=SUITE)
    home = tmp_path / "stores"
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", f"--orchestrator-home={home}")
    result.assert_outcomes(passed=1, failed=1)
    output = result.stdout.str()
    assert "expected training job broken to complete; it ended Failed" in output
    assert "AlgorithmError: the labels column is missing" in output
    assert "Downloading: " in output and "| failing on purpose" in output  # history and log
    assert not _containers_of(docker_client, home)
    assert not list(home.glob("session-*"))  # the stores went too


def test_without_docker_the_suite_skips_saying_why(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyfile(test_suite=SUITE)
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    monkeypatch.setenv("CI", "false")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rs")
    result.assert_outcomes(skipped=2)
    assert "no Docker daemon answers" in result.stdout.str()


def test_a_killed_runs_leftovers_are_reaped_by_the_next(
    pytester: pytest.Pytester, docker_client: Any, tmp_path: Path
) -> None:
    home = tmp_path / "stores"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    session = home / f"session-{dead.stdout.strip()}-abcdef"
    (session / "001-killed").mkdir(parents=True)
    (session / "pid").write_text(dead.stdout.strip())
    database = session / "001-killed" / "orchestrator.db"
    database.touch()
    leftover = docker_client.containers.create(
        "orchestrator/testbox:latest", ["sleep", "600"], labels={LABEL_STORE: str(database)}
    )
    try:
        pytester.makepyfile(test_suite=SUITE.split("def test_expects")[0])
        result = pytester.runpytest_subprocess(
            "-p", "no:cacheprovider", f"--orchestrator-home={home}", "--orchestrator-keep"
        )
        result.assert_outcomes(passed=1)
        assert not _containers_of(docker_client, session)
        assert not session.exists()
        (kept,) = home.glob("session-*")  # this run's, kept on request
        assert (kept / "kept").exists() and list(kept.glob("*/orchestrator.db"))
    finally:  # removed by the run already, unless the test failed
        with contextlib.suppress(docker.errors.NotFound):
            leftover.remove(force=True)


ENDPOINT_SUITE = """
import os

import boto3
import pytest

pytestmark = pytest.mark.sagemaker_container
SEEN = []


@pytest.mark.parametrize("n", [1, 2])
def test_endpoint(n, sagemaker_endpoint):
    assert os.environ["AWS_ENDPOINT_URL_SAGEMAKER"] == sagemaker_endpoint.url
    assert boto3.client("sagemaker").list_training_jobs()["TrainingJobSummaries"] == []
    SEEN.append(sagemaker_endpoint.url)
    if n == 2:  # one server for both tests, or one each
        assert len(set(SEEN)) == int(os.environ["EXPECTED_ENDPOINTS"])
"""


@pytest.mark.parametrize(("scope", "expected"), [("session", 1), ("function", 2)])
def test_the_endpoint_lives_as_long_as_its_scope(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, scope: str, expected: int
) -> None:
    pytester.makepyfile(test_suite=ENDPOINT_SUITE)
    monkeypatch.setenv("EXPECTED_ENDPOINTS", str(expected))
    monkeypatch.delenv("AWS_ENDPOINT_URL_SAGEMAKER", raising=False)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", f"--orchestrator-endpoint-scope={scope}"
    )
    result.assert_outcomes(passed=2)
