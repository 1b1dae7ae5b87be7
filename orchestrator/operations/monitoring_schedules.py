"""Monitoring schedules: Create, Describe, List, Delete, Start, Stop, and ListMonitoringExecutions.

A schedule runs a model-quality job definition (MonitoringType ModelQuality, by
MonitoringJobDefinitionName) at its ScheduleExpression: `NOW` once, or a cron hour after hour.
Its executions are run by the engine loop of every engine that takes on work (`orchestrator
serve`, the Python API), each slot by exactly one of them (monitoring_runs.py). An execution's
status is its processing job's, with CompletedWithViolations where the analyzer reported
violations (its ExitMessage, as AWS's analyzer says it).
"""

from __future__ import annotations

import logging
from typing import Any

from orchestrator.clock import Clock
from orchestrator.config import Settings
from orchestrator.errors import ResourceInUse, ResourceNotFound, StorageFailure, ValidationError
from orchestrator.monitoring.schedule import (
    NOW,
    ScheduleError,
    parse_offset,
    parse_schedule,
    window,
)
from orchestrator.operations.model_quality import MODEL_QUALITY, find
from orchestrator.operations.training_jobs import epoch_filter
from orchestrator.storage.protocol import ObjectStore
from orchestrator.store.jobs import JobRecord, JobStore
from orchestrator.store.monitoring import (
    ExecutionRecord,
    MonitoringStore,
    ScheduleRecord,
    ScheduleStore,
    ScheduleTaken,
)
from orchestrator.validation.model import raise_for_errors, shape_errors, validate_shape

SCHEDULED, STOPPED = "Scheduled", "Stopped"
log = logging.getLogger(__name__)
NOT_YET = "is not supported by this orchestrator yet"


def schedule_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:sagemaker:{region}:{account}:monitoring-schedule/{name.lower()}"


def _not_found(name: str) -> ResourceNotFound:
    return ResourceNotFound(f"Monitoring schedule {name!r} does not exist.")


def require(schedules: ScheduleStore, name: str) -> ScheduleRecord:
    found = schedules.get(name)
    if found is None:
        raise _not_found(name)
    return found


def create(
    schedules: ScheduleStore,
    definitions: MonitoringStore,
    settings: Settings,
    clock: Clock,
    request: dict[str, Any],
) -> dict[str, Any]:
    raise_for_errors(shape_errors(request, "CreateMonitoringScheduleRequest"))
    config = request["MonitoringScheduleConfig"]
    definition = _definition_of(config)
    find(definitions, definition)  # ResourceNotFound for a definition that is not there
    first = _first_slot(config.get("ScheduleConfig") or {}, clock.now())
    name = str(request["MonitoringScheduleName"])
    arn = schedule_arn(settings.region, settings.account_id, name)
    now = clock.now()
    record = ScheduleRecord(name, arn, dict(request), SCHEDULED, definition, now, now, first, None)
    try:
        schedules.insert(record)
    except ScheduleTaken:
        raise ResourceInUse(f"Monitoring schedule {name!r} already exists.") from None
    return {"MonitoringScheduleArn": arn}


def _definition_of(config: dict[str, Any]) -> str:
    if config.get("MonitoringJobDefinition"):
        raise ValidationError(
            f"MonitoringScheduleConfig.MonitoringJobDefinition (inline, data quality) {NOT_YET};"
            " create a model-quality job definition and name it in MonitoringJobDefinitionName"
        )
    if config.get("MonitoringType") != MODEL_QUALITY:
        raise ValidationError(
            f"MonitoringScheduleConfig.MonitoringType {config.get('MonitoringType')!r} {NOT_YET};"
            " use ModelQuality"
        )
    if not config.get("MonitoringJobDefinitionName"):
        raise ValidationError("MonitoringScheduleConfig.MonitoringJobDefinitionName is required")
    return str(config["MonitoringJobDefinitionName"])


def _first_slot(schedule: dict[str, Any], now: float) -> float:
    """When the first execution is due: now for NOW, else the next cron hour."""
    expression = schedule.get("ScheduleExpression")
    if not expression:
        raise ValidationError(
            "MonitoringScheduleConfig.ScheduleConfig.ScheduleExpression is required"
        )
    try:
        parsed = parse_schedule(str(expression))
        start, end = schedule.get("DataAnalysisStartTime"), schedule.get("DataAnalysisEndTime")
        if parsed.one_time and not (start and end):
            raise ScheduleError(
                "a NOW schedule needs ScheduleConfig.DataAnalysisStartTime and"
                " DataAnalysisEndTime (offsets such as -PT1H and -PT0H)"
            )
        for field, value in (("DataAnalysisStartTime", start), ("DataAnalysisEndTime", end)):
            if value:
                parse_offset(str(value), f"ScheduleConfig.{field}")
        if start and end:
            window(0.0, str(start), str(end))  # the start before the end
    except ScheduleError as exc:
        raise ValidationError(str(exc)) from None
    return now if parsed.one_time else parsed.next_slot(now)


def describe(
    schedules: ScheduleStore, jobs: JobStore, reports: Reports, request: dict[str, Any]
) -> dict[str, Any]:
    validate_shape(request, "DescribeMonitoringScheduleRequest")
    record = require(schedules, str(request["MonitoringScheduleName"]))
    response = _summary(record)
    del response["MonitoringJobDefinitionName"]  # DescribeMonitoringSchedule has it in the config
    response["MonitoringScheduleConfig"] = record.request["MonitoringScheduleConfig"]
    if record.failure_reason:
        response["FailureReason"] = record.failure_reason
    executions = schedules.executions(record.name)
    if executions:
        last = executions[-1]
        response["LastMonitoringExecutionSummary"] = execution_summary(record, last, jobs, reports)
    return response


def _summary(record: ScheduleRecord) -> dict[str, Any]:
    return {
        "MonitoringScheduleArn": record.arn,
        "MonitoringScheduleName": record.name,
        "MonitoringScheduleStatus": record.status,
        "MonitoringType": MODEL_QUALITY,
        "CreationTime": record.creation_time,
        "LastModifiedTime": record.last_modified_time,
        "MonitoringJobDefinitionName": record.definition,
    }


def execution_summary(
    schedule: ScheduleRecord, execution: ExecutionRecord, jobs: JobStore, reports: Reports
) -> dict[str, Any]:
    job = jobs.get(execution.processing_job) if execution.processing_job else None
    summary: dict[str, Any] = {
        "MonitoringScheduleName": schedule.name,
        "ScheduledTime": execution.scheduled_time,
        "CreationTime": execution.creation_time,
        "LastModifiedTime": job.last_modified_time if job else execution.creation_time,
        "MonitoringExecutionStatus": _execution_status(execution, job, reports),
        "MonitoringJobDefinitionName": schedule.definition,
        "MonitoringType": MODEL_QUALITY,
    }
    if job is not None:
        summary["ProcessingJobArn"] = job.arn
    reason = execution.failure_reason or (job.failure_reason if job else None)
    if reason:
        summary["FailureReason"] = reason
    return summary


def _execution_status(execution: ExecutionRecord, job: JobRecord | None, reports: Reports) -> str:
    if execution.failure_reason:
        return "Failed"
    if job is None:
        return "Pending"
    if job.status == "Completed" and reports.violations(execution, job):
        return "CompletedWithViolations"
    return job.status


class Reports:
    """How many violations a completed execution found: its analyzer's ExitMessage says so
    (`CompletedWithViolations: ...`, as AWS's analyzer reports), else its report's
    constraint_violations.json is read once (typed, monitoring/documents.py), so an analyzer of
    your own needs only write the documented file. Counted once, kept in the store."""

    def __init__(self, schedules: ScheduleStore, objects: ObjectStore) -> None:
        self.schedules = schedules
        self.objects = objects

    def violations(self, execution: ExecutionRecord, job: JobRecord) -> int:
        if execution.violations is not None:
            return execution.violations
        message = job.exit_message or ""
        if message.startswith("CompletedWithViolations"):
            count = 1
        elif message.startswith("Completed"):
            count = 0
        else:
            count = self._counted(job)
        self.schedules.set_violations(execution.schedule, execution.scheduled_time, count)
        return count

    def _counted(self, job: JobRecord) -> int:
        from pydantic import ValidationError as BadDocument

        from orchestrator.monitoring.documents import ConstraintViolations

        outputs = job.request["ProcessingOutputConfig"]["Outputs"]
        uri = f"{outputs[0]['S3Output']['S3Uri'].rstrip('/')}/constraint_violations.json"
        try:
            with self.objects.open_object(uri) as body:
                text = body.read()
            return len(ConstraintViolations.model_validate_json(text).violations)
        except StorageFailure:
            return 0  # no report: nothing reported violated
        except BadDocument as exc:
            log.warning("%s is not a constraint_violations.json document: %s", uri, exc)
            return 0


def list_schedules(schedules: ScheduleStore, request: dict[str, Any]) -> dict[str, Any]:
    validate_shape(request, "ListMonitoringSchedulesRequest")
    if request.get("EndpointName"):
        return {"MonitoringScheduleSummaries": []}  # no endpoints here
    found = [
        _summary(r)
        for r in schedules.all()
        if _matches(r, request)
        and request.get("MonitoringTypeEquals", MODEL_QUALITY) == MODEL_QUALITY
    ]
    key = {"Name": "MonitoringScheduleName", "Status": "MonitoringScheduleStatus"}.get(
        request.get("SortBy", "CreationTime"), "CreationTime"
    )
    return _page(found, key, request, "MonitoringScheduleSummaries")


def _matches(record: ScheduleRecord, request: dict[str, Any]) -> bool:
    after = epoch_filter(request.get("CreationTimeAfter"), "CreationTimeAfter")
    before = epoch_filter(request.get("CreationTimeBefore"), "CreationTimeBefore")
    contains = str(request.get("NameContains", "")).lower()
    return (
        contains in record.name.lower()
        and request.get("StatusEquals", record.status) == record.status
        and request.get("MonitoringJobDefinitionName", record.definition) == record.definition
        and (after is None or record.creation_time > after)
        and (before is None or record.creation_time < before)
    )


def _page(
    items: list[dict[str, Any]], key: str, request: dict[str, Any], field: str
) -> dict[str, Any]:
    items.sort(key=lambda item: (item[key], item.get("MonitoringScheduleName", "")))
    if request.get("SortOrder", "Descending") == "Descending":
        items.reverse()
    token = request.get("NextToken") or "0"
    if not token.isdigit():
        raise ValidationError("Invalid NextToken: it does not come from a previous response")
    start, limit = int(token), int(request.get("MaxResults", 10))
    response: dict[str, Any] = {field: items[start : start + limit]}
    if start + limit < len(items):
        response["NextToken"] = str(start + limit)
    return response


def list_executions(
    schedules: ScheduleStore, jobs: JobStore, reports: Reports, request: dict[str, Any]
) -> dict[str, Any]:
    validate_shape(request, "ListMonitoringExecutionsRequest")
    if request.get("EndpointName"):
        return {"MonitoringExecutionSummaries": []}
    name = request.get("MonitoringScheduleName")
    records = {r.name: r for r in schedules.all()}
    after = epoch_filter(request.get("ScheduledTimeAfter"), "ScheduledTimeAfter")
    before = epoch_filter(request.get("ScheduledTimeBefore"), "ScheduledTimeBefore")
    found = [
        execution_summary(records[e.schedule], e, jobs, reports)
        for e in schedules.executions(name)
        if (after is None or e.scheduled_time > after)
        and (before is None or e.scheduled_time < before)
    ]
    found = [
        s
        for s in found
        if request.get("StatusEquals", s["MonitoringExecutionStatus"])
        == s["MonitoringExecutionStatus"]
    ]
    key = {"Status": "MonitoringExecutionStatus", "CreationTime": "CreationTime"}.get(
        request.get("SortBy", "ScheduledTime"), "ScheduledTime"
    )
    return _page(found, key, request, "MonitoringExecutionSummaries")


def set_status(
    schedules: ScheduleStore, clock: Clock, request: dict[str, Any], operation: str
) -> dict[str, Any]:
    """StartMonitoringSchedule / StopMonitoringSchedule. A started cron schedule runs from
    its next hour; a started one-time schedule that has run does not run again."""
    validate_shape(request, f"{operation}MonitoringScheduleRequest")
    record = require(schedules, str(request["MonitoringScheduleName"]))
    now = clock.now()
    if operation == "Stop":
        schedules.update(record.name, now, status=STOPPED)
        return {}
    expression = record.request["MonitoringScheduleConfig"]["ScheduleConfig"]["ScheduleExpression"]
    if record.status != SCHEDULED:
        following = None if expression == NOW else parse_schedule(expression).next_slot(now)
        schedules.update(record.name, now, status=SCHEDULED, next_slot=following)
    return {}


def delete(schedules: ScheduleStore, request: dict[str, Any]) -> dict[str, Any]:
    validate_shape(request, "DeleteMonitoringScheduleRequest")
    name = str(request["MonitoringScheduleName"])
    if not schedules.delete(name):
        raise _not_found(name)
    return {}
