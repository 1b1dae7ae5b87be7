"""Typed search results for the Python API."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class TrainingJobRecord:
    name: str
    arn: str
    status: str
    secondary_status: str
    creation_time: float
    last_modified_time: float
    hyperparameters: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    record: dict[str, Any] = field(default_factory=dict)  # the full SearchRecord.TrainingJob

    @classmethod
    def of(cls, job: dict[str, Any]) -> TrainingJobRecord:
        return cls(
            name=job["TrainingJobName"],
            arn=job["TrainingJobArn"],
            status=job["TrainingJobStatus"],
            secondary_status=job["SecondaryStatus"],
            creation_time=job["CreationTime"],
            last_modified_time=job["LastModifiedTime"],
            hyperparameters=dict(job.get("HyperParameters") or {}),
            metrics={m["MetricName"]: m["Value"] for m in job.get("FinalMetricDataList", [])},
            tags={t["Key"]: t["Value"] for t in job.get("Tags", [])},
            record=job,
        )


@dataclass(frozen=True)
class SearchPage:
    records: list[TrainingJobRecord]
    next_token: str | None
    total_hits: int
