"""The dashboard's job documents: list rows, one job in full, its metric series and its logs.

Everything is read through the operations the API serves (Search, Describe*, List*), so the
dashboard shows exactly what boto3 would; only the log tail and the timeline's durations are
computed here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from orchestrator.dashboard.query import page_size, search_request, sort_order
from orchestrator.engine.context import EngineContext
from orchestrator.engine.logs import read_log
from orchestrator.errors import ValidationError, training_job_not_found
from orchestrator.lifecycle import is_terminal
from orchestrator.local import Orchestrator
from orchestrator.operations import processing_jobs
from orchestrator.operations.training_jobs import status_transitions
from orchestrator.spec import host_names
from orchestrator.store.capacity import CapacityLedger
from orchestrator.store.jobs import JobRecord
from orchestrator.store.metrics import StoredPoint

KINDS = ("training", "processing")
PROCESSING_SORTS = {"CreationTime": "CreationTime", "Name": "Name", "Status": "Status"}
LOG_PAGE_BYTES = 256 * 1024
MAX_POINTS = 2000  # per metric series in one answer


def kind_of(params: Mapping[str, str]) -> str:
    kind = params.get("kind") or "training"
    if kind not in KINDS:
        raise ValidationError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    return kind


def job_list(orch: Orchestrator, params: Mapping[str, str]) -> dict[str, Any]:
    """A page of the jobs list: rows, the token of the next page, and how many match."""
    now = orch.clock.now()
    if kind_of(params) == "processing":
        return _processing_list(orch, params, now)
    response = orch.search(**search_request(params))
    rows = [training_row(result["TrainingJob"], now) for result in response["Results"]]
    return {
        "rows": rows,
        "next": response.get("NextToken"),
        "total": response["TotalHits"]["Value"],
        "now": now,
    }


def _duration(start: float | None, end: float | None, now: float) -> float | None:
    if start is None:
        return None
    return max(0.0, (end if end is not None else now) - start)


def training_row(job: Mapping[str, Any], now: float) -> dict[str, Any]:
    """One training job as the list shows it."""
    resources = job.get("ResourceConfig") or {}
    groups = resources.get("InstanceGroups") or []
    instance = resources.get("InstanceType") or ", ".join(g["InstanceType"] for g in groups)
    end = job.get("TrainingEndTime")
    return {
        "kind": "training",
        "name": job["TrainingJobName"],
        "status": job["TrainingJobStatus"],
        "secondaryStatus": job.get("SecondaryStatus"),
        "instanceType": instance,
        "instanceCount": resources.get("InstanceCount") or sum(g["InstanceCount"] for g in groups),
        "created": job["CreationTime"],
        "duration": _duration(job.get("TrainingStartTime"), end, now),
        "finalMetrics": final_metrics(job),
        "warmPool": (job.get("WarmPoolStatus") or {}).get("Status"),
        "failureReason": job.get("FailureReason"),
    }


def final_metrics(job: Mapping[str, Any]) -> dict[str, float]:
    """FinalMetricDataList as {metric: value}."""
    return {m["MetricName"]: m["Value"] for m in job.get("FinalMetricDataList", [])}


def _processing_list(orch: Orchestrator, params: Mapping[str, str], now: float) -> dict[str, Any]:
    if (params.get("q") or "").strip():
        raise ValidationError("search expressions apply to training jobs (Search's TrainingJob)")
    sort = params.get("sort") or "CreationTime"
    if sort not in PROCESSING_SORTS:
        raise ValidationError(
            f"sort for processing jobs must be one of {', '.join(PROCESSING_SORTS)}, got {sort!r}"
        )
    request: dict[str, Any] = {
        "SortBy": PROCESSING_SORTS[sort],
        "SortOrder": sort_order(params),
        "MaxResults": page_size(params),
    }
    for field, param in (
        ("StatusEquals", "status"),
        ("NameContains", "name"),
        ("NextToken", "next"),
    ):
        if params.get(param):
            request[field] = params[param]
    response = orch.list_processing_jobs(**request)
    rows = [
        processing_row(orch.describe_processing_job(s["ProcessingJobName"]), now)
        for s in response["ProcessingJobSummaries"]
    ]
    return {"rows": rows, "next": response.get("NextToken"), "total": None, "now": now}


def processing_row(job: Mapping[str, Any], now: float) -> dict[str, Any]:
    cluster = (job.get("ProcessingResources") or {}).get("ClusterConfig") or {}
    return {
        "kind": "processing",
        "name": job["ProcessingJobName"],
        "status": job["ProcessingJobStatus"],
        "secondaryStatus": None,
        "instanceType": cluster.get("InstanceType"),
        "instanceCount": cluster.get("InstanceCount"),
        "created": job["CreationTime"],
        "duration": _duration(job.get("ProcessingStartTime"), job.get("ProcessingEndTime"), now),
        "finalMetrics": {},
        "warmPool": None,
        "failureReason": job.get("FailureReason"),
    }


def timeline(transitions: Sequence[Mapping[str, Any]], now: float) -> list[dict[str, Any]]:
    """SecondaryStatusTransitions with each entry's duration (the open one's, until now)."""
    return [
        {
            "status": t["Status"],
            "start": t["StartTime"],
            "end": t.get("EndTime"),
            "seconds": _duration(t["StartTime"], t.get("EndTime"), now),
            "message": t.get("StatusMessage", ""),
        }
        for t in transitions
    ]


def _record(orch: Orchestrator, kind: str, name: str) -> JobRecord:
    if kind == "processing":
        return processing_jobs.find(orch.store, name)
    record = orch.store.get(name)
    if record is None or record.kind != "training":
        raise training_job_not_found(name)
    return record


def job_detail(orch: Orchestrator, kind: str, name: str) -> dict[str, Any]:
    """Everything the job page shows: the Describe response plus what it leaves implicit."""
    now = orch.clock.now()
    record = _record(orch, kind, name)
    if kind == "processing":
        described = orch.describe_processing_job(name)
        transitions = status_transitions(orch.store, record.name)
        status = described["ProcessingJobStatus"]
    else:
        described = orch.describe_training_job(name)
        transitions = described["SecondaryStatusTransitions"]
        status = described["TrainingJobStatus"]
    ledger = CapacityLedger(orch.store.db)
    return {
        "kind": kind,
        "name": name,
        "describe": described,
        "timeline": timeline(transitions, now),
        "hosts": host_names(record.request),
        "gpus": list(ledger.gpus_of(record.name)),
        "placement": {
            host: placed.node for host, placed in ledger.placement_of(record.name).items()
        },
        "artifacts": artifacts(described),
        "canStop": status == "InProgress",
        "canRelease": (described.get("WarmPoolStatus") or {}).get("Status") == "Available",
        "ended": is_terminal(record.secondary),
        "now": now,
    }


def artifacts(described: Mapping[str, Any]) -> list[dict[str, str]]:
    """Where the job's outputs are (or will be), as S3 URIs, with what each one is."""
    found = []
    model = (described.get("ModelArtifacts") or {}).get("S3ModelArtifacts")
    if model:
        found.append({"what": "Model artifacts", "uri": model})
    places = (
        ("Output path", (described.get("OutputDataConfig") or {}).get("S3OutputPath")),
        ("Checkpoints", (described.get("CheckpointConfig") or {}).get("S3Uri")),
        ("TensorBoard", (described.get("TensorBoardOutputConfig") or {}).get("S3OutputPath")),
        ("Debugger", (described.get("DebugHookConfig") or {}).get("S3OutputPath")),
    )
    found += [{"what": what, "uri": uri} for what, uri in places if uri]
    for output in (described.get("ProcessingOutputConfig") or {}).get("Outputs", []):
        s3 = output.get("S3Output") or {}
        if s3.get("S3Uri"):
            found.append({"what": f"Output {output.get('OutputName', '')}", "uri": s3["S3Uri"]})
    return found


def thinned(points: Sequence[StoredPoint], limit: int = MAX_POINTS) -> list[list[float]]:
    """At most `limit` points, evenly spread, always with the last: a chart of a long run
    draws the same curve from a bounded document."""
    stride = max(1, -(-len(points) // limit))
    kept = list(points[::stride])
    if points and kept[-1] is not points[-1]:
        kept.append(points[-1])
    return [[p.iteration, p.timestamp, p.value] for p in kept]


def metric_series(orch: Orchestrator, name: str) -> dict[str, Any]:
    """Every metric the job reported, each as its points in order (step, time, value)."""
    _record(orch, "training", name)
    series = {
        summary.metric: thinned(orch.metric_series(name, summary.metric))
        for summary in orch.metric_summaries(name)
    }
    return {"name": name, "metrics": series}


def log_page(orch: Orchestrator, kind: str, name: str, params: Mapping[str, str]) -> dict[str, Any]:
    """A host's log lines from a byte offset; with no offset, the last LOG_PAGE_BYTES of it."""
    record = _record(orch, kind, name)
    host = params.get("host") or "algo-1"
    if host not in host_names(record.request):
        raise ValidationError(f"host {host!r} is not one of this job's hosts")
    path = EngineContext.log_file(orch.settings, record.name, host)
    offset = _offset(params.get("offset"), path)
    lines, after = read_log(path, offset, LOG_PAGE_BYTES)
    return {
        "host": host,
        "lines": [[stamp, text] for stamp, text in lines],
        "offset": after,
        "ended": orch.settled(record.name),  # its log is whole once its supervisor is done
        # Only when this page brought lines: a torn last line (its writer died) never completes.
        "more": bool(lines) and _size(path) > after,
    }


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def _offset(raw: str | None, path: Path) -> int:
    if raw is None or raw == "":
        return _tail_start(path)
    if not (raw.isascii() and raw.isdigit()):
        raise ValidationError(f"offset must be a whole number of bytes, got {raw!r}")
    return min(int(raw), _size(path))


def _tail_start(path: Path) -> int:
    """Where the last page of a log starts: at a line's beginning, LOG_PAGE_BYTES from its end."""
    size = _size(path)
    if size <= LOG_PAGE_BYTES:
        return 0
    with path.open("rb") as handle:
        handle.seek(size - LOG_PAGE_BYTES - 1)  # from the byte before: a cut at a line's start
        skipped = handle.readline()  # keeps that line
    return size - LOG_PAGE_BYTES - 1 + len(skipped)
