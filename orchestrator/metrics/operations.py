"""BatchPutMetrics and BatchGetMetrics, shaped as the sagemaker-metrics API answers them."""

from __future__ import annotations

import math
from typing import Any

from orchestrator.store.jobs import JobStore
from orchestrator.store.metrics import MetricStore, NewPoint
from orchestrator.timestamps import epoch_seconds
from orchestrator.validation.model import raise_for_errors, shape_errors, validate_shape

SERVICE = "sagemaker-metrics"
# How many distinct metrics one trial component may hold; more is METRIC_LIMIT_EXCEEDED.
MAX_METRICS_PER_RESOURCE = 1000
MAX_RESULT_POINTS = 100_000


def trial_component_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:sagemaker:{region}:{account}:experiment-trial-component/{name}"


def _item_point(item: Any) -> NewPoint | None:
    """The point an item describes, or None when it is not a valid RawMetricData."""
    if shape_errors(item, "RawMetricData", SERVICE):
        return None
    timestamp = epoch_seconds(item["Timestamp"])
    value = float(item["Value"])
    if timestamp is None or not math.isfinite(value) or not 0 <= timestamp < 32503680000:
        return None
    return NewPoint(item["MetricName"], timestamp, value, item.get("Step"))


def batch_put_metrics(
    metrics: MetricStore, resource: str, request: dict[str, Any]
) -> dict[str, Any]:
    """Store what can be stored; each refused item comes back in Errors with its index."""
    _validate_envelope(request)
    known = metrics.known_metrics(resource)
    errors: list[dict[str, Any]] = []
    accepted: list[NewPoint] = []
    for index, item in enumerate(request["MetricData"]):
        point = _item_point(item)
        code = _refusal(metrics, resource, point, known, accepted)
        if code is not None:
            errors.append({"Code": code, "MetricIndex": index})
            continue
        assert point is not None
        accepted.append(point)
        known.add(point.metric)
    metrics.append(resource, accepted)
    return {"Errors": errors} if errors else {}


def _validate_envelope(request: dict[str, Any]) -> None:
    """The request as a whole (name, list size); items are judged one by one."""
    errors = shape_errors(
        request, "BatchPutMetricsRequest", SERVICE, shallow=frozenset({"MetricData"})
    )
    raise_for_errors(errors)


def _refusal(
    metrics: MetricStore,
    resource: str,
    point: NewPoint | None,
    known: set[str],
    accepted: list[NewPoint],
) -> str | None:
    if point is None:
        return "VALIDATION_ERROR"
    if point.metric not in known and len(known) >= MAX_METRICS_PER_RESOURCE:
        return "METRIC_LIMIT_EXCEEDED"
    if point.step is not None:
        same_batch = any(p.metric == point.metric and p.step == point.step for p in accepted)
        if same_batch or metrics.steps_taken(resource, point.metric, [point.step]):
            return "CONFLICT_ERROR"  # one value per iteration of a metric
    return None


def batch_get_metrics(
    metrics: MetricStore, jobs: JobStore, request: dict[str, Any]
) -> dict[str, Any]:
    validate_shape(request, "BatchGetMetricsRequest", SERVICE)
    return {"MetricQueryResults": [_query(metrics, jobs, q) for q in request["MetricQueries"]]}


def _query(metrics: MetricStore, jobs: JobStore, query: dict[str, Any]) -> dict[str, Any]:
    resource = query["ResourceArn"]
    if not metrics.known_metrics(resource) and not _is_training_job(jobs, resource):
        return {
            "Status": "ValidationError",
            "Message": f"Resource {resource} not found.",
            "XAxisValues": [],
            "MetricValues": [],
        }
    xs, ys, truncated = metrics.aggregate(
        resource,
        query["MetricName"],
        query["MetricStat"],
        query["Period"],
        query["XAxisType"],
        start=query.get("Start"),
        end=query.get("End"),
        limit=MAX_RESULT_POINTS,
    )
    result: dict[str, Any] = {
        "Status": "Truncated" if truncated else "Complete",
        "XAxisValues": xs,
        "MetricValues": ys,
    }
    if truncated:
        result["Message"] = f"Only the first {MAX_RESULT_POINTS} points are returned."
    return result


def _is_training_job(jobs: JobStore, arn: str) -> bool:
    if ":training-job/" not in arn:
        return False
    return jobs.by_arn(arn) is not None
