"""UpdateTrainingJob and the tagging operations, over the job store."""

from __future__ import annotations

from typing import Any

from orchestrator.clock import Clock
from orchestrator.engine.warmpools import remove_cache
from orchestrator.errors import ValidationError, training_job_not_found
from orchestrator.operations.training_jobs import settle_warm_pools
from orchestrator.store.jobs import JobRecord, JobStore
from orchestrator.store.pools import WarmPoolStore
from orchestrator.validation.training_job import tag_key_errors

NOT_YET = "is not supported by this orchestrator yet"


def update_training_job(store: JobStore, clock: Clock, request: dict[str, Any]) -> dict[str, Any]:
    """What applies locally: Profiler settings are stored; ResourceConfig.
    KeepAlivePeriodInSeconds changes an Available warm pool's period (0 ends it); remote
    debugging is refused by name."""
    name = request["TrainingJobName"]
    record = store.get(name)
    if record is None:
        raise training_job_not_found(name)
    name = record.name  # as created, whatever the case it was asked for in
    if request.get("RemoteDebugConfig"):
        raise ValidationError(f"RemoteDebugConfig {NOT_YET}")
    keep_alive = (request.get("ResourceConfig") or {}).get("KeepAlivePeriodInSeconds")
    if keep_alive is not None:
        update_keep_alive(store, clock, record, keep_alive)
    changes: dict[str, Any] = {
        k: request[k] for k in ("ProfilerConfig", "ProfilerRuleConfigurations") if k in request
    }
    if changes:
        store.update_request(name, changes, clock.now())
    return {"TrainingJobArn": record.arn}


def update_keep_alive(store: JobStore, clock: Clock, record: JobRecord, seconds: int) -> None:
    """A new KeepAlivePeriodInSeconds for the job's Available warm pool (from when it became
    Available); 0, or a period already over, ends the pool and deletes its cache."""
    settle_warm_pools(store, clock.now())
    pools = WarmPoolStore(store.db)
    pool = pools.of_job(record.name)
    if pool is None or pool.holder != record.name or pool.status != "Available":
        status = store.require(record.name).warm_pool_status or "no warm pool"
        raise ValidationError(
            f"The training job {record.name!r} has no Available warm pool ({status}):"
            " KeepAlivePeriodInSeconds can only be updated while its warm pool is Available."
        )
    now = clock.now()
    if seconds == 0 or (pool.available_at or now) + seconds <= now:
        if pools.terminate(pool.id, until=now) is not None:
            remove_cache(pool)
        return
    if not pools.set_keep_alive(pool.id, seconds):
        raise ValidationError(
            f"The warm pool of {record.name!r} was reused or ended meanwhile; nothing changed."
        )


def _resource(store: JobStore, arn: str) -> JobRecord:
    """The job an ARN names; the service answers an unknown ARN with a ValidationException."""
    record = store.by_arn(arn)
    if record is None:
        raise ValidationError(f"Requested resource not found. (ResourceArn {arn!r})")
    return record


def add_tags(store: JobStore, request: dict[str, Any]) -> dict[str, Any]:
    record = _resource(store, request["ResourceArn"])
    tags = {tag["Key"]: tag.get("Value", "") for tag in request["Tags"]}
    errors = tag_key_errors(list(tags))
    if errors:
        raise ValidationError("; ".join(errors))
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
