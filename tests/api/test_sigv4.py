"""A server beyond loopback requires signed requests; boto3's signatures verify, others don't."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import threading
from collections.abc import Iterator
from typing import Any
from unittest import mock

import boto3
import botocore.auth
import botocore.exceptions
import pytest

from orchestrator import Orchestrator, ValidationError
from orchestrator.api.server import ApiServer
from orchestrator.api.sigv4 import Credentials

pytestmark = pytest.mark.docker
KEY = Credentials("AKIDORCHESTRATORTEST", "s3cr3t/K3y+for+tests")


@pytest.fixture
def signed_server(orch: Orchestrator) -> Iterator[ApiServer]:
    api = ApiServer(orch, "127.0.0.1", 0, credentials=KEY)
    thread = threading.Thread(target=api.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield api
    api.shutdown()
    api.server_close()


def sm(server: ApiServer, key: str = KEY.access_key_id, secret: str = KEY.secret_access_key) -> Any:
    return boto3.client(
        "sagemaker",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
    )


def _code(call: Any) -> str:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        call()
    return str(caught.value.response["Error"]["Code"])


def test_valid_signatures_are_accepted(signed_server: ApiServer) -> None:
    assert sm(signed_server).list_training_jobs()["TrainingJobSummaries"] == []
    with pytest.raises(botocore.exceptions.ClientError, match="Requested resource not found"):
        sm(signed_server).describe_training_job(TrainingJobName="with-a-body")


def test_wrong_secret_wrong_key_and_expired_are_refused(signed_server: ApiServer) -> None:
    wrong_secret = sm(signed_server, secret="not-the-secret")
    assert _code(wrong_secret.list_training_jobs) == "InvalidSignatureException"
    wrong_key = sm(signed_server, key="AKIDSOMEONEELSE")
    assert _code(wrong_key.list_training_jobs) == "UnrecognizedClientException"
    an_hour_ago = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) - dt.timedelta(hours=1)
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=an_hour_ago):
        client = sm(signed_server)
        client.meta.config.retries = {"max_attempts": 0}
        with pytest.raises(botocore.exceptions.ClientError, match="Signature expired"):
            client.list_training_jobs()


def test_unsigned_requests_are_refused(signed_server: ApiServer) -> None:
    host, port = signed_server.server_address[:2]
    connection = http.client.HTTPConnection(str(host), port, timeout=10)
    connection.request(
        "POST",
        "/",
        body=b"{}",
        headers={
            "X-Amz-Target": "SageMaker.ListTrainingJobs",
            "Content-Type": "application/x-amz-json-1.1",
        },
    )
    response = connection.getresponse()
    status, document = response.status, json.loads(response.read())
    connection.close()
    assert status == 403 and document["__type"] == "MissingAuthenticationTokenException"


def test_listening_beyond_loopback_needs_credentials(orch: Orchestrator) -> None:
    with pytest.raises(ValidationError, match="is not loopback: configure credentials"):
        ApiServer(orch, "0.0.0.0", 0)  # refused before anything is bound
