"""Model-quality job definitions through unmodified boto3: the four operations, good and bad."""

from __future__ import annotations

import copy
from typing import Any

import botocore.exceptions
import pytest

from tests.api.conftest import ShapeChecker

pytestmark = pytest.mark.docker

ANALYZER = "156813124566.dkr.ecr.us-east-1.amazonaws.com/sagemaker-model-monitor-analyzer"
DEFINITION: dict[str, Any] = {
    "JobDefinitionName": "mq-1",
    "ModelQualityBaselineConfig": {
        "BaseliningJobName": "baseline-1",
        "ConstraintsResource": {"S3Uri": "s3://mq/baseline/constraints.json"},
    },
    "ModelQualityAppSpecification": {
        "ImageUri": ANALYZER,
        "ProblemType": "BinaryClassification",
        "Environment": {"extra": "1"},
        "RecordPreprocessorSourceUri": "s3://mq/code/pre.py",
        "PostAnalyticsProcessorSourceUri": "s3://mq/code/post.py",
    },
    "ModelQualityJobInput": {
        "BatchTransformInput": {
            "DataCapturedDestinationS3Uri": "s3://mq/captured",
            "DatasetFormat": {"Csv": {"Header": True}},
            "LocalPath": "/opt/ml/processing/input/batch",
            "InferenceAttribute": "prediction",
            "ProbabilityAttribute": "probability",
            "ProbabilityThresholdAttribute": 0.5,
            "StartTimeOffset": "-PT2H",
            "EndTimeOffset": "-PT0H",
        },
        "GroundTruthS3Input": {"S3Uri": "s3://mq/ground-truth"},
    },
    "ModelQualityJobOutputConfig": {
        "MonitoringOutputs": [
            {
                "S3Output": {
                    "S3Uri": "s3://mq/reports",
                    "LocalPath": "/opt/ml/processing/output",
                    "S3UploadMode": "EndOfJob",
                }
            }
        ]
    },
    "JobResources": {
        "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.large", "VolumeSizeInGB": 1}
    },
    "NetworkConfig": {"EnableNetworkIsolation": False},
    "RoleArn": "arn:aws:iam::123456789012:role/SageMakerRole",
    "StoppingCondition": {"MaxRuntimeInSeconds": 1800},
    "Tags": [{"Key": "team", "Value": "ml"}],
}


def definition(**changes: Any) -> dict[str, Any]:
    made = copy.deepcopy(DEFINITION)
    made.update(changes)
    return made


def _error(call: Any, **request: Any) -> tuple[str, str]:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        call(**request)
    error = caught.value.response["Error"]
    return str(error["Code"]), str(error["Message"])


def test_create_describe_list_delete(sm: Any, shapes: ShapeChecker) -> None:
    arn = sm.create_model_quality_job_definition(**definition())["JobDefinitionArn"]
    assert arn.endswith(":model-quality-job-definition/mq-1")
    endpoint = definition(JobDefinitionName="mq-endpoint")
    endpoint["ModelQualityJobInput"] = {
        "EndpointInput": {"EndpointName": "my-endpoint", "LocalPath": "/opt/ml/processing/in"},
        "GroundTruthS3Input": {"S3Uri": "s3://mq/ground-truth"},
    }
    sm.create_model_quality_job_definition(**endpoint)
    described = sm.describe_model_quality_job_definition(JobDefinitionName="mq-1")
    assert described["JobDefinitionArn"] == arn
    for field in (
        "ModelQualityBaselineConfig",
        "ModelQualityAppSpecification",
        "ModelQualityJobInput",
        "ModelQualityJobOutputConfig",
        "JobResources",
        "NetworkConfig",
        "RoleArn",
        "StoppingCondition",
    ):
        assert described[field] == DEFINITION[field], field
    listed = sm.list_model_quality_job_definitions(SortBy="Name", SortOrder="Ascending")
    assert [s["MonitoringJobDefinitionName"] for s in listed["JobDefinitionSummaries"]] == [
        "mq-1",
        "mq-endpoint",
    ]
    by_endpoint = sm.list_model_quality_job_definitions(EndpointName="my-endpoint")
    assert [s["MonitoringJobDefinitionName"] for s in by_endpoint["JobDefinitionSummaries"]] == [
        "mq-endpoint"
    ]
    page = sm.list_model_quality_job_definitions(MaxResults=1, SortBy="Name")
    rest = sm.list_model_quality_job_definitions(SortBy="Name", NextToken=page["NextToken"])
    assert [s["MonitoringJobDefinitionName"] for s in rest["JobDefinitionSummaries"]] == ["mq-1"]
    # The one departure from the model we choose: a definition over batch-transform data has no
    # endpoint, and the model's required EndpointName has a pattern no empty name meets.
    departure = "endpointName' failed to satisfy constraint: Member must not be null"
    shapes.problems = [p for p in shapes.problems if departure not in p]
    sm.delete_model_quality_job_definition(JobDefinitionName="mq-1")
    code, _ = _error(sm.describe_model_quality_job_definition, JobDefinitionName="mq-1")
    assert code == "ResourceNotFound"
    code, _ = _error(sm.delete_model_quality_job_definition, JobDefinitionName="mq-1")
    assert code == "ResourceNotFound"


def test_a_duplicate_name_is_resource_in_use(sm: Any) -> None:
    sm.create_model_quality_job_definition(**definition(JobDefinitionName="mq-dup"))
    code, message = _error(
        sm.create_model_quality_job_definition, **definition(JobDefinitionName="mq-dup")
    )
    assert code == "ResourceInUse" and "mq-dup" in message


def _bad(**changes: Any) -> dict[str, Any]:
    made = definition(JobDefinitionName="mq-bad")
    for path, value in changes.items():
        node = made
        keys = path.split(".")
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value
    return made


@pytest.mark.parametrize(
    ("request_", "expected"),
    [
        (_bad(**{"ModelQualityAppSpecification.ProblemType": None}), "ProblemType is required"),
        (
            _bad(**{"ModelQualityJobInput.BatchTransformInput.LocalPath": "/tmp/in"}),
            "LocalPath must begin with /opt/ml/processing/",
        ),
        (
            _bad(**{"ModelQualityJobInput.BatchTransformInput.DatasetFormat": {"Parquet": {}}}),
            "Parquet is not supported by this orchestrator yet",
        ),
        (
            _bad(
                **{
                    "ModelQualityJobInput.EndpointInput": {
                        "EndpointName": "e",
                        "LocalPath": "/opt/ml/processing/e",
                    }
                }
            ),
            "exactly one of EndpointInput and BatchTransformInput",
        ),
        (_bad(**{"StoppingCondition.MaxRuntimeInSeconds": 86401}), "maxRuntimeInSeconds"),
        (_bad(JobDefinitionName="bad_name"), "jobDefinitionName"),
    ],
)
def test_bad_definitions_are_validation_errors_naming_the_field(
    sm: Any, request_: dict[str, Any], expected: str
) -> None:
    cleaned = {k: v for k, v in request_.items() if v is not None}
    app = cleaned["ModelQualityAppSpecification"]
    cleaned["ModelQualityAppSpecification"] = {k: v for k, v in app.items() if v is not None}
    code, message = _error(sm.create_model_quality_job_definition, **cleaned)
    assert code == "ValidationException" and expected in message, message
