"""Describe, list and stop, as API responses, and the engine running jobs side by side."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.engine.engine import Engine
from orchestrator.errors import ResourceInUse, ValidationError
from orchestrator.operations import training_jobs as service
from orchestrator.validation.model import shape_errors
from tests.unit.harness import Harness, request


@pytest.fixture
def h(tmp_path: Path) -> Harness:
    harness = Harness(tmp_path)
    harness.program("fake/ok:latest", duration=5, files={"model/m": "m"})
    harness.program("fake/long:latest", duration=10_000)
    return harness


def _output_errors(response: dict[str, object], operation: str) -> list[str]:
    """Check a response against the botocore output shape, as clients will parse it."""
    return shape_errors(response, f"{operation}Response")


def test_describe_matches_the_output_shape(h: Harness) -> None:
    h.run(request(Tags=[{"Key": "team", "Value": "ml"}]))
    response = service.describe(h.store, "job-1")
    assert _output_errors(response, "DescribeTrainingJob") == []
    assert response["TrainingJobStatus"] == "Completed"
    assert response["ModelArtifacts"]["S3ModelArtifacts"].endswith("job-1/output/model.tar.gz")
    assert response["TrainingTimeInSeconds"] == response["BillableTimeInSeconds"] >= 5
    assert [t["Status"] for t in response["SecondaryStatusTransitions"]][-1] == "Completed"
    assert response["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600}


def test_describe_of_a_missing_job_is_a_validation_error(h: Harness) -> None:
    with pytest.raises(ValidationError, match="Requested resource not found"):
        service.describe(h.store, "nope")


def test_list_matches_the_output_shape_and_validates(h: Harness) -> None:
    h.run(request())
    response = service.list_jobs(h.store, {"StatusEquals": "Completed"})
    assert _output_errors(response, "ListTrainingJobs") == []
    assert [s["TrainingJobName"] for s in response["TrainingJobSummaries"]] == ["job-1"]
    with pytest.raises(ValidationError, match="maxResults"):
        service.list_jobs(h.store, {"MaxResults": 1000})
    with pytest.raises(ValidationError, match="CreationTimeAfter"):
        service.list_jobs(h.store, {"CreationTimeAfter": "yesterday"})
    assert service.list_jobs(h.store, {"WarmPoolStatusEquals": "Available"}) == {
        "TrainingJobSummaries": []
    }


def test_stop_rules(h: Harness) -> None:
    with pytest.raises(ValidationError, match="Requested resource not found"):
        service.request_stop(h.store, "nope", h.clock)
    h.run(request())
    with pytest.raises(ValidationError, match="already ended with status Completed"):
        service.request_stop(h.store, "job-1", h.clock)


def test_stopping_twice_is_harmless(h: Harness) -> None:
    h.supervisor(request())
    service.request_stop(h.store, "job-1", h.clock)
    service.request_stop(h.store, "job-1", h.clock)
    assert h.store.require("job-1").secondary_status == "Stopping"


def test_jobs_run_side_by_side_and_stop_alone(h: Harness) -> None:
    engine = Engine(h.ctx)
    h.create(engine, request(TrainingJobName="runs"))
    long = {"TrainingImage": "fake/long:latest", "TrainingInputMode": "File"}
    h.create(engine, request(TrainingJobName="stopped", AlgorithmSpecification=long))
    service.request_stop(h.store, "stopped", h.clock)
    engine.join(timeout=30)
    assert h.store.require("runs").secondary_status == "Completed"
    assert h.store.require("stopped").secondary_status == "Stopped"
    with pytest.raises(ResourceInUse):
        h.create(engine, request(TrainingJobName="runs"))


def test_an_invalid_request_creates_nothing(h: Harness) -> None:
    with pytest.raises(ValidationError):
        h.create(Engine(h.ctx), request(TrainingJobName="bad_name"))
    assert h.store.page(service.ListQuery())[0] == []
    assert h.runtime.containers == {}
