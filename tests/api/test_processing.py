"""Processing jobs through unmodified boto3 against `orchestrator serve`, on real containers."""

from __future__ import annotations

from typing import Any

import botocore.exceptions
import pytest

from orchestrator import Orchestrator, Settings
from tests.api.conftest import ShapeChecker, client
from tests.integration.conftest import wait_until

pytestmark = pytest.mark.docker

IMAGE = "orchestrator/testbox:latest"


def processing_job(name: str, **changes: Any) -> dict[str, Any]:
    request: dict[str, Any] = {
        "ProcessingJobName": name,
        "RoleArn": "arn:aws:iam::123456789012:role/SageMakerRole",
        "AppSpecification": {"ImageUri": IMAGE},
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceCount": 1,
                "InstanceType": "ml.m5.large",
                "VolumeSizeInGB": 1,
            }
        },
        "ProcessingInputs": [
            {
                "InputName": "data",
                "S3Input": {
                    "S3Uri": "s3://proc-data/in",
                    "LocalPath": "/opt/ml/processing/input/data",
                    "S3DataType": "S3Prefix",
                    "S3InputMode": "File",
                },
            }
        ],
        "ProcessingOutputConfig": {
            "Outputs": [
                {
                    "OutputName": "results",
                    "S3Output": {
                        "S3Uri": f"s3://proc-out/{name}/results",
                        "LocalPath": "/opt/ml/processing/output",
                        "S3UploadMode": "EndOfJob",
                    },
                }
            ]
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    }
    request.update(changes)
    return request


def _wait(sm: Any, name: str) -> dict[str, Any]:
    """Until the job has ended, however (boto3's waiter treats Failed as its own failure)."""
    ended = ("Completed", "Failed", "Stopped")
    wait_until(
        lambda: sm.describe_processing_job(ProcessingJobName=name)["ProcessingJobStatus"] in ended,
        f"processing job {name} to end",
        timeout=120,
    )
    return dict(sm.describe_processing_job(ProcessingJobName=name))


@pytest.fixture
def data(orch: Orchestrator, settings: Settings) -> Settings:
    folder = settings.home / "upload"
    (folder / "nested").mkdir(parents=True)
    (folder / "a.csv").write_text("1,2\n")
    (folder / "nested" / "b.csv").write_text("3,4\n")
    orch.upload(folder, "s3://proc-data/in")
    return settings


def test_inputs_in_outputs_out_and_the_log(
    sm: Any, shapes: ShapeChecker, data: Settings, aws_env: dict[str, str]
) -> None:
    script = (
        "ls -R /opt/ml/processing/input/data > /opt/ml/processing/output/listing.txt"
        " && cat /opt/ml/config/resourceconfig.json"
        " && echo processed > /opt/ml/output/message"
    )
    request = processing_job(
        "proc-ok",
        AppSpecification={"ImageUri": IMAGE, "ContainerEntrypoint": ["sh", "-c", script]},
        Tags=[{"Key": "team", "Value": "ml"}],
    )
    arn = sm.create_processing_job(**request)["ProcessingJobArn"]
    assert arn.endswith(":processing-job/proc-ok")
    described = _wait(sm, "proc-ok")
    assert described["ProcessingJobStatus"] == "Completed", described.get("FailureReason")
    assert described["ExitMessage"] == "processed"
    assert described["ProcessingInputs"] == request["ProcessingInputs"]
    listing = data.object_store_root / "proc-out" / "proc-ok" / "results" / "listing.txt"
    assert "a.csv" in listing.read_text() and "b.csv" in listing.read_text()
    summaries = sm.list_processing_jobs(NameContains="proc-ok")["ProcessingJobSummaries"]
    assert [s["ProcessingJobStatus"] for s in summaries] == ["Completed"]
    logs = client("logs", shapes)
    streams = logs.describe_log_streams(
        logGroupName="/aws/sagemaker/ProcessingJobs", logStreamNamePrefix="proc-ok/"
    )["logStreams"]
    assert [s["logStreamName"].split("-")[0:2] for s in streams] == [["proc", "ok/algo"]]
    events = logs.get_log_events(
        logGroupName="/aws/sagemaker/ProcessingJobs",
        logStreamName=streams[0]["logStreamName"],
        startFromHead=True,
    )["events"]
    assert any('"current_host": "algo-1"' in e["message"] for e in events)


def test_continuous_outputs_upload_while_the_job_runs_and_stop_ends_it(
    sm: Any, data: Settings
) -> None:
    script = (
        "mkdir -p /opt/ml/processing/live && echo early > /opt/ml/processing/live/early.txt"
        " && exec python3 /usr/local/bin/testbox sleep 600"
    )
    live = {
        "OutputName": "live",
        "S3Output": {
            "S3Uri": "s3://proc-out/live",
            "LocalPath": "/opt/ml/processing/live",
            "S3UploadMode": "Continuous",
        },
    }
    request = processing_job(
        "proc-live",
        AppSpecification={"ImageUri": IMAGE, "ContainerEntrypoint": ["sh", "-c", script]},
    )
    request["ProcessingOutputConfig"]["Outputs"].append(live)
    sm.create_processing_job(**request)
    uploaded = data.object_store_root / "proc-out" / "live" / "early.txt"
    wait_until(uploaded.exists, "the continuous output's upload while the job runs")
    status = sm.describe_processing_job(ProcessingJobName="proc-live")["ProcessingJobStatus"]
    assert status == "InProgress"
    sm.stop_processing_job(ProcessingJobName="proc-live")
    assert _wait(sm, "proc-live")["ProcessingJobStatus"] == "Stopped"


def test_a_failing_job_says_why_in_its_exit_message(sm: Any, data: Settings) -> None:
    script = "echo 'column label is missing' > /opt/ml/output/message; exit 3"
    request = processing_job(
        "proc-fail",
        AppSpecification={"ImageUri": IMAGE, "ContainerEntrypoint": ["sh", "-c", script]},
    )
    sm.create_processing_job(**request)
    described = _wait(sm, "proc-fail")
    assert described["ProcessingJobStatus"] == "Failed"
    assert described["ExitMessage"] == "column label is missing"
    assert described["FailureReason"] == "AlgorithmError: column label is missing"


def _error(call: Any, **request: Any) -> tuple[str, str]:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        call(**request)
    error = caught.value.response["Error"]
    return str(error["Code"]), str(error["Message"])


def test_bad_requests_are_answered_as_the_service_does(sm: Any, data: Settings) -> None:
    bad = processing_job("proc-bad")
    bad["ProcessingInputs"][0]["S3Input"]["LocalPath"] = "/data/in"
    code, message = _error(sm.create_processing_job, **bad)
    assert code == "ValidationException" and "must begin with /opt/ml/processing/" in message
    code, message = _error(sm.describe_processing_job, ProcessingJobName="nope")
    assert (code, message) == ("ValidationException", "Could not find requested job with name nope")
    sm.create_processing_job(
        **processing_job(
            "proc-twice", AppSpecification={"ImageUri": IMAGE, "ContainerArguments": ["ok"]}
        )
    )
    code, message = _error(sm.create_processing_job, **processing_job("proc-twice"))
    assert code == "ResourceInUse" and "proc-twice" in message
    _wait(sm, "proc-twice")
    code, message = _error(sm.stop_processing_job, ProcessingJobName="proc-twice")
    assert code == "ValidationException" and "already ended" in message
