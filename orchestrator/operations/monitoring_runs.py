"""Running a monitoring schedule's executions: the engine loop's part of monitoring.

Each tick, every due slot of a Scheduled schedule is claimed in the store (one engine runs it),
its data merged (captured predictions in the window joined with ground truth, merge.py), staged
in the object store, and run as a processing job of the definition's image (AWS's analyzer URI
runs ours) with the analyzer's documented environment. The processing job carries the
schedule's ARN (DescribeProcessingJob's MonitoringScheduleArn). An execution that cannot start
(no captured data, nothing labelled, an endpoint input) is Failed with the reason, and the
schedule goes on. A cron schedule that was not served for a while runs its latest slot only.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from orchestrator.errors import OrchestratorError, ValidationError
from orchestrator.monitoring.merge import Merged, attribute_path, ground_truth, merge
from orchestrator.monitoring.schedule import parse_schedule, window
from orchestrator.operations.model_quality import MODEL_QUALITY
from orchestrator.storage.protocol import ObjectStore
from orchestrator.store.monitoring import Definition, MonitoringStore, ScheduleRecord, ScheduleStore

log = logging.getLogger(__name__)

# (processing request, extra stored fields) -> the processing job's stored name
Submit = Callable[[dict[str, Any], dict[str, Any]], str]
BASELINE_PATH = "/opt/ml/processing/baseline/constraints"
CODE_PATH = "/opt/ml/processing/code"


def run_due(
    schedules: ScheduleStore,
    definitions: MonitoringStore,
    objects: ObjectStore,
    submit: Submit,
    now: float,
) -> int:
    """Start every execution that is due; how many were claimed here."""
    started = 0
    for record in schedules.all():
        slot = record.next_slot
        if record.status != "Scheduled" or slot is None or slot > now:
            continue
        expression = record.request["MonitoringScheduleConfig"]["ScheduleConfig"][
            "ScheduleExpression"
        ]
        schedule = parse_schedule(expression)
        following = None if schedule.one_time else schedule.next_slot(now)
        if not schedules.claim(record.name, slot, now, following):
            continue
        started += 1
        try:
            if not schedule.one_time:  # the latest missed slot, not the oldest
                latest = schedule.latest_slot(slot, now)
                if latest != slot:
                    schedules.move_execution(record.name, slot, latest)
                    slot = latest
            definition = definitions.get(record.definition, MODEL_QUALITY)
            if definition is None:
                raise ValidationError(f"the job definition {record.definition!r} is gone")
            job = start_execution(record, definition, slot, objects, submit)
            schedules.settle_execution(record.name, slot, job)
        except Exception as exc:  # bad offsets, malformed records: the execution fails, said
            log.warning("monitoring schedule %s at %s: %s", record.name, slot, exc)
            reason = str(exc) if isinstance(exc, OrchestratorError | ValueError) else repr(exc)
            schedules.settle_execution(record.name, slot, None, reason[:1024])
    return started


def start_execution(
    schedule: ScheduleRecord,
    definition: Definition,
    slot: float,
    objects: ObjectStore,
    submit: Submit,
) -> str:
    request = definition.request
    batch = request["ModelQualityJobInput"].get("BatchTransformInput")
    if not batch:
        raise ValidationError(
            "EndpointInput reads an endpoint's captured data; endpoints are not supported by"
            " this orchestrator yet (use BatchTransformInput)"
        )
    config = schedule.request["MonitoringScheduleConfig"]["ScheduleConfig"]
    start = config.get("DataAnalysisStartTime") or batch.get("StartTimeOffset")
    end = config.get("DataAnalysisEndTime") or batch.get("EndTimeOffset")
    begin, finish = window(slot, start, end)
    merged = _merged(
        objects, batch, request["ModelQualityJobInput"]["GroundTruthS3Input"], begin, finish
    )
    output = request["ModelQualityJobOutputConfig"]["MonitoringOutputs"][0]["S3Output"]
    hour = time.strftime("%Y/%m/%d/%H", time.gmtime(slot))
    base = f"{output['S3Uri'].rstrip('/')}/{schedule.name}"
    staged = f"{base}/merge/{hour}/merged.jsonl"
    _stage(objects, merged, staged)
    processing = _processing_request(schedule, definition, slot, (begin, finish), staged, hour)
    return submit(processing, {"MonitoringScheduleArn": schedule.arn})


def _merged(
    objects: ObjectStore,
    batch: dict[str, Any],
    truth: dict[str, Any],
    begin: float,
    finish: float,
) -> Merged:
    captured = _texts(objects, batch["DataCapturedDestinationS3Uri"])
    labels = ground_truth(_texts(objects, truth["S3Uri"]))
    merged = merge(captured, labels, begin, finish)
    if not merged.records:
        raise ValidationError(
            f"no captured record between {_iso(begin)} and {_iso(finish)} has ground truth"
            f" ({merged.captured} captured in the window, {merged.unlabelled} without a label)"
        )
    return merged


def _texts(objects: ObjectStore, uri: str) -> list[str]:
    texts = []
    for _, object_uri in objects.list_objects(uri):
        with objects.open_object(object_uri) as body:
            texts.append(body.read().decode("utf-8", errors="replace"))
    return texts


def _stage(objects: ObjectStore, merged: Merged, uri: str) -> None:
    with tempfile.TemporaryDirectory(prefix="orchestrator-merge-") as scratch:
        path = Path(scratch) / "merged.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in merged.records))
        objects.upload_file(path, uri)


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _processing_request(
    schedule: ScheduleRecord,
    definition: Definition,
    slot: float,
    analysed: tuple[float, float],
    staged: str,
    hour: str,
) -> dict[str, Any]:
    request = definition.request
    app = request["ModelQualityAppSpecification"]
    batch = request["ModelQualityJobInput"]["BatchTransformInput"]
    output = request["ModelQualityJobOutputConfig"]["MonitoringOutputs"][0]["S3Output"]
    inputs = [_input("merged", staged, batch["LocalPath"])]
    environment = _environment(schedule, app, batch, output, analysed)
    constraints = (request.get("ModelQualityBaselineConfig") or {}).get("ConstraintsResource")
    if constraints and constraints.get("S3Uri"):
        inputs.append(_input("baseline", constraints["S3Uri"], BASELINE_PATH))
        name = constraints["S3Uri"].rstrip("/").rsplit("/", 1)[-1]
        environment["baseline_constraints"] = f"{BASELINE_PATH}/{name}"
    for key, env in (
        ("RecordPreprocessorSourceUri", "record_preprocessor_script"),
        ("PostAnalyticsProcessorSourceUri", "post_analytics_processor_script"),
    ):
        if app.get(key):
            folder = f"{CODE_PATH}/{env}"
            inputs.append(_input(env, app[key], folder))
            environment[env] = f"{folder}/{app[key].rstrip('/').rsplit('/', 1)[-1]}"
    application = {"ImageUri": app["ImageUri"]}
    for key in ("ContainerEntrypoint", "ContainerArguments"):
        if app.get(key):
            application[key] = app[key]
    network = request.get("NetworkConfig") or {}
    processing: dict[str, Any] = {
        "ProcessingJobName": _job_name(schedule.name, slot),
        "RoleArn": request["RoleArn"],
        "AppSpecification": application,
        "Environment": {**environment, **(app.get("Environment") or {})},
        "ProcessingInputs": inputs,
        "ProcessingOutputConfig": {
            "Outputs": [
                {
                    "OutputName": "monitoring_output",
                    "S3Output": {
                        "S3Uri": f"{output['S3Uri'].rstrip('/')}/{schedule.name}/{hour}",
                        "LocalPath": output["LocalPath"],
                        "S3UploadMode": output.get("S3UploadMode") or "EndOfJob",
                    },
                }
            ]
        },
        "ProcessingResources": {"ClusterConfig": request["JobResources"]["ClusterConfig"]},
        "StoppingCondition": request.get("StoppingCondition") or {"MaxRuntimeInSeconds": 3600},
    }
    if "EnableNetworkIsolation" in network:
        processing["NetworkConfig"] = {"EnableNetworkIsolation": network["EnableNetworkIsolation"]}
    return processing


def _environment(
    schedule: ScheduleRecord,
    app: dict[str, Any],
    batch: dict[str, Any],
    output: dict[str, Any],
    analysed: tuple[float, float],
) -> dict[str, str]:
    """The analyzer's documented environment (model-monitor-byoc-contract-inputs and the SDK's
    model-quality variables) for the merged records."""
    environment = {
        "dataset_format": json.dumps({"json": {"lines": True}}),
        "dataset_source": batch["LocalPath"],
        "output_path": output["LocalPath"],
        "analysis_type": "MODEL_QUALITY",
        "problem_type": app["ProblemType"],
        "inference_attribute": attribute_path(batch.get("InferenceAttribute")),
        "ground_truth_attribute": "$.groundTruth",
        "start_time": _iso(analysed[0]),
        "end_time": _iso(analysed[1]),
        "metric_time": _iso(analysed[1]),
        "sagemaker_monitoring_schedule_name": schedule.name,
        "publish_cloudwatch_metrics": "Disabled",
    }
    if batch.get("ProbabilityAttribute"):
        environment["probability_attribute"] = attribute_path(batch["ProbabilityAttribute"])
    if batch.get("ProbabilityThresholdAttribute") is not None:
        environment["probability_threshold_attribute"] = str(batch["ProbabilityThresholdAttribute"])
    return environment


def _input(name: str, uri: str, local: str) -> dict[str, Any]:
    return {
        "InputName": name,
        "S3Input": {
            "S3Uri": uri,
            "LocalPath": local,
            "S3DataType": "S3Prefix",
            "S3InputMode": "File",
            "S3DataDistributionType": "FullyReplicated",
        },
    }


def _job_name(schedule: str, slot: float) -> str:
    """`<schedule>-<yyyymmddhhmm>`, within the 63 characters a job name may have."""
    stamp = time.strftime("%Y%m%d%H%M", time.gmtime(slot))
    return f"{schedule[:50].rstrip('-')}-{stamp}"
