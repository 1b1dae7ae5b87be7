"""Model-quality job definitions: Create, Describe, List, Delete.

A definition is what a monitoring schedule runs: the analyzer image (AWS's, mapped to ours, or
the user's own), the captured predictions (BatchTransformInput; EndpointInput is stored and
described, and runs once endpoints exist here), ground truth, where the reports go, resources
and the time limit. The model's limits (lengths, patterns, enums, ranges) are checked from the
botocore model; the rules below are the cross-field ones a run depends on.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from typing import Any

from orchestrator.clock import Clock
from orchestrator.config import Settings
from orchestrator.errors import ResourceInUse, ResourceNotFound, ValidationError
from orchestrator.instances import known
from orchestrator.operations.training_jobs import epoch_filter
from orchestrator.store.monitoring import (
    Definition,
    DefinitionQuery,
    DefinitionTaken,
    MonitoringStore,
    ScheduleStore,
)
from orchestrator.validation.model import raise_for_errors, shape_errors, validate_shape

MODEL_QUALITY = "ModelQuality"
PROBLEM_TYPES = ("BinaryClassification", "MulticlassClassification", "Regression")
PROCESSING_ROOT = "/opt/ml/processing/"
NOT_YET = "is not supported by this orchestrator yet"

# Request fields DescribeModelQualityJobDefinition echoes back as they were given.
_ECHOED = (
    "ModelQualityBaselineConfig",
    "ModelQualityAppSpecification",
    "ModelQualityJobInput",
    "ModelQualityJobOutputConfig",
    "JobResources",
    "NetworkConfig",
    "RoleArn",
    "StoppingCondition",
)


def definition_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:sagemaker:{region}:{account}:model-quality-job-definition/{name.lower()}"


def _not_found(name: str) -> ResourceNotFound:
    return ResourceNotFound(f"Could not find job definition {name!r}.")


def create(
    monitoring: MonitoringStore, settings: Settings, clock: Clock, request: dict[str, Any]
) -> dict[str, Any]:
    raise_for_errors(shape_errors(request, "CreateModelQualityJobDefinitionRequest"))
    raise_for_errors(_rule_errors(request))
    name = str(request["JobDefinitionName"])
    arn = definition_arn(settings.region, settings.account_id, name)
    endpoint = (request["ModelQualityJobInput"].get("EndpointInput") or {}).get("EndpointName")
    try:
        monitoring.insert(
            Definition(name, MODEL_QUALITY, arn, dict(request), clock.now(), endpoint)
        )
    except DefinitionTaken:
        raise ResourceInUse(f"Job definition {name!r} already exists.") from None
    return {"JobDefinitionArn": arn}


def describe(monitoring: MonitoringStore, request: dict[str, Any]) -> dict[str, Any]:
    validate_shape(request, "DescribeModelQualityJobDefinitionRequest")
    found = find(monitoring, str(request["JobDefinitionName"]))
    response: dict[str, Any] = {
        "JobDefinitionArn": found.arn,
        "JobDefinitionName": found.name,
        "CreationTime": found.creation_time,
    }
    response.update({k: found.request[k] for k in _ECHOED if k in found.request})
    return response


def find(monitoring: MonitoringStore, name: str) -> Definition:
    found = monitoring.get(name, MODEL_QUALITY)
    if found is None:
        raise _not_found(name)
    return found


def delete(
    monitoring: MonitoringStore, request: dict[str, Any], schedules: ScheduleStore
) -> dict[str, Any]:
    validate_shape(request, "DeleteModelQualityJobDefinitionRequest")
    name = str(request["JobDefinitionName"])
    users = schedules.using(name)
    if users:
        raise ResourceInUse(
            f"Job definition {name!r} is used by the monitoring schedule {users[0]!r}; delete"
            " the schedule first."
        )
    if not monitoring.delete(name, MODEL_QUALITY):
        raise _not_found(name)
    return {}


def list_definitions(monitoring: MonitoringStore, request: dict[str, Any]) -> dict[str, Any]:
    validate_shape(request, "ListModelQualityJobDefinitionsRequest")
    query = DefinitionQuery(
        type=MODEL_QUALITY,
        endpoint=request.get("EndpointName"),
        name_contains=request.get("NameContains"),
        creation_after=epoch_filter(request.get("CreationTimeAfter"), "CreationTimeAfter"),
        creation_before=epoch_filter(request.get("CreationTimeBefore"), "CreationTimeBefore"),
        sort_by=request.get("SortBy", "CreationTime"),
        sort_order=request.get("SortOrder", "Descending"),
        max_results=request.get("MaxResults", 10),
        next_token=request.get("NextToken"),
    )
    try:
        found, token = monitoring.page(query)
    except ValueError:
        raise ValidationError(
            "Invalid NextToken: it does not come from a previous response"
        ) from None
    summaries = []
    for definition in found:
        summary: dict[str, Any] = {
            "MonitoringJobDefinitionName": definition.name,
            "MonitoringJobDefinitionArn": definition.arn,
            "CreationTime": definition.creation_time,
        }
        # The model calls EndpointName required, with a pattern no empty name meets; a
        # definition over batch-transform data has none, so it is left out (our choice).
        if definition.endpoint:
            summary["EndpointName"] = definition.endpoint
        summaries.append(summary)
    response: dict[str, Any] = {"JobDefinitionSummaries": summaries}
    if token:
        response["NextToken"] = token
    return response


def _rule_errors(request: Mapping[str, Any]) -> list[str]:
    app = request["ModelQualityAppSpecification"]
    job_input = request["ModelQualityJobInput"]
    errors: list[str] = []
    if app.get("ProblemType") not in PROBLEM_TYPES:
        errors.append(
            "ModelQualityAppSpecification.ProblemType is required for a model-quality job: one"
            f" of {', '.join(PROBLEM_TYPES)}"
        )
    sources = [k for k in ("EndpointInput", "BatchTransformInput") if job_input.get(k)]
    if len(sources) != 1:
        errors.append(
            "ModelQualityJobInput needs exactly one of EndpointInput and BatchTransformInput"
        )
    for source in sources:
        where = f"ModelQualityJobInput.{source}"
        errors += _local_path_errors(job_input[source]["LocalPath"], f"{where}.LocalPath")
        if job_input[source].get("S3InputMode") == "Pipe":
            errors.append(f"{where}.S3InputMode Pipe {NOT_YET}; use File")
    batch = job_input.get("BatchTransformInput") or {}
    errors += _offset_errors(batch)
    formats = [k for k in ("Csv", "Json", "Parquet") if k in (batch.get("DatasetFormat") or {})]
    if batch and len(formats) != 1:
        errors.append(
            "ModelQualityJobInput.BatchTransformInput.DatasetFormat needs exactly one of Csv,"
            " Json and Parquet"
        )
    if "Parquet" in formats:
        errors.append(f"BatchTransformInput.DatasetFormat.Parquet {NOT_YET}; use Csv or Json")
    outputs = request["ModelQualityJobOutputConfig"]["MonitoringOutputs"]
    for index, output in enumerate(outputs):
        where = f"ModelQualityJobOutputConfig.MonitoringOutputs[{index}].S3Output.LocalPath"
        errors += _local_path_errors(output["S3Output"]["LocalPath"], where)
    instance = request["JobResources"]["ClusterConfig"]["InstanceType"]
    if not known(instance):
        errors.append(
            f"JobResources.ClusterConfig.InstanceType {instance!r} is not an instance type this"
            " orchestrator knows"
        )
    return errors


def _offset_errors(batch: Mapping[str, Any]) -> list[str]:
    from orchestrator.monitoring.schedule import ScheduleError, window

    start, end = batch.get("StartTimeOffset"), batch.get("EndTimeOffset")
    if not (start or end):
        return []
    try:
        window(0.0, start, end)
    except ScheduleError as exc:
        return [f"ModelQualityJobInput.BatchTransformInput offsets: {exc}"]
    return []


def _local_path_errors(local: str, field: str) -> list[str]:
    if ".." in local.split("/"):
        return [f"{field} must not contain '..', got {local!r}"]
    if not posixpath.normpath(local).startswith(PROCESSING_ROOT):
        return [f"{field} must begin with {PROCESSING_ROOT}, got {local!r}"]
    return []
