"""Shared fixtures: a Docker daemon when tests need one, and cleanup by label."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

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
    client.close()


@pytest.fixture(scope="session")
def real_gpus(docker_client: object) -> object:
    """The host's real NVIDIA GPUs, for tests marked `gpu`; a visible skip where there are none
    (also in CI: its runners have no GPU)."""
    from orchestrator.runtime.nvidia import detect_gpus

    found = detect_gpus()
    if not found:
        pytest.skip("no NVIDIA GPU here (nvidia-smi lists none): the test needs a real GPU")
    return found  # a Docker without the NVIDIA Container Toolkit fails the test, saying so
