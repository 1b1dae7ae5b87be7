"""The CloudWatch metrics subset the SageMaker SDK's TrainingJobAnalytics reads.

SageMaker publishes a training job's MetricDefinitions values to CloudWatch in the namespace
`/aws/sagemaker/TrainingJobs` (developer guide, "Monitor and Analyze Training Jobs Using Amazon
CloudWatch Metrics"); the SDK asks GetMetricStatistics with the dimension `TrainingJobName`,
and the console uses `Host` (`<job>/algo-N`). Both are answered here from the metric store, so
the SDK's dataframe holds the same numbers as `orchestrator metrics`. The metric store keeps a
job's points without their host: `Host` answers with the whole job's points.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import statistics
from collections.abc import Callable, Iterator
from typing import Any

from orchestrator.errors import ProtocolError
from orchestrator.spec import host_names
from orchestrator.store.jobs import JobRecord, JobStore, ListQuery
from orchestrator.store.metrics import MetricStore, StoredPoint
from orchestrator.timestamps import epoch_seconds
from orchestrator.validation.model import validate_shape

SERVICE = "cloudwatch"
NAMESPACE = "/aws/sagemaker/TrainingJobs"
MAX_DATAPOINTS = 1440  # CloudWatch's limit on datapoints in one answer
PAGE = 500


def _invalid(message: str) -> ProtocolError:
    return ProtocolError("InvalidParameterCombination", message)


def _bad_value(message: str) -> ProtocolError:
    return ProtocolError("InvalidParameterValue", message)


def _moment(value: Any, field: str) -> float:
    seconds = epoch_seconds(value)
    if seconds is None or not math.isfinite(seconds):
        raise _bad_value(f"The parameter {field} must be a valid timestamp, got {value!r}.")
    return seconds


def _percentile(values: list[float], name: str) -> float:
    """`p90`, `p99.9`: the nearest-rank percentile of the period's values."""
    rank = float(name[1:]) / 100
    ordered = sorted(values)
    return ordered[max(math.ceil(rank * len(ordered)) - 1, 0)]


_EXTENDED = re.compile(r"p(\d{1,2}(\.\d{1,10})?|100)")


def _when(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc)


_STATISTICS: dict[str, Callable[[list[float]], float]] = {
    "Average": statistics.fmean,
    "Sum": math.fsum,
    "Minimum": min,
    "Maximum": max,
    "SampleCount": lambda values: float(len(values)),
}


class CloudWatchApi:
    def __init__(self, store: JobStore, metrics: MetricStore) -> None:
        self.store = store
        self.metrics = metrics

    def _job(self, dimensions: list[dict[str, str]]) -> JobRecord | None:
        """The training job the dimensions name (TrainingJobName, or Host `<job>/algo-N`)."""
        named = {d.get("Name"): d.get("Value", "") for d in dimensions}
        if set(named) == {"TrainingJobName"}:
            return self.store.get(named["TrainingJobName"])
        if set(named) == {"Host"}:
            job, _, host = named["Host"].partition("/")
            record = self.store.get(job)
            if record is not None and host in host_names(record.request):
                return record
        return None

    def get_metric_statistics(self, request: dict[str, Any]) -> dict[str, Any]:
        validate_shape(request, "GetMetricStatisticsInput", SERVICE)
        wanted = request.get("Statistics") or []
        extended = request.get("ExtendedStatistics") or []
        if bool(wanted) == bool(extended):
            raise _invalid("Must specify either Statistics or ExtendedStatistics, not both.")
        for name in extended:
            if not _EXTENDED.fullmatch(name):
                raise _bad_value(f"The value {name} for ExtendedStatistics is not a percentile.")
        start = _moment(request["StartTime"], "StartTime")
        end = _moment(request["EndTime"], "EndTime")
        period = int(request["Period"])
        if end <= start:
            raise _bad_value("The parameter StartTime must be less than the parameter EndTime.")
        if (end - start) / period > MAX_DATAPOINTS:
            raise _invalid(
                f"You have requested up to {math.ceil((end - start) / period)} datapoints,"
                f" which exceeds the limit of {MAX_DATAPOINTS}."
            )
        record = None
        if request.get("Namespace") == NAMESPACE:
            record = self._job(request.get("Dimensions") or [])
        points = self.metrics.series(record.arn, request["MetricName"]) if record else []
        buckets = _bucketed(points, start, end, period)
        datapoints = []
        for bucket, values in sorted(buckets.items()):
            datapoint: dict[str, Any] = {"Timestamp": _when(bucket), "Unit": "None"}
            for name in wanted:
                datapoint[name] = _STATISTICS[name](values)
            if extended:
                datapoint["ExtendedStatistics"] = {n: _percentile(values, n) for n in extended}
            datapoints.append(datapoint)
        return {"Label": request["MetricName"], "Datapoints": datapoints}

    def list_metrics(self, request: dict[str, Any]) -> dict[str, Any]:
        validate_shape(request, "ListMetricsInput", SERVICE)
        if request.get("Namespace", NAMESPACE) != NAMESPACE:
            return {"Metrics": []}
        found = list(self._listed(request))
        token = str(request.get("NextToken", "0"))
        if not token.isdigit():
            raise ProtocolError("InvalidNextToken", "The service couldn't process your request.")
        start = int(token)
        response: dict[str, Any] = {"Metrics": found[start : start + PAGE]}
        if start + PAGE < len(found):
            response["NextToken"] = str(start + PAGE)
        return response

    def _listed(self, request: dict[str, Any]) -> Iterator[dict[str, Any]]:
        wanted_metric = request.get("MetricName")
        filters = request.get("Dimensions") or []
        records, _ = self.store.page(
            ListQuery(sort_by="Name", sort_order="Ascending", max_results=1_000_000)
        )
        for record in records:
            for summary in self.metrics.summaries(record.arn):
                if wanted_metric and summary.metric != wanted_metric:
                    continue
                by_job = [{"Name": "TrainingJobName", "Value": record.name}]
                by_host = [
                    [{"Name": "Host", "Value": f"{record.name}/{host}"}]
                    for host in host_names(record.request)
                ]
                for dimensions in (by_job, *by_host):
                    if _matches(dimensions, filters):
                        yield {
                            "Namespace": NAMESPACE,
                            "MetricName": summary.metric,
                            "Dimensions": dimensions,
                        }


def _matches(dimensions: list[dict[str, str]], filters: list[dict[str, str]]) -> bool:
    """ListMetrics' DimensionFilter: each filter's Name present (with its Value, if given)."""
    have = {d["Name"]: d["Value"] for d in dimensions}
    for wanted in filters:
        name = wanted.get("Name")
        if name not in have or ("Value" in wanted and have[name] != wanted["Value"]):
            return False
    return True


def _bucketed(
    points: list[StoredPoint], start: float, end: float, period: int
) -> dict[float, list[float]]:
    """Points in [start, end) grouped by period, each period starting at a multiple of it
    (CloudWatch's datapoints fall on period boundaries: whole minutes for 60)."""
    buckets: dict[float, list[float]] = {}
    for point in points:
        if start <= point.timestamp < end:
            bucket = math.floor(point.timestamp / period) * period
            buckets.setdefault(float(bucket), []).append(point.value)
    return buckets
