"""Side by side: the hyperparameters, settings and final metrics of a few training jobs, with
the rows whose values differ marked, and every job's metric series to overlay."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from orchestrator.dashboard.jobs import final_metrics, metric_series
from orchestrator.errors import ValidationError
from orchestrator.local import Orchestrator

MAX_COMPARED = 10


def _settings(job: Mapping[str, Any]) -> dict[str, Any]:
    resources = job.get("ResourceConfig") or {}
    stopping = job.get("StoppingCondition") or {}
    return {
        "Status": job["TrainingJobStatus"],
        "Image": (job.get("AlgorithmSpecification") or {}).get("TrainingImage"),
        "InstanceType": resources.get("InstanceType"),
        "InstanceCount": resources.get("InstanceCount"),
        "MaxRuntimeInSeconds": stopping.get("MaxRuntimeInSeconds"),
        "TrainingTimeInSeconds": job.get("TrainingTimeInSeconds"),
    }


def side_by_side(values: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per key any job has: each job's value (None where it has none), and whether
    they differ."""
    keys = sorted({key for mapping in values for key in mapping})
    rows = []
    for key in keys:
        cells = [mapping.get(key) for mapping in values]
        rows.append({"name": key, "values": cells, "differs": len({repr(c) for c in cells}) > 1})
    return rows


def comparison_table(jobs: Sequence[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The table of Compare from Describe responses: settings, hyperparameters, final metrics."""
    finals = [final_metrics(job) for job in jobs]
    return {
        "settings": side_by_side([_settings(job) for job in jobs]),
        "hyperparameters": side_by_side([job.get("HyperParameters") or {} for job in jobs]),
        "finalMetrics": side_by_side(finals),
    }


def parse_names(raw: str | None) -> list[str]:
    names = list(dict.fromkeys(n.strip() for n in (raw or "").split(",") if n.strip()))
    if not 1 <= len(names) <= MAX_COMPARED:
        raise ValidationError(
            f"names must list 1 to {MAX_COMPARED} training jobs, comma-separated; got {len(names)}"
        )
    return names


def compare(orch: Orchestrator, raw_names: str | None) -> dict[str, Any]:
    names = parse_names(raw_names)
    described = [orch.describe_training_job(name) for name in names]
    return {
        "jobs": [job["TrainingJobName"] for job in described],
        "table": comparison_table(described),
        "series": [metric_series(orch, job["TrainingJobName"])["metrics"] for job in described],
    }
