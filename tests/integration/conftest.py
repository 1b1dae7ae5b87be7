"""An orchestrator on the real Docker engine with a private store; everything removed after."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker.errors
import pytest

from orchestrator import Orchestrator, Settings
from orchestrator.runtime.protocol import LABEL_JOB, LABEL_STORE

EXAMPLE_DATA = Path(__file__).resolve().parents[2] / "examples" / "linear-regression" / "data"


def leftover_containers(client: Any, settings: Settings) -> list[Any]:
    """This store's containers. Sparse: listing does not inspect each one, so a container the
    engine loop removes meanwhile cannot make the listing fail."""
    return list(
        client.containers.list(
            all=True, sparse=True, filters={"label": f"{LABEL_STORE}={settings.database_path}"}
        )
    )


def leftover_networks(client: Any, settings: Settings) -> list[Any]:
    return list(client.networks.list(filters={"label": f"{LABEL_STORE}={settings.database_path}"}))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", stop_grace_seconds=2, poll_seconds=0.1, lease_seconds=2)


def leftover_services(client: Any, settings: Settings) -> list[Any]:
    """This store's Swarm services (none unless the engine is a swarm manager)."""
    if not client.info()["Swarm"].get("ControlAvailable"):
        return []
    return list(client.services.list(filters={"label": f"{LABEL_STORE}={settings.database_path}"}))


# A module whose tests run on the local engine and again on a single-node Swarm (the Swarm
# runtime: every host a service) overrides `settings` with `params=RUNTIMES` and returns
# `on_runtime(request, settings)`.
RUNTIMES = ["docker", pytest.param("swarm", marks=pytest.mark.swarm)]


def on_runtime(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    if request.param == "swarm":
        request.getfixturevalue("swarm")
    return dataclasses.replace(settings, runtime=request.param)


@pytest.fixture
def orch(settings: Settings, docker_client: Any) -> Iterator[Orchestrator]:
    orchestrator = Orchestrator(settings)
    yield orchestrator
    orchestrator.close()
    for service in leftover_services(docker_client, settings):
        with contextlib.suppress(docker.errors.NotFound):
            service.remove()
    for container in leftover_containers(docker_client, settings):
        try:
            container.remove(force=True)
        except docker.errors.APIError as exc:  # already gone, or being removed (409)
            if exc.status_code not in (404, 409):
                raise
    for network in leftover_networks(docker_client, settings):
        with contextlib.suppress(docker.errors.NotFound):
            network.remove()
    shutil.rmtree(settings.home, ignore_errors=True)


@pytest.fixture
def s3_orch(settings: Settings, orch: Orchestrator, s3_env: str) -> Iterator[Orchestrator]:
    """An orchestrator on the same store with the S3 object store (a moto server)."""
    on_s3 = Orchestrator(dataclasses.replace(settings, object_store="s3"))
    yield on_s3
    on_s3.close()


@pytest.fixture
def env(settings: Settings, orch: Orchestrator) -> dict[str, str]:
    return {
        **os.environ,
        "ORCHESTRATOR_HOME": str(settings.home),
        "ORCHESTRATOR_STOP_GRACE_SECONDS": "2",
        "ORCHESTRATOR_POLL_SECONDS": "0.1",
        "ORCHESTRATOR_LEASE_SECONDS": "2",
    }


def job(name: str, args: list[str] | None = None, **changes: Any) -> dict[str, Any]:
    """A CreateTrainingJob request for the test image (ContainerArguments pick its behaviour)."""
    algorithm: dict[str, Any] = {
        "TrainingImage": "orchestrator/testbox:latest",
        "TrainingInputMode": "File",
    }
    if args:
        algorithm["ContainerArguments"] = args
    request: dict[str, Any] = {
        "TrainingJobName": name,
        "RoleArn": "arn:aws:iam::123456789012:role/SageMakerRole",
        "AlgorithmSpecification": algorithm,
        "OutputDataConfig": {"S3OutputPath": "s3://artifacts/out"},
        "ResourceConfig": {
            "InstanceType": "ml.m5.large",
            "InstanceCount": 1,
            "VolumeSizeInGB": 1,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    }
    request.update(changes)
    return request


def artifact(settings: Settings, name: str, file: str = "model.tar.gz") -> Path:
    return settings.object_store_root / "artifacts" / "out" / name / "output" / file


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 60) -> None:
    """Wait for an event (a status, a log line, a lease running out), with a generous bound."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def logged(orch: Orchestrator, name: str, text: str, times: int = 1) -> bool:
    """The job's log holds `text` in at least `times` lines."""
    return sum(text in line for _, line in orch.log_events(name)) >= times


def secondary(orch: Orchestrator, name: str) -> str:
    return str(orch.describe_training_job(name)["SecondaryStatus"])


def orphaned(orch: Orchestrator, name: str) -> bool:
    """The job's supervising process is dead and its lease has run out."""
    return not orch.store.require(name).has_live_owner(time.time())


def training_containers(client: Any, settings: Settings, name: str) -> list[Any]:
    return list(
        client.containers.list(
            all=True,
            filters={"label": [f"{LABEL_STORE}={settings.database_path}", f"{LABEL_JOB}={name}"]},
        )
    )
