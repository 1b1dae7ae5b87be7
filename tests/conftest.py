"""Shared fixtures: a Docker daemon when tests need one, and cleanup by label."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import pytest

pytest_plugins = ["pytester"]  # the pytest plugin's own tests run suites in a subprocess

EXAMPLE_IMAGE = "orchestrator/linear-regression:latest"
DISTRIBUTED_IMAGE = "orchestrator/distributed-regression:latest"
TEST_IMAGE = "orchestrator/testbox:latest"


def _unavailable(reason: str) -> None:
    """In CI a missing daemon or image is a failure; on a laptop, a visible skip."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def docker_client() -> Iterator[object]:
    try:
        import docker

        client = docker.from_env()
        client.ping()
    except Exception as exc:  # any failure to reach the daemon means: no Docker here
        _unavailable(f"no Docker daemon answers ({type(exc).__name__})")
    for image in (EXAMPLE_IMAGE, DISTRIBUTED_IMAGE, TEST_IMAGE):
        try:
            client.images.get(image)
        except Exception:
            _unavailable(f"image {image} is missing: run `make images`")
    yield client
    _remove_host_bridge(client)
    client.close()


def _remove_host_bridge(client: object) -> None:
    """The host bridge network jobs on the S3 store join (hostbridge.py) outlives each job;
    the test session removes it once nothing is attached (the network the tests made)."""
    import docker.errors

    from orchestrator.engine.hostbridge import NETWORK

    for network in client.networks.list(names=[NETWORK]):  # type: ignore[attr-defined]
        network.reload()
        if network.name == NETWORK and not network.attrs.get("Containers"):
            with contextlib.suppress(docker.errors.APIError):  # joined meanwhile: theirs now
                network.remove()


SWARM_HELPER_IMAGE = "orchestrator/swarm-helper:latest"


@pytest.fixture(scope="session")
def swarm(docker_client: object) -> Iterator[object]:
    """The local engine as a single-node Swarm manager, for the Swarm runtime's tests:
    initialised here if the engine is in no swarm, and left again at the end, so the engine
    is left exactly as found. An engine that is a worker of another swarm is not touched."""
    client: Any = docker_client
    state = client.info()["Swarm"]
    made = False
    if state.get("LocalNodeState") == "inactive":
        client.swarm.init(advertise_addr="127.0.0.1", listen_addr="127.0.0.1:2377")
        made = True
    elif not state.get("ControlAvailable"):
        _unavailable("this Docker engine is in a swarm but not a manager of it")
    try:
        client.images.get(SWARM_HELPER_IMAGE)
    except Exception:
        _unavailable(f"image {SWARM_HELPER_IMAGE} is missing: run `make images`")
    yield client
    if made:
        client.swarm.leave(force=True)


@pytest.fixture(scope="session")
def real_gpus(docker_client: object) -> object:
    """The host's real NVIDIA GPUs, for tests marked `gpu`; a visible skip where there are none
    (also in CI: its runners have no GPU)."""
    from orchestrator.runtime.nvidia import detect_gpus

    found = detect_gpus()
    if not found:
        pytest.skip("no NVIDIA GPU here (nvidia-smi lists none): the test needs a real GPU")
    return found  # a Docker without the NVIDIA Container Toolkit fails the test, saying so


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """A real S3-compatible server (moto) on a free loopback port, for the S3 object store."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_env(s3_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """boto3 pointed at that server, with dummy credentials, for this test only."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_server)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    return s3_server
