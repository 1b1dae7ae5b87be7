"""Trial components: the view of training jobs (and of BatchPutMetrics data) that the SageMaker
SDK's experiment helpers read, through DescribeTrialComponent and Search over
ExperimentTrialComponent.

SageMaker creates a trial component `<job>-aws-training-job` for every training job (developer
guide, "Amazon SageMaker Experiments"), with the job as its Source, its hyperparameters as
Parameters, its channels and model as artifacts, its metrics summarized, and the trial and
experiment of the job's ExperimentConfig as Parents. Here they are derived on demand from the
job and the metric store, never stored twice. A name BatchPutMetrics wrote to that is no job's
is a trial component of its own, with those metrics. Which hyperparameters are numbers is not
documented: they stay strings (StringValue), as the request gave them; the instance figures
SageMaker adds (`SageMaker.InstanceCount`, `SageMaker.VolumeSizeInGB`) are NumberValues.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from orchestrator.config import Settings
from orchestrator.errors import ResourceNotFound
from orchestrator.metrics.operations import trial_component_arn
from orchestrator.search import documents
from orchestrator.store.jobs import JobRecord, JobStore, ListQuery
from orchestrator.store.metrics import MetricStore

SUFFIX = "-aws-training-job"
_PRIMARY = {"InProgress": "InProgress", "Stopping": "Stopping", "Completed": "Completed",
            "Failed": "Failed", "Stopped": "Stopped"}  # fmt: skip


class TrialComponents:
    def __init__(self, store: JobStore, metrics: MetricStore, settings: Settings) -> None:
        self.store = store
        self.metrics = metrics
        self.settings = settings

    def arn(self, name: str) -> str:
        return trial_component_arn(self.settings.region, self.settings.account_id, name)

    def describe(self, name: str) -> dict[str, Any]:
        """DescribeTrialComponent (by name or ARN)."""
        name = name.rsplit("/", 1)[-1] if name.startswith("arn:") else name
        found = self.get(name)
        if found is None:
            raise ResourceNotFound(f"Trial Component {self.arn(name)} does not exist.")
        found.pop("Tags", None)
        found.pop("Parents", None)
        return found

    def get(self, name: str) -> dict[str, Any] | None:
        if name.endswith(SUFFIX):
            record = self.store.get(name.removesuffix(SUFFIX))
            if record is not None:
                return self._of_job(record)
        return self._of_metrics(name)

    def all(self, full: bool = True) -> Iterator[dict[str, Any]]:
        """Every trial component: one per training job, then those only metrics made."""
        records, _ = self.store.page(
            ListQuery(sort_by="Name", sort_order="Ascending", max_results=1_000_000)
        )
        jobs = set()
        for record in records:
            jobs.add(record.name + SUFFIX)
            yield self._of_job(record, full)
        prefix = self.arn("")
        for resource in self.metrics.resources(prefix):
            name = resource.removeprefix(prefix)
            if name not in jobs:
                found = self._of_metrics(name)
                if found is not None:
                    yield found

    # -- building the view -------------------------------------------------------------------

    def _summaries(self, *resources: str) -> list[dict[str, Any]]:
        """TrialComponentMetricSummary of each metric the resources hold (a training job's
        points and what BatchPutMetrics wrote to its trial component's name, together)."""
        merged: dict[str, dict[str, Any]] = {}
        for resource in resources:
            moments = self.metrics.moments(resource)
            for summary in self.metrics.summaries(resource):
                count, total, squares = moments.get(summary.metric, (0, 0.0, 0.0))
                seen = merged.setdefault(
                    summary.metric,
                    {
                        "MetricName": summary.metric,
                        "SourceArn": resource,
                        "TimeStamp": 0.0,
                        "Max": summary.maximum,
                        "Min": summary.minimum,
                        "Count": 0,
                        "_sum": 0.0,
                        "_squares": 0.0,
                    },
                )
                seen["Max"] = max(seen["Max"], summary.maximum)
                seen["Min"] = min(seen["Min"], summary.minimum)
                seen["Count"] += count
                seen["_sum"] += total
                seen["_squares"] += squares
                if summary.last_timestamp >= seen["TimeStamp"]:
                    seen.update(TimeStamp=summary.last_timestamp, Last=summary.last)
        for seen in merged.values():
            count, total, squares = seen["Count"], seen.pop("_sum"), seen.pop("_squares")
            mean = total / count if count else seen["Last"]
            spread = (squares - count * mean * mean) / (count - 1) if count > 1 else 0.0
            seen.update(Avg=mean, StdDev=math.sqrt(max(spread, 0.0)))
        return list(merged.values())

    def _of_metrics(self, name: str) -> dict[str, Any] | None:
        resource = self.arn(name)
        summaries = self._summaries(resource)
        if not summaries:
            return None
        last = max(s["TimeStamp"] for s in summaries)
        return {
            "TrialComponentName": name,
            "DisplayName": name,
            "TrialComponentArn": resource,
            "CreationTime": min(s["TimeStamp"] for s in summaries),
            "LastModifiedTime": last,
            "Metrics": summaries,
            "Parameters": {},
            "Parents": [],
            "Tags": [],
        }

    def _of_job(self, record: JobRecord, full: bool = True) -> dict[str, Any]:
        """The job's trial component; not `full`: without Metrics and Tags (the costly
        parts), for searches that do not look at them."""
        request = record.request
        name = record.name + SUFFIX
        resources = request.get("ResourceConfig") or {}
        parameters: dict[str, Any] = {
            key: {"StringValue": str(value)}
            for key, value in (request.get("HyperParameters") or {}).items()
        }
        image = (request.get("AlgorithmSpecification") or {}).get("TrainingImage")
        if image:
            parameters["SageMaker.ImageUri"] = {"StringValue": image}
        if resources.get("InstanceType"):
            parameters["SageMaker.InstanceType"] = {"StringValue": resources["InstanceType"]}
        for field in ("InstanceCount", "VolumeSizeInGB"):
            if resources.get(field) is not None:
                parameters[f"SageMaker.{field}"] = {"NumberValue": float(resources[field])}
        inputs = {
            channel["ChannelName"]: {
                "Value": channel["DataSource"]["S3DataSource"]["S3Uri"],
                **({"MediaType": channel["ContentType"]} if channel.get("ContentType") else {}),
            }
            for channel in request.get("InputDataConfig") or []
            if "S3DataSource" in (channel.get("DataSource") or {})
        }
        status: dict[str, Any] = {"PrimaryStatus": _PRIMARY.get(record.status, "InProgress")}
        if record.failure_reason:
            status["Message"] = record.failure_reason
        summaries = self._summaries(record.arn, self.arn(name)) if full else []
        component: dict[str, Any] = {
            "TrialComponentName": name,
            "DisplayName": name,
            "TrialComponentArn": self.arn(name),
            "Source": {"SourceArn": record.arn, "SourceType": "SageMakerTrainingJob"},
            "Status": status,
            "CreationTime": record.creation_time,
            "LastModifiedTime": record.last_modified_time,
            "Parameters": parameters,
            "InputArtifacts": inputs,
            "Metrics": summaries,
            "Tags": [{"Key": k, "Value": v} for k, v in self.store.tags(record.name).items()]
            if full
            else [],
            "Parents": _parents(request),
        }
        if record.training_start_time is not None:
            component["StartTime"] = record.training_start_time
        if record.training_end_time is not None:
            component["EndTime"] = record.training_end_time
        if record.model_artifacts:
            component["OutputArtifacts"] = {
                "SageMaker.ModelArtifact": {"Value": record.model_artifacts}
            }
        return component


def _parents(request: dict[str, Any]) -> list[dict[str, str]]:
    config = request.get("ExperimentConfig") or {}
    if config.get("ExperimentName") and config.get("TrialName"):
        return [{"TrialName": config["TrialName"], "ExperimentName": config["ExperimentName"]}]
    return []


def search(components: TrialComponents, request: dict[str, Any]) -> dict[str, Any]:
    """Search over ExperimentTrialComponent. VisibilityConditions and CrossAccount apply as for
    training jobs. Metrics and Tags are read only for the page when the search does not look
    at them, so ExperimentAnalytics over one experiment stays cheap among many jobs."""
    wanted = documents.with_visibility(request)
    if wanted is None:
        return dict(documents.NOTHING)
    expression = wanted.get("SearchExpression")
    looks_at = _properties(expression) | {str(request.get("SortBy") or "").split(".")[0]}
    full = bool(looks_at & {"Metrics", "Tags"})
    response = documents.page(components.all(full), wanted, "TrialComponent")
    if not full:
        response["Results"] = [
            {"TrialComponent": components.get(r["TrialComponent"]["TrialComponentName"])}
            for r in response["Results"]
        ]
    return response


def _properties(expression: dict[str, Any] | None) -> set[str]:
    """The top-level properties an expression names (`Metrics` for `Metrics.loss.Max`)."""
    if not expression:
        return set()
    names = {str(f.get("Name", "")).split(".")[0] for f in expression.get("Filters") or []}
    names |= {
        str(n.get("NestedPropertyName", "")).split(".")[0]
        for n in expression.get("NestedFilters") or []
    }
    for sub in expression.get("SubExpressions") or []:
        names |= _properties(sub)
    return names
