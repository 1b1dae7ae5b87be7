"""Describe, list and stop, as API responses, and the engine running jobs side by side."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.engine.engine import Engine
from orchestrator.errors import ResourceInUse, ResourceNotFound, ValidationError
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


# -- DeleteTrainingJob ------------------------------------------------------------------------


def _metric_request(name: str) -> dict[str, object]:
    algorithm = {
        "TrainingImage": "fake/metrics:latest",
        "TrainingInputMode": "File",
        "MetricDefinitions": [{"Name": "loss", "Regex": r"loss=([0-9.]+)"}],
    }
    tags = [{"Key": "team", "Value": "vision"}]
    return request(TrainingJobName=name, AlgorithmSpecification=algorithm, Tags=tags)


def test_deleting_an_ended_job_forgets_everything_but_its_artifacts(h: Harness) -> None:
    h.program("fake/metrics:latest", duration=5, lines=["loss=0.5"])
    h.run(_metric_request("job-1"))
    record = h.store.require("job-1")
    assert h.metrics.series(record.arn, "loss") and h.artifact().exists()
    service.delete(h.store, h.settings, "JOB-1", h.clock.now())  # any case finds it
    assert h.store.get("job-1") is None
    with pytest.raises(ValidationError, match="not found"):
        service.describe(h.store, "job-1", now=h.clock.now())
    assert h.metrics.series(record.arn, "loss") == [] and h.store.tags("job-1") == {}
    assert not (h.settings.jobs_root / "job-1").exists()  # its logs
    assert h.artifact().exists()  # the user's S3 objects stay
    h.run(_metric_request("job-1"))  # the name is free again
    assert h.store.require("job-1").status == "Completed"


def test_a_job_that_has_not_ended_or_keeps_a_pool_cannot_be_deleted(h: Harness) -> None:
    h.program("fake/long:latest", duration=100_000)
    engine = Engine(h.ctx)
    algorithm = {"TrainingImage": "fake/long:latest", "TrainingInputMode": "File"}
    long = {"MaxRuntimeInSeconds": 200_000}
    h.create(engine, request(AlgorithmSpecification=algorithm, StoppingCondition=long))
    with pytest.raises(ResourceInUse, match="it is InProgress"):
        service.delete(h.store, h.settings, "job-1", h.clock.now())
    service.request_stop(h.store, "job-1", h.clock)
    engine.join(timeout=30)
    keep = {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10}
    h.run(
        request(TrainingJobName="pooled", ResourceConfig={**keep, "KeepAlivePeriodInSeconds": 60})
    )
    with pytest.raises(ResourceInUse, match="Available warm pool"):
        service.delete(h.store, h.settings, "pooled", h.clock.now())
    h.clock.advance(61)  # the pool's keep-alive runs out: now it can go
    service.delete(h.store, h.settings, "pooled", h.clock.now())
    with pytest.raises(ResourceNotFound):
        service.delete(h.store, h.settings, "pooled", h.clock.now())


def test_a_job_whose_supervisor_still_cleans_up_cannot_be_deleted_yet(h: Harness) -> None:
    h.run(request())
    h.store.claim("job-1", "still-cleaning", h.clock.now(), 30)  # its lease is live
    with pytest.raises(ResourceInUse, match="still cleaning up"):
        service.delete(h.store, h.settings, "job-1", h.clock.now(), patience=0.1)
    h.clock.advance(31)  # the process died: its lease ran out
    service.delete(h.store, h.settings, "job-1", h.clock.now())


def test_a_job_deleted_while_it_was_being_indexed_leaves_no_index_rows(h: Harness) -> None:
    from orchestrator.search.properties import Row
    from orchestrator.store.search_index import SearchIndex

    h.run(request())
    index = SearchIndex(h.store.db)
    service.delete(h.store, h.settings, "job-1", h.clock.now())
    index.replace([("job-1", 3, [Row("TrainingJobName", 0, 0, "job-1", None)])])  # too late
    rows = h.store.db.read().execute("SELECT count(*) FROM search_props").fetchone()[0]
    assert rows == 0
