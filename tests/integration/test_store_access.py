"""Training containers that call S3 themselves: the endpoint (relayed from this machine's
loopback) and credentials from the container credentials endpoint, never in plain text."""

from __future__ import annotations

import json
import tarfile
from typing import Any

import pytest

from orchestrator import Orchestrator
from orchestrator.engine.hostbridge import GATEWAY, HOST_ALIAS, host_bridge
from orchestrator.runtime.docker import DockerRuntime
from tests.integration.conftest import job, logged

pytestmark = pytest.mark.docker


@pytest.fixture
def reach(s3_orch: Orchestrator) -> Orchestrator:
    """The S3 store's orchestrator, with a bucket holding one note."""
    client = s3_orch.objects.client  # type: ignore[attr-defined]
    client.create_bucket(Bucket="reach")
    client.put_object(Bucket="reach", Key="note.txt", Body=b"hello from S3")
    return s3_orch


def _completed(orch: Orchestrator, request: dict[str, Any]) -> dict[str, Any]:
    request["OutputDataConfig"] = {"S3OutputPath": "s3://reach/out"}
    orch.create_training_job(request)
    described = orch.wait(request["TrainingJobName"], timeout=120)
    lines = [line for _, line in orch.log_events(request["TrainingJobName"])]
    why = "\n".join([str(described.get("FailureReason")), *lines])
    assert described["TrainingJobStatus"] == "Completed", why
    return described


def test_a_container_reads_s3_with_the_credentials_the_platform_serves(
    reach: Orchestrator,
) -> None:
    _completed(reach, job("calls-s3", ["s3-get", "reach/note.txt"]))
    assert logged(reach, "calls-s3", "credentials for testing")
    assert logged(reach, "calls-s3", "read hello from S3")


def test_every_host_of_a_distributed_job_reaches_the_store(reach: Orchestrator) -> None:
    request = job("calls-s3-twice", ["s3-get", "reach/note.txt"])
    request["ResourceConfig"]["InstanceCount"] = 2
    _completed(reach, request)
    assert logged(reach, "calls-s3-twice", "read hello from S3", times=2)


def _contract_env(orch: Orchestrator, name: str, **changes: Any) -> dict[str, str]:
    request = job(name, ["contract"], **changes)
    _completed(orch, request)
    client = orch.objects.client  # type: ignore[attr-defined]
    body = client.get_object(Bucket="reach", Key=f"out/{name}/output/model.tar.gz")["Body"]
    with tarfile.open(fileobj=body, mode="r|gz") as tar:
        for member in tar:
            if member.name == "contract.json":
                return dict(json.load(tar.extractfile(member))["env"])  # type: ignore[arg-type]
    raise AssertionError("no contract.json in the model")


def test_the_container_holds_a_token_never_a_secret(reach: Orchestrator, s3_env: str) -> None:
    env = _contract_env(reach, "holds-token")
    assert env["AWS_CONTAINER_CREDENTIALS_FULL_URI"].startswith(f"http://{GATEWAY}:")
    assert env["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
    assert "AWS_SECRET_ACCESS_KEY" not in env and "testing" not in env.values()
    port = s3_env.rsplit(":", 1)[1]
    assert env["AWS_ENDPOINT_URL_S3"].startswith(f"http://{HOST_ALIAS}:")
    assert not env["AWS_ENDPOINT_URL_S3"].endswith(f":{port}")  # the relay, not the loopback
    assert env["AWS_DEFAULT_REGION"] == "us-east-1"


def test_an_isolated_job_gets_no_way_to_the_store(reach: Orchestrator) -> None:
    env = _contract_env(reach, "isolated-s3", EnableNetworkIsolation=True)
    assert not any(key.startswith("AWS_CONTAINER_") for key in env)
    assert "AWS_ENDPOINT_URL_S3" not in env


def test_botocores_container_provider_takes_the_credentials_until_revoked(
    s3_env: str, docker_client: Any
) -> None:
    from botocore.credentials import ContainerProvider
    from botocore.exceptions import CredentialRetrievalError

    bridge = host_bridge(DockerRuntime(docker_client))
    assert bridge is not None
    access = bridge.grant()
    provider = ContainerProvider(environ=access.environment)
    loaded = provider.load()
    assert loaded is not None
    frozen = loaded.get_frozen_credentials()
    assert (frozen.access_key, frozen.secret_key) == ("testing", "testing")
    bridge.revoke(access.token)
    with pytest.raises(CredentialRetrievalError):
        ContainerProvider(environ=access.environment).load()
