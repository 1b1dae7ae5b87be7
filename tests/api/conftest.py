"""A live `orchestrator serve` on a free loopback port, and real AWS clients pointed at it."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from orchestrator import Orchestrator
from orchestrator.api.server import ApiServer
from orchestrator.validation.model import shape_errors
from tests.integration.conftest import env, job, orch, settings  # noqa: F401  (fixtures)

SERVICES = {
    "sagemaker": "sagemaker",
    "sagemaker-metrics": "sagemaker-metrics",
    "logs": "logs",
    "cloudwatch": "cloudwatch",
}


@contextlib.contextmanager
def serving(orch: Orchestrator) -> Iterator[ApiServer]:  # noqa: F811
    """`orchestrator serve`'s server for `orch`, on a free loopback port, while in the block."""
    api = ApiServer(orch, "127.0.0.1", 0)
    thread = threading.Thread(target=api.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        api.shutdown()
        api.server_close()


@pytest.fixture
def server(orch: Orchestrator) -> Iterator[ApiServer]:  # noqa: F811
    with serving(orch) as api:
        yield api


@pytest.fixture
def aws_env(server: ApiServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """What a user sets to point unmodified clients at the server (dummy credentials)."""
    values = {
        "AWS_ENDPOINT_URL_SAGEMAKER": server.url,
        "AWS_ENDPOINT_URL_SAGEMAKER_METRICS": server.url,
        # boto3 names the variable after the serviceId "CloudWatch Logs".
        "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS": server.url,
        "AWS_ENDPOINT_URL_CLOUDWATCH": server.url,
        # Any other client a library makes (STS, S3) lands here too, never on the internet.
        "AWS_ENDPOINT_URL": server.url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return values


class ShapeChecker:
    """Checks every raw response body against the botocore output shape of its operation."""

    def __init__(self) -> None:
        self.problems: list[str] = []
        self.checked = 0

    def __call__(self, http_response: Any, model: Any, **kwargs: Any) -> None:
        if http_response.status_code != 200 or model.output_shape is None:
            return
        service = model.service_model.service_name
        body = json.loads(http_response.content or b"{}")
        errors = shape_errors(body, model.output_shape.name, SERVICES[service])
        self.problems += [f"{model.name}: {error}" for error in errors]
        self.checked += 1


@pytest.fixture
def shapes() -> Iterator[ShapeChecker]:
    checker = ShapeChecker()
    yield checker
    assert not checker.problems, "\n".join(sorted(set(checker.problems)))


def client(service: str, checker: ShapeChecker, **kwargs: Any) -> Any:
    made = boto3.client(service, **kwargs)  # type: ignore[call-overload]
    made.meta.events.register(f"after-call.{made.meta.service_model.service_name}", checker)
    return made


@pytest.fixture
def sm(aws_env: dict[str, str], shapes: ShapeChecker) -> Any:
    return client("sagemaker", shapes)
