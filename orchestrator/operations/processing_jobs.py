"""Processing job operations: Create, Describe, List, Stop.

A processing job is stored beside training jobs (its row named with PROCESSING_SUFFIX, kind
`processing`) and runs on the same engine: capacity, Pending, stop with SIGTERM and the grace
period, MaxRuntimeInSeconds, logs, adoption after a crash. What the API shows is its own:
ProcessingJobStatus (InProgress, Completed, Failed, Stopping, Stopped), ProcessingStartTime and
ProcessingEndTime, ExitMessage (the container's /opt/ml/output/message) and FailureReason.
Processing jobs have no RetryStrategy: a platform failure fails the job.
"""

from __future__ import annotations

from typing import Any

from orchestrator.clock import Clock
from orchestrator.config import Settings
from orchestrator.errors import ValidationError
from orchestrator.operations.training_jobs import list_query, request_stop
from orchestrator.processing_spec import (
    processing_job_arn,
    processing_spec,
    public_name,
    stored_name,
)
from orchestrator.spec import PROCESSING, JobSpec
from orchestrator.store.jobs import JobRecord, JobStore
from orchestrator.validation.model import validate_shape
from orchestrator.validation.processing_job import validate_create_processing_job


def processing_job_not_found(name: str) -> ValidationError:
    """As the service answers DescribeProcessingJob for a name it does not know."""
    return ValidationError(f"Could not find requested job with name {name}")


def create(
    store: JobStore,
    settings: Settings,
    clock: Clock,
    owner: str,
    request: dict[str, Any],
    extra: dict[str, Any] | None = None,
) -> JobSpec:
    """CreateProcessingJob: validate, then store the job held by `owner`; returns what to run.
    `extra`: fields the platform adds (a monitoring execution's MonitoringScheduleArn)."""
    validate_create_processing_job(request)
    name = str(request["ProcessingJobName"])
    arn = processing_job_arn(settings.region, settings.account_id, name)
    spec = processing_spec(request, arn)
    store.insert(
        stored_name(name),
        arn,
        {**request, **(extra or {})},
        clock.now(),
        owner,
        settings.lease_seconds,
        kind=PROCESSING,
    )
    return spec


def find(store: JobStore, name: str) -> JobRecord:
    record = store.get(stored_name(name))
    if record is None or record.kind != PROCESSING:
        raise processing_job_not_found(name)
    return record


# Request fields DescribeProcessingJob echoes back as they were given.
_ECHOED = (
    "ProcessingInputs",
    "ProcessingOutputConfig",
    "ProcessingResources",
    "StoppingCondition",
    "AppSpecification",
    "Environment",
    "NetworkConfig",
    "RoleArn",
    "ExperimentConfig",
)


def describe(store: JobStore, name: str) -> dict[str, Any]:
    validate_shape({"ProcessingJobName": name}, "DescribeProcessingJobRequest")
    record = find(store, name)
    response: dict[str, Any] = {
        "ProcessingJobName": public_name(record.name),
        "ProcessingJobArn": record.arn,
        "ProcessingJobStatus": record.status,
        "CreationTime": record.creation_time,
        "LastModifiedTime": record.last_modified_time,
    }
    response.update({k: record.request[k] for k in _ECHOED if k in record.request})
    response.update(_outcome(record))
    monitoring = record.request.get("MonitoringScheduleArn")
    if monitoring:
        response["MonitoringScheduleArn"] = monitoring
    return response


def _outcome(record: JobRecord) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if record.training_start_time is not None:
        found["ProcessingStartTime"] = record.training_start_time
    if record.training_end_time is not None:
        found["ProcessingEndTime"] = record.training_end_time
    if record.exit_message:
        found["ExitMessage"] = record.exit_message
    if record.failure_reason:
        found["FailureReason"] = record.failure_reason
    return found


def _summary(record: JobRecord) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "ProcessingJobName": public_name(record.name),
        "ProcessingJobArn": record.arn,
        "CreationTime": record.creation_time,
        "LastModifiedTime": record.last_modified_time,
        "ProcessingJobStatus": record.status,
    }
    outcome = _outcome(record)
    summary.update({k: v for k, v in outcome.items() if k != "ProcessingStartTime"})
    return summary


def list_jobs(store: JobStore, request: dict[str, Any]) -> dict[str, Any]:
    """ListProcessingJobs: summaries, newest first by default, paged by NextToken."""
    validate_shape(request, "ListProcessingJobsRequest")
    query = list_query(request, kind=PROCESSING)
    records, token = store.page(query)
    response: dict[str, Any] = {"ProcessingJobSummaries": [_summary(r) for r in records]}
    if token:
        response["NextToken"] = token
    return response


def stop(store: JobStore, name: str, clock: Clock) -> str:
    """StopProcessingJob: move to Stopping; returns the stored name for the engine."""
    validate_shape({"ProcessingJobName": name}, "StopProcessingJobRequest")
    record = find(store, name)
    request_stop(
        store,
        record.name,
        clock,
        noun="processing job",
        missing=processing_job_not_found,
        shown=public_name(record.name),
    )
    return record.name
