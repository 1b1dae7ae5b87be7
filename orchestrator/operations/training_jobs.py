"""Training job operations: Create, Describe, List, Stop, and fault injection.

Create validates and stores the job with its owner in one transaction; the caller then hands
the returned spec to that owner's engine. The others need no engine: any process on the same
store (another terminal, a restarted machine) can describe, list and stop jobs. A stop is a move
to Stopping; the job's supervisor acts on it.
"""

from __future__ import annotations

import contextlib
import math
import shutil
import time
import uuid
from collections.abc import Callable
from typing import Any

from orchestrator.clock import Clock
from orchestrator.config import Settings
from orchestrator.engine.warmpools import expire_pools
from orchestrator.errors import (
    ResourceInUse,
    ResourceNotFound,
    ValidationError,
    training_job_not_found,
)
from orchestrator.lifecycle import Secondary, StopCause, is_terminal
from orchestrator.metrics.operations import trial_component_arn
from orchestrator.pools import retained_seconds
from orchestrator.spec import JobSpec, job_spec
from orchestrator.store.jobs import JobRecord, JobStore, ListQuery
from orchestrator.store.metrics import MetricStore
from orchestrator.store.pools import WarmPoolStore
from orchestrator.store.runs import HostRunStore
from orchestrator.timestamps import epoch_seconds
from orchestrator.validation.model import validate_shape
from orchestrator.validation.training_job import validate_create_training_job

__all__ = [
    "FAULT_KINDS",
    "ListQuery",
    "create",
    "describe",
    "inject_fault",
    "list_jobs",
    "request_stop",
    "training_job_arn",
]

# What `orchestrator fault` can do to a running job. An internal error ends the current
# attempt as a platform failure would (its containers are killed, no upload). A spot
# interruption reclaims a managed spot job's capacity while it trains: SIGTERM, the grace
# period, Interrupted, then a new attempt that restores its checkpoints.
FAULT_KINDS = ("internal-error", "spot-interruption")
MAX_FAULT_DELAY = 28 * 86_400


def training_job_arn(region: str, account: str, name: str) -> str:
    # The service lower-cases the name in the ARN.
    return f"arn:aws:sagemaker:{region}:{account}:training-job/{name.lower()}"


def create(
    store: JobStore, settings: Settings, clock: Clock, owner: str, request: dict[str, Any]
) -> JobSpec:
    """CreateTrainingJob: validate, then store the job held by `owner` (one transaction), so
    no other engine can adopt it before the owner's supervisor runs. Returns what to run."""
    validate_create_training_job(request)
    name = str(request["TrainingJobName"])
    arn = training_job_arn(settings.region, settings.account_id, name)
    spec = job_spec(request, arn)
    store.insert(name, arn, dict(request), clock.now(), owner, settings.lease_seconds)
    return spec


def inject_fault(
    store: JobStore, clock: Clock, name: str, kind: str, after: float | None = None
) -> dict[str, Any]:
    """Arrange a platform fault for a running job, now or `after` seconds from now."""
    if kind not in FAULT_KINDS:
        raise ValidationError(f"fault kind must be one of {', '.join(FAULT_KINDS)}, got {kind!r}")
    delay = 0.0 if after is None else after
    if not isinstance(delay, (int, float)) or not 0 <= delay <= MAX_FAULT_DELAY:
        raise ValidationError(
            f"AfterSeconds must be a number from 0 to {MAX_FAULT_DELAY}, got {after!r}"
        )
    record = store.get(name)
    if record is None:
        raise training_job_not_found(name)
    name = record.name  # as created, whatever the case it was asked for in
    if is_terminal(record.secondary):
        raise ValidationError(
            f"The training job {name!r} has already ended with status {record.status};"
            " a fault needs a running job."
        )
    if kind == "spot-interruption" and not record.request.get("EnableManagedSpotTraining"):
        raise ValidationError(
            f"The training job {name!r} is not a managed spot training job"
            " (EnableManagedSpotTraining): only spot capacity is interrupted."
        )
    at = clock.now() + delay
    store.update(name, fault=kind, fault_at=at)
    return {"TrainingJobName": name, "FaultType": kind, "FaultTime": at}


# Request fields echoed back by DescribeTrainingJob as they were given.
_ECHOED = (
    "HyperParameters",
    "AlgorithmSpecification",
    "RoleArn",
    "InputDataConfig",
    "OutputDataConfig",
    "ResourceConfig",
    "VpcConfig",
    "StoppingCondition",
    "EnableNetworkIsolation",
    "EnableInterContainerTrafficEncryption",
    "EnableManagedSpotTraining",
    "CheckpointConfig",
    "DebugHookConfig",
    "ExperimentConfig",
    "DebugRuleConfigurations",
    "TensorBoardOutputConfig",
    "ProfilerConfig",
    "ProfilerRuleConfigurations",
    "Environment",
    "RetryStrategy",
    "RemoteDebugConfig",
    "InfraCheckConfig",
)
_DEFAULTS = {
    "EnableNetworkIsolation": False,
    "EnableInterContainerTrafficEncryption": False,
    "EnableManagedSpotTraining": False,
}


def _seconds(record: JobRecord) -> tuple[int, int] | None:
    """(TrainingTimeInSeconds, BillableTimeInSeconds), whole seconds rounded up: the service
    bills at least one. A spot job's training time is the time its attempts trained, and is
    billed less the (simulated) spot discount, so the SDK's "Managed Spot Training savings"
    line means something here."""
    if record.training_start_time is None or record.training_end_time is None:
        return None
    if record.billable_seconds is not None:
        training = max(math.ceil(record.run_seconds), 1)
        return training, min(max(math.ceil(record.billable_seconds), 1), training)
    seconds = max(math.ceil(record.training_end_time - record.training_start_time), 1)
    return seconds, seconds


def _model_artifacts(record: JobRecord) -> str:
    """Where the model is, or will be once uploaded (the model requires the member)."""
    if record.model_artifacts:
        return record.model_artifacts
    output = record.request["OutputDataConfig"]
    prefix = f"{output['S3OutputPath'].rstrip('/')}/{record.name}/output"
    return (
        f"{prefix}/model/" if output.get("CompressionType") == "NONE" else f"{prefix}/model.tar.gz"
    )


def describe(
    store: JobStore, name: str, metrics: MetricStore | None = None, now: float | None = None
) -> dict[str, Any]:
    """DescribeTrainingJob's response for one job (`now`: the caller's clock)."""
    now = time.time() if now is None else now
    settle_warm_pools(store, now)
    record = store.get(name)
    if record is None:
        raise training_job_not_found(name)
    name = record.name  # as created, whatever the case it was asked for in
    request = record.request
    response: dict[str, Any] = {
        "TrainingJobName": record.name,
        "TrainingJobArn": record.arn,
        "TrainingJobStatus": record.status,
        "SecondaryStatus": record.secondary_status,
        "CreationTime": record.creation_time,
        "LastModifiedTime": record.last_modified_time,
        "ModelArtifacts": {"S3ModelArtifacts": _model_artifacts(record)},
    }
    response.update(_DEFAULTS)
    response.update({key: request[key] for key in _ECHOED if key in request})
    response.setdefault("StoppingCondition", {"MaxRuntimeInSeconds": 86400})
    response["StoppingCondition"].setdefault("MaxRuntimeInSeconds", 86400)
    _times(record, response, _launched(store, record))
    if record.failure_reason:
        response["FailureReason"] = record.failure_reason
    if record.warm_pool_status:
        response["WarmPoolStatus"] = _warm_pool_status(record, now)
    if metrics is not None:
        final = [
            {"MetricName": s.metric, "Value": s.last, "Timestamp": s.last_timestamp}
            for s in metrics.summaries(record.arn)
        ]
        if final:
            response["FinalMetricDataList"] = final
    response["SecondaryStatusTransitions"] = status_transitions(store, name)
    return response


def status_transitions(store: JobStore, name: str) -> list[dict[str, Any]]:
    """A job's history as SecondaryStatusTransitions (by its stored name: processing jobs keep
    one too, which their API does not show)."""
    return [
        {
            k: v
            for k, v in (
                ("Status", t.status),
                ("StartTime", t.start_time),
                ("EndTime", t.end_time),
                ("StatusMessage", t.message),
            )
            if v is not None
        }
        for t in store.transitions(name)
    ]


def _launched(store: JobStore, record: JobRecord) -> bool:
    """Whether a training container ever started (older stores: whether one exited)."""
    runs = HostRunStore(store.db).of_job(record.name)
    return any(run.started for run in runs) or (not runs and record.exit_code is not None)


def _times(record: JobRecord, response: dict[str, Any], launched: bool) -> None:
    """Only times that happened: a job whose container never started (a missing image, a stop
    while it downloaded) has no TrainingStartTime, TrainingTimeInSeconds or billable time,
    as the reference allows ("may be absent")."""
    if record.training_end_time is not None:
        response["TrainingEndTime"] = record.training_end_time
    if not launched:
        return
    if record.training_start_time is not None:
        response["TrainingStartTime"] = record.training_start_time
    seconds = _seconds(record)
    if seconds is not None:
        response["TrainingTimeInSeconds"], response["BillableTimeInSeconds"] = seconds


def settle_warm_pools(store: JobStore, now: float | None = None) -> None:
    """Any read settles pools whose period ran out, whether or not an engine runs: a pool
    never outlives its KeepAlivePeriodInSeconds for want of a process."""
    pools = WarmPoolStore(store.db)
    now = time.time() if now is None else now
    if pools.need_settling(now):
        expire_pools(pools, now)


def _warm_pool_status(record: JobRecord, now: float) -> dict[str, Any]:
    status: dict[str, Any] = {"Status": record.warm_pool_status}
    if record.warm_pool_status != "InUse":
        status["ResourceRetainedBillableTimeInSeconds"] = retained_seconds(
            record.pool_since, record.pool_until, now
        )
    if record.pool_reused_by:
        status["ReusedByJob"] = record.pool_reused_by
    return status


def _summary(record: JobRecord, now: float) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "TrainingJobName": record.name,
        "TrainingJobArn": record.arn,
        "CreationTime": record.creation_time,
        "TrainingJobStatus": record.status,
        "SecondaryStatus": record.secondary_status,
        "LastModifiedTime": record.last_modified_time,
    }
    if record.training_end_time is not None:
        summary["TrainingEndTime"] = record.training_end_time
    if record.warm_pool_status:
        summary["WarmPoolStatus"] = _warm_pool_status(record, now)
    return summary


def epoch_filter(value: Any, field: str) -> float | None:
    if value is None:
        return None
    seconds = epoch_seconds(value)
    if seconds is None:
        raise ValidationError(f"{field} must be a timestamp (epoch seconds or ISO 8601)")
    return seconds


def list_query(request: dict[str, Any], **more: Any) -> ListQuery:
    """The filters, sort and page a List*Jobs request asks for (its shape already checked)."""
    modified_before = request.get("LastModifiedTimeBefore")
    return ListQuery(
        name_contains=request.get("NameContains"),
        status_equals=request.get("StatusEquals"),
        creation_after=epoch_filter(request.get("CreationTimeAfter"), "CreationTimeAfter"),
        creation_before=epoch_filter(request.get("CreationTimeBefore"), "CreationTimeBefore"),
        modified_after=epoch_filter(request.get("LastModifiedTimeAfter"), "LastModifiedTimeAfter"),
        modified_before=epoch_filter(modified_before, "LastModifiedTimeBefore"),
        sort_by=request.get("SortBy", "CreationTime"),
        sort_order=request.get("SortOrder", "Descending"),
        max_results=request.get("MaxResults", 10),
        next_token=request.get("NextToken"),
        **more,
    )


def list_jobs(store: JobStore, request: dict[str, Any], now: float | None = None) -> dict[str, Any]:
    """ListTrainingJobs: summaries, newest first by default, paged by NextToken."""
    validate_shape(request, "ListTrainingJobsRequest")
    query = list_query(request, warm_pool_status_equals=request.get("WarmPoolStatusEquals"))
    if request.get("TrainingPlanArnEquals"):
        return {"TrainingJobSummaries": []}  # no job here has a training plan
    now = time.time() if now is None else now
    settle_warm_pools(store, now)
    records, token = store.page(query)
    response: dict[str, Any] = {"TrainingJobSummaries": [_summary(r, now) for r in records]}
    if token:
        response["NextToken"] = token
    return response


def request_stop(
    store: JobStore,
    name: str,
    clock: Clock,
    noun: str = "training job",
    missing: Callable[[str], ValidationError] = training_job_not_found,
    shown: str | None = None,
) -> None:
    """StopTrainingJob (StopProcessingJob: `noun`, `missing`, the name as `shown`): move the
    job to Stopping; stopping a stopping job is harmless."""
    for _ in range(10):  # each lost race means the supervisor moved on: read and retry
        record = store.get(name)
        if record is None:
            raise missing(shown or name)
        name = record.name  # as created, whatever the case it was asked for in
        if record.secondary == Secondary.STOPPING:
            return
        if is_terminal(record.secondary):
            raise ValidationError(
                f"The {noun} {shown or name!r} has already ended with status {record.status}"
                " and cannot be stopped."
            )
        if store.move(
            name, record.secondary, Secondary.STOPPING, clock.now(), stop_cause=StopCause.USER.value
        ):
            return
    raise ValidationError(f"The {noun} {shown or name!r} is changing status too fast to stop")


CLEAN_UP_PATIENCE = 10.0  # how long DeleteTrainingJob waits for a supervisor's clean-up


def delete(
    store: JobStore,
    settings: Settings,
    name: str,
    now: float,
    patience: float = CLEAN_UP_PATIENCE,
) -> None:
    """DeleteTrainingJob. The API reference: only a job in a terminal state (Stopped, Failed,
    Completed) that does not retain an Available warm pool can be deleted; "all of the metadata
    for the training job is lost", and its name can be used again. Its artifacts in S3 are the
    user's and stay; its logs on this machine go with it."""
    settle_warm_pools(store, now)  # a pool whose KeepAlivePeriod ran out no longer counts
    record = store.get(name)
    if record is None:
        raise ResourceNotFound(f"Requested resource not found. (TrainingJob {name!r})")
    component = trial_component_arn(
        settings.region, settings.account_id, f"{record.name}-aws-training-job"
    )
    refused = store.delete(record.name, now, also=(component,))
    # A job is Stopped or Completed a moment before its supervisor has cleaned up after it (a
    # waiter returns in that moment): wait for that, briefly, rather than refuse.
    deadline = time.monotonic() + patience
    while refused is not None and "cleaning up" in refused and time.monotonic() < deadline:
        time.sleep(0.05)
        refused = store.delete(record.name, now, also=(component,))  # its owner lets go
    if refused == "missing":
        raise ResourceNotFound(f"Requested resource not found. (TrainingJob {name!r})")
    if refused is not None:
        raise ResourceInUse(
            f"The training job {record.name!r} cannot be deleted: {refused}. Only jobs that"
            " are Completed, Failed or Stopped and keep no Available warm pool can be deleted"
            " (release a pool with UpdateTrainingJob, KeepAlivePeriodInSeconds 0)."
        )
    # Moved aside first: a new job of the same name may start at once, in a folder of its own.
    folder = settings.jobs_root / record.name
    tombstone = settings.jobs_root / f".deleted-{uuid.uuid4().hex}"
    with contextlib.suppress(OSError):
        folder.rename(tombstone)
    shutil.rmtree(tombstone, ignore_errors=True)
