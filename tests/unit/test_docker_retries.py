"""The Docker runtime's short retries of transient daemon errors, on a stub API client."""

from __future__ import annotations

from typing import Any

import docker.errors
import pytest
import requests.exceptions

from orchestrator.errors import ContainerGone, RuntimeFailure
from orchestrator.runtime.docker import RETRY_ATTEMPTS, DockerRuntime


class FlakyApi:
    """Fails `failures` times with `error`, then succeeds."""

    def __init__(self, failures: int, error: Exception) -> None:
        self.failures = failures
        self.error = error
        self.calls = 0

    def start(self, container_id: str) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error


class StubClient:
    def __init__(self, api: FlakyApi) -> None:
        self.api = api


def _runtime(api: FlakyApi) -> DockerRuntime:
    return DockerRuntime(StubClient(api))  # type: ignore[arg-type]


def _server_error() -> Exception:
    response: Any = requests.Response()
    response.status_code = 503
    return docker.errors.APIError("busy", response=response)


@pytest.mark.parametrize(
    "error", [requests.exceptions.ConnectionError("reset"), _server_error()], ids=["conn", "5xx"]
)
def test_a_transient_error_is_retried_until_it_passes(error: Exception) -> None:
    api = FlakyApi(RETRY_ATTEMPTS - 1, error)
    _runtime(api).start("c1")
    assert api.calls == RETRY_ATTEMPTS


def test_retries_are_bounded_and_end_as_a_runtime_failure() -> None:
    api = FlakyApi(100, requests.exceptions.ConnectionError("reset"))
    with pytest.raises(RuntimeFailure, match="the daemon did not answer"):
        _runtime(api).start("c1")
    assert api.calls == RETRY_ATTEMPTS


def test_a_missing_container_is_not_retried_and_is_gone() -> None:
    api = FlakyApi(100, docker.errors.NotFound("no such container"))
    with pytest.raises(ContainerGone):
        _runtime(api).start("c1")
    assert api.calls == 1
