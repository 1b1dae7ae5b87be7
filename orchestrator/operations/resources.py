"""UpdateTrainingJob and the tagging operations, over the job store."""

from __future__ import annotations

from typing import Any

from orchestrator.clock import Clock
from orchestrator.errors import ResourceNotFound, ValidationError, training_job_not_found
from orchestrator.store.jobs import JobRecord, JobStore

NOT_YET = "is not supported by this orchestrator yet"


def update_training_job(store: JobStore, clock: Clock, request: dict[str, Any]) -> dict[str, Any]:
    """What applies locally: Profiler settings are stored; warm pools and remote debugging
    are refused by name; KeepAlivePeriodInSeconds=0 (end a pool) is accepted, as no pool
    exists here."""
    name = request["TrainingJobName"]
    record = store.get(name)
    if record is None:
        raise training_job_not_found(name)
    if request.get("RemoteDebugConfig"):
        raise ValidationError(f"RemoteDebugConfig {NOT_YET}")
    if (request.get("ResourceConfig") or {}).get("KeepAlivePeriodInSeconds"):
        raise ValidationError(f"ResourceConfig.KeepAlivePeriodInSeconds (warm pools) {NOT_YET}")
    changes: dict[str, Any] = {
        k: request[k] for k in ("ProfilerConfig", "ProfilerRuleConfigurations") if k in request
    }
    if changes:
        store.update_request(name, changes, clock.now())
    return {"TrainingJobArn": record.arn}


def _resource(store: JobStore, arn: str) -> JobRecord:
    record = store.by_arn(arn)
    if record is None:
        raise ResourceNotFound(f"Resource {arn} not found.")
    return record


def add_tags(store: JobStore, request: dict[str, Any]) -> dict[str, Any]:
    record = _resource(store, request["ResourceArn"])
    tags = {tag["Key"]: tag.get("Value", "") for tag in request["Tags"]}
    if len(set(store.tags(record.name)) | set(tags)) > 50:
        raise ValidationError("A resource can have at most 50 tags.")
    store.add_tags(record.name, tags)
    return {"Tags": request["Tags"]}


def list_tags(store: JobStore, request: dict[str, Any]) -> dict[str, Any]:
    record = _resource(store, request["ResourceArn"])
    keys = sorted(store.tags(record.name).items())
    after = request.get("NextToken")
    if after is not None:
        keys = [pair for pair in keys if pair[0] > after]
    limit = request.get("MaxResults", 50)
    response: dict[str, Any] = {"Tags": [{"Key": k, "Value": v} for k, v in keys[:limit]]}
    if len(keys) > limit:
        response["NextToken"] = keys[limit - 1][0]
    return response


def delete_tags(store: JobStore, request: dict[str, Any]) -> dict[str, Any]:
    record = _resource(store, request["ResourceArn"])
    store.delete_tags(record.name, list(request["TagKeys"]))
    return {}
