"""Fault injection over HTTP (`Orchestrator.InjectFault`), and a retried job seen by boto3."""

from __future__ import annotations

import json
from typing import Any

import pytest

from orchestrator import Orchestrator
from orchestrator.api.server import ApiServer
from tests.api.test_wire import JSON11, call, error_of
from tests.integration.conftest import job, logged, wait_until

pytestmark = pytest.mark.docker


def inject(server: ApiServer, body: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
    headers = {"Content-Type": JSON11, "X-Amz-Target": "Orchestrator.InjectFault"}
    return call(server, "POST", "/", json.dumps(body).encode(), headers)


def test_a_fault_injected_over_http_is_retried(
    server: ApiServer, sm: Any, orch: Orchestrator
) -> None:
    sm.create_training_job(
        **job("http-fault", ["sleep", "2"], RetryStrategy={"MaximumRetryAttempts": 1})
    )
    wait_until(lambda: logged(orch, "http-fault", "sleeping"), "the job to train")
    status, _, body = inject(
        server, {"TrainingJobName": "http-fault", "FaultType": "internal-error"}
    )
    assert status == 200, body
    assert json.loads(body)["FaultType"] == "internal-error"
    sm.get_waiter("training_job_completed_or_stopped").wait(
        TrainingJobName="http-fault", WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    described = sm.describe_training_job(TrainingJobName="http-fault")
    assert described["TrainingJobStatus"] == "Completed"
    assert described["RetryStrategy"] == {"MaximumRetryAttempts": 1}
    messages = [t["StatusMessage"] for t in described["SecondaryStatusTransitions"]]
    assert any(
        m.startswith("Retrying the training job: retry 1 of 1 (attempt 2)") for m in messages
    )


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"FaultType": "internal-error"}, "TrainingJobName is required"),
        ({"TrainingJobName": "x", "FaultType": "meteor"}, "fault kind must be one of"),
        (
            {"TrainingJobName": "x", "FaultType": "internal-error", "AfterSeconds": "soon"},
            "AfterSeconds",
        ),
        (
            {"TrainingJobName": "missing", "FaultType": "internal-error"},
            "Requested resource not found",
        ),
    ],
)
def test_bad_fault_requests_are_validation_errors(
    server: ApiServer, body: dict[str, Any], message: str
) -> None:
    error = error_of(*inject(server, body))
    assert error["__type"] == "ValidationException" and message in error["message"]
