"""Model-quality monitoring end to end, on this machine, with the embedded defaults.

    .venv/bin/python examples/model-quality/walkthrough.py

1. a baseline: a processing job runs the analyzer over a good model's predictions and writes
   statistics.json and constraints.json;
2. a model-quality job definition over captured predictions and ground truth;
3. a one-time (NOW) monitoring schedule over a worse model's predictions, whose execution
   reports the constraints the worse model violates.

The same calls work over HTTP (`orchestrator serve`) with boto3 or the SageMaker SDK; see
docs/model-quality.md. Data is made up here, from a fixed seed.
"""

from __future__ import annotations

import datetime
import json
import random
import sys
import tempfile
import time
from pathlib import Path

from orchestrator import Orchestrator

ANALYZER = "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer"
ROLE = "arn:aws:iam::123456789012:role/SageMakerRole"
CLUSTER = {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 1}


def predictions(rows: int, accuracy: float, seed: int) -> list[tuple[int, int, float]]:
    """(label, prediction, probability), the prediction right about `accuracy` of the time."""
    rng = random.Random(seed)
    made = []
    for _ in range(rows):
        label = rng.randint(0, 1)
        prediction = label if rng.random() < accuracy else 1 - label
        probability = rng.uniform(0.5, 1) if prediction else rng.uniform(0, 0.5)
        made.append((label, prediction, probability))
    return made


def write_baseline(folder: Path) -> None:
    folder.mkdir(parents=True)
    rows = ["label,prediction,probability"]
    rows += [f"{a},{b},{p:.4f}" for a, b, p in predictions(500, 0.9, 1)]
    (folder / "validation.csv").write_text("\n".join(rows) + "\n")


def write_captured(folder: Path) -> None:
    """Data-capture records of the worse model and their ground truth, joined by inferenceId."""
    (folder / "captured").mkdir(parents=True)
    (folder / "truth").mkdir(parents=True)
    now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    captured, truth = [], []
    for number, (label, prediction, probability) in enumerate(predictions(500, 0.6, 2)):
        event = {"eventId": f"e{number}", "inferenceId": f"i{number}"}
        event["inferenceTime"] = now.strftime("%Y-%m-%dT%H:%M:%SZ")
        output = {"data": f"{prediction},{probability:.4f}", "encoding": "CSV"}
        captured.append({"captureData": {"endpointOutput": output}, "eventMetadata": event})
        data = {"data": str(label), "encoding": "CSV"}
        truth.append({"groundTruthData": data, "eventMetadata": {"eventId": f"i{number}"}})
    for name, records in (("captured", captured), ("truth", truth)):
        lines = "".join(json.dumps(r) + "\n" for r in records)
        (folder / name / "records.jsonl").write_text(lines)


def baseline(orch: Orchestrator, name: str) -> None:
    orch.create_processing_job(
        {
            "ProcessingJobName": name,
            "RoleArn": ROLE,
            "AppSpecification": {"ImageUri": ANALYZER},
            "Environment": {
                "dataset_format": json.dumps({"csv": {"header": True}}),
                "dataset_source": "/opt/ml/processing/input/baseline_dataset_input",
                "output_path": "/opt/ml/processing/output",
                "analysis_type": "MODEL_QUALITY",
                "problem_type": "BinaryClassification",
                "inference_attribute": "prediction",
                "probability_attribute": "probability",
                "ground_truth_attribute": "label",
            },
            "ProcessingInputs": [
                {
                    "InputName": "baseline_dataset_input",
                    "S3Input": {
                        "S3Uri": "s3://walkthrough/baseline/data",
                        "LocalPath": "/opt/ml/processing/input/baseline_dataset_input",
                        "S3DataType": "S3Prefix",
                        "S3InputMode": "File",
                    },
                }
            ],
            "ProcessingOutputConfig": {
                "Outputs": [
                    {
                        "OutputName": "results",
                        "S3Output": {
                            "S3Uri": "s3://walkthrough/baseline/results",
                            "LocalPath": "/opt/ml/processing/output",
                            "S3UploadMode": "EndOfJob",
                        },
                    }
                ]
            },
            "ProcessingResources": {"ClusterConfig": CLUSTER},
        }
    )


def definition_and_schedule(orch: Orchestrator, name: str) -> None:
    orch.model_quality(
        "create",
        {
            "JobDefinitionName": name,
            "ModelQualityBaselineConfig": {
                "ConstraintsResource": {
                    "S3Uri": "s3://walkthrough/baseline/results/constraints.json"
                }
            },
            "ModelQualityAppSpecification": {
                "ImageUri": ANALYZER,
                "ProblemType": "BinaryClassification",
            },
            "ModelQualityJobInput": {
                "BatchTransformInput": {
                    "DataCapturedDestinationS3Uri": "s3://walkthrough/production/captured",
                    "DatasetFormat": {"Csv": {"Header": False}},
                    "LocalPath": "/opt/ml/processing/input",
                    "InferenceAttribute": "0",
                    "ProbabilityAttribute": "1",
                    "ProbabilityThresholdAttribute": 0.5,
                },
                "GroundTruthS3Input": {"S3Uri": "s3://walkthrough/production/truth"},
            },
            "ModelQualityJobOutputConfig": {
                "MonitoringOutputs": [
                    {
                        "S3Output": {
                            "S3Uri": "s3://walkthrough/reports",
                            "LocalPath": "/opt/ml/processing/output",
                        }
                    }
                ]
            },
            "JobResources": {"ClusterConfig": CLUSTER},
            "RoleArn": ROLE,
        },
    )
    orch.monitoring_schedule(
        "Create",
        {
            "MonitoringScheduleName": name,
            "MonitoringScheduleConfig": {
                "ScheduleConfig": {
                    "ScheduleExpression": "NOW",
                    "DataAnalysisStartTime": "-PT1H",
                    "DataAnalysisEndTime": "-PT0H",
                },
                "MonitoringJobDefinitionName": name,
                "MonitoringType": "ModelQuality",
            },
        },
    )


def wait_for(what: str, condition: object, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            sys.exit(f"timed out waiting for {what}")
        time.sleep(0.5)


def main() -> None:
    orch = Orchestrator()
    with tempfile.TemporaryDirectory() as scratch:
        write_baseline(Path(scratch) / "baseline")
        orch.upload(Path(scratch) / "baseline", "s3://walkthrough/baseline/data")
        write_captured(Path(scratch) / "production")
        orch.upload(Path(scratch) / "production", "s3://walkthrough/production")
    name = f"baseline-{int(time.time())}"
    baseline(orch, name)
    done = orch.wait_processing_job(name, timeout=300)
    print(f"baseline {name}: {done['ProcessingJobStatus']} ({done.get('ExitMessage')})")
    if done["ProcessingJobStatus"] != "Completed":
        sys.exit(1)
    schedule = f"watch-{int(time.time())}"
    definition_and_schedule(orch, schedule)

    def ended() -> bool:
        found = orch.monitoring_schedule("Executions", {"MonitoringScheduleName": schedule})
        summaries = found["MonitoringExecutionSummaries"]
        return bool(summaries) and summaries[-1]["MonitoringExecutionStatus"] not in (
            "Pending",
            "InProgress",
        )

    wait_for("the monitoring execution", ended)
    summary = orch.monitoring_schedule("Executions", {"MonitoringScheduleName": schedule})[
        "MonitoringExecutionSummaries"
    ][-1]
    print(f"execution: {summary['MonitoringExecutionStatus']}")
    job = orch.describe_processing_job(summary["ProcessingJobArn"].rsplit("/", 1)[1])
    report = job["ProcessingOutputConfig"]["Outputs"][0]["S3Output"]["S3Uri"]
    path = orch.local_path(f"{report}/constraint_violations.json")
    assert path is not None
    for violation in json.loads(path.read_text())["violations"]:
        print(f"violated: {violation['description']}")
    orch.close()


if __name__ == "__main__":
    main()
