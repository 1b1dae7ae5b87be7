"""Processing jobs on the fake runtime: the processing contract, statuses, outputs, errors."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from orchestrator.engine.engine import Engine
from orchestrator.errors import ResourceInUse, ValidationError
from orchestrator.operations import processing_jobs as processing
from orchestrator.operations import training_jobs
from orchestrator.search import service as search_service
from orchestrator.store.search_index import SearchIndex
from tests.unit.harness import Harness, request, until

BASE: dict[str, Any] = {
    "ProcessingJobName": "proc-1",
    "RoleArn": "arn:aws:iam::123456789012:role/SageMakerRole",
    "AppSpecification": {"ImageUri": "fake/proc:latest", "ContainerArguments": ["--x", "1"]},
    "ProcessingResources": {
        "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 5}
    },
    "ProcessingInputs": [
        {
            "InputName": "data",
            "S3Input": {
                "S3Uri": "s3://bucket/data/train",
                "LocalPath": "/opt/ml/processing/input/data",
                "S3DataType": "S3Prefix",
                "S3InputMode": "File",
            },
        }
    ],
    "ProcessingOutputConfig": {
        "Outputs": [
            {
                "OutputName": "report",
                "S3Output": {
                    "S3Uri": "s3://bucket/reports",
                    "LocalPath": "/opt/ml/processing/output",
                    "S3UploadMode": "EndOfJob",
                },
            }
        ]
    },
    "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    "Environment": {"MODE": "test"},
}


def proc(**changes: Any) -> dict[str, Any]:
    result = copy.deepcopy(BASE)
    result.update(changes)
    return result


@pytest.fixture
def h(tmp_path: Path) -> Harness:
    return Harness(tmp_path)


def _run(h: Harness, req: dict[str, Any]) -> dict[str, Any]:
    engine = Engine(h.ctx)
    spec = processing.create(h.store, h.settings, h.clock, engine.owner, req)
    engine.submit(spec)
    engine.join(timeout=30)
    return processing.describe(h.store, req["ProcessingJobName"])


def test_a_processing_job_gets_its_inputs_config_and_uploads_its_outputs(h: Harness) -> None:
    seen: dict[str, Any] = {}

    def look(opt_ml: Path) -> None:
        seen["input"] = sorted(p.name for p in (opt_ml / "processing/input/data").iterdir())
        seen["config"] = json.loads((opt_ml / "config/processingjobconfig.json").read_text())
        seen["resources"] = json.loads((opt_ml / "config/resourceconfig.json").read_text())

    h.program(
        "fake/proc:latest",
        files={"processing/output/report.txt": "fine", "output/message": "all good"},
        on_start=look,
    )
    described = _run(h, proc())
    assert described["ProcessingJobStatus"] == "Completed"
    assert described["ExitMessage"] == "all good" and "FailureReason" not in described
    assert described["ProcessingStartTime"] <= described["ProcessingEndTime"]
    assert seen["input"] == ["part-0.csv"]
    assert seen["config"]["ProcessingJobArn"].endswith(":processing-job/proc-1")
    assert seen["resources"] == {"current_host": "algo-1", "hosts": ["algo-1"]}
    report = h.settings.object_store_root / "bucket" / "reports" / "report.txt"
    assert report.read_text() == "fine"
    (container,) = h.runtime.containers.values()
    assert container.spec.entrypoint is None  # the image's ENTRYPOINT runs
    assert container.spec.command == ["--x", "1"]
    assert container.spec.environment["MODE"] == "test"
    assert "TRAINING_JOB_NAME" not in container.spec.environment


def test_a_failing_job_reports_its_exit_message(h: Harness) -> None:
    h.program("fake/proc:latest", exit_code=3, files={"output/message": "bad column 'x'"})
    described = _run(h, proc())
    assert described["ProcessingJobStatus"] == "Failed"
    assert described["ExitMessage"] == "bad column 'x'"
    assert described["FailureReason"] == "AlgorithmError: bad column 'x'"


def test_without_a_message_the_exit_code_is_the_reason(h: Harness) -> None:
    h.program("fake/proc:latest", exit_code=3)
    described = _run(h, proc())
    assert described["FailureReason"] == (
        "AlgorithmError: the processing container exited with code 3"
    )
    assert "ExitMessage" not in described


def test_processing_and_training_jobs_keep_their_names_apart(h: Harness) -> None:
    h.program("fake/proc:latest")
    h.program("fake/ok:latest")
    _run(h, proc(ProcessingJobName="job-1"))
    engine = Engine(h.ctx)
    h.create(engine, request())  # a training job of the same name
    engine.join(timeout=30)
    assert training_jobs.describe(h.store, "job-1")["TrainingJobStatus"] == "Completed"
    listed = training_jobs.list_jobs(h.store, {})["TrainingJobSummaries"]
    assert [s["TrainingJobName"] for s in listed] == ["job-1"]
    summaries = processing.list_jobs(h.store, {})["ProcessingJobSummaries"]
    assert [(s["ProcessingJobName"], s["ProcessingJobStatus"]) for s in summaries] == [
        ("job-1", "Completed")
    ]
    index = SearchIndex(h.store.db)
    found = search_service.search(h.store, h.metrics, index, {"Resource": "TrainingJob"})
    assert [r["TrainingJob"]["TrainingJobName"] for r in found["Results"]] == ["job-1"]
    assert found["TotalHits"]["Value"] == 1  # the processing job is no training job
    with pytest.raises(ResourceInUse, match="Processing job 'job-1' already exists"):
        processing.create(h.store, h.settings, h.clock, "owner", proc(ProcessingJobName="job-1"))


def test_list_filters_by_name_without_the_stored_suffix(h: Harness) -> None:
    h.program("fake/proc:latest")
    for name in ("alpha", "beta", "alphabet"):
        _run(h, proc(ProcessingJobName=name))
    named = processing.list_jobs(h.store, {"NameContains": "alpha", "SortBy": "Name"})
    assert [s["ProcessingJobName"] for s in named["ProcessingJobSummaries"]] == [
        "alphabet",
        "alpha",
    ]  # Descending by default
    assert processing.list_jobs(h.store, {"NameContains": "processing"}) == {
        "ProcessingJobSummaries": []
    }
    page = processing.list_jobs(
        h.store, {"MaxResults": 2, "SortBy": "Name", "SortOrder": "Ascending"}
    )
    assert [s["ProcessingJobName"] for s in page["ProcessingJobSummaries"]] == ["alpha", "alphabet"]
    rest = processing.list_jobs(
        h.store, {"SortBy": "Name", "SortOrder": "Ascending", "NextToken": page["NextToken"]}
    )
    assert [s["ProcessingJobName"] for s in rest["ProcessingJobSummaries"]] == ["beta"]


def test_stop_sends_sigterm_and_ends_stopped(h: Harness) -> None:
    h.program("fake/proc:latest", duration=1000, files={"processing/output/partial.txt": "p"})
    engine = Engine(h.ctx)
    spec = processing.create(h.store, h.settings, h.clock, engine.owner, proc())
    engine.submit(spec)
    until(
        lambda: (
            bool(h.runtime.containers)
            and all(c.started_at is not None for c in h.runtime.containers.values())
        )
    )
    processing.stop(h.store, "proc-1", h.clock)
    engine.join(timeout=30)
    described = processing.describe(h.store, "proc-1")
    assert described["ProcessingJobStatus"] == "Stopped"
    assert (h.settings.object_store_root / "bucket" / "reports" / "partial.txt").exists()
    with pytest.raises(ValidationError, match="already ended with status Stopped"):
        processing.stop(h.store, "proc-1", h.clock)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            {"LocalPath": "/data/in"},
            "S3Input.LocalPath must begin with /opt/ml/processing/",
        ),
        ({"LocalPath": "/opt/ml/processing/../x"}, "must not contain '..'"),
        ({"S3InputMode": "Pipe"}, "S3InputMode Pipe is not supported by this orchestrator yet"),
        ({"S3CompressionType": "Gzip"}, "S3CompressionType Gzip applies to Pipe input mode only"),
        ({"LocalPath": "/opt/ml/processing/output/in"}, "overlap"),
    ],
)
def test_bad_inputs_are_refused_naming_the_field(
    h: Harness, change: dict[str, Any], expected: str
) -> None:
    req = proc()
    req["ProcessingInputs"][0]["S3Input"].update(change)
    with pytest.raises(ValidationError, match=expected.replace("(", r"\(")):
        processing.create(h.store, h.settings, h.clock, "owner", req)


def test_a_missing_job_is_answered_as_the_service_does(h: Harness) -> None:
    with pytest.raises(ValidationError, match="Could not find requested job with name nope"):
        processing.describe(h.store, "nope")


def test_an_executions_violations_come_from_its_message_else_its_typed_report(h: Harness) -> None:
    from orchestrator.operations.monitoring_schedules import Reports
    from orchestrator.store.monitoring import ExecutionRecord, ScheduleRecord, ScheduleStore

    schedules = ScheduleStore(h.store.db)
    schedules.insert(ScheduleRecord("s", "arn:s", {}, "Scheduled", "d", 0.0, 0.0, 1.0, None))
    h.program("fake/proc:latest")  # an analyzer of your own: no ExitMessage convention
    _run(h, proc())
    job = h.store.require("proc-1.processing")
    reports = Reports(schedules, h.objects)
    report = h.settings.object_store_root / "bucket" / "reports" / "constraint_violations.json"
    report.parent.mkdir(parents=True, exist_ok=True)
    violation = {
        "constraint_check_type": "LessThanThreshold",
        "description": "Metric auc with 0.6 was LessThanThreshold 0.9",
        "metric_name": "auc",
    }
    report.write_text(json.dumps({"violations": [violation]}))
    for slot, expected in ((1.0, 1), (2.0, 0)):
        assert schedules.claim("s", slot, 0.0, slot + 1)
        execution = ExecutionRecord("s", slot, 0.0, job.name, None)
        assert reports.violations(execution, job) == expected
        report.unlink(missing_ok=True)  # the second execution's report is missing
    assert [e.violations for e in schedules.executions("s")] == [1, 0]  # kept once counted
