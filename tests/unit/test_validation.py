"""CreateTrainingJob validation: the model's constraints, cross-field rules, refusals."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.errors import ValidationError
from orchestrator.spec import job_spec
from orchestrator.validation.training_job import validate_create_training_job
from tests.unit.harness import request


def _error(req: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        validate_create_training_job(req)
    return caught.value.message


def test_a_valid_request_passes_and_becomes_a_spec() -> None:
    req = request()
    validate_create_training_job(req)
    spec = job_spec(req, "arn:aws:sagemaker:us-east-1:123456789012:training-job/job-1")
    assert spec.image == "fake/ok:latest" and spec.max_runtime_seconds == 3600
    assert spec.channels[0].input_mode == "File" and spec.compress_model


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"TrainingJobName": "bad_name"},
            "at 'trainingJobName' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern",
        ),
        ({"TrainingJobName": "a" * 64}, "Member must have length less than or equal to 63"),
        ({"RoleArn": "arn:aws:iam::123:role/x"}, "at 'roleArn'"),
        (
            {"HyperParameters": {"lr": 0.1}},
            "at 'hyperParameters.lr.value' failed to satisfy constraint: Member must be a string",
        ),
        (
            {"ResourceConfig": {"InstanceType": "ml.bogus", "InstanceCount": 1}},
            "at 'resourceConfig.instanceType' failed to satisfy constraint: Member must satisfy "
            "enum value set",
        ),
        (
            {"ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 0}},
            "ResourceConfig.InstanceCount must be at least 1, got 0",
        ),
        (
            {"StoppingCondition": {"MaxRuntimeInSeconds": 0}},
            "stoppingCondition.maxRuntimeInSeconds",
        ),
        ({"Environment": {"1BAD": "x"}}, "at 'environment.1BAD.key'"),
        (
            {"Tags": [{"Key": "k", "Value": "v"}] * 51},
            "Member must have length less than or equal to 50",
        ),
        ({"Unknown": 1}, "Unknown parameter 'Unknown'"),
        ({"OutputDataConfig": {"S3OutputPath": "ftp://x/y"}}, "outputDataConfig.s3OutputPath"),
    ],
)
def test_model_constraints_are_enforced(changes: dict[str, Any], expected: str) -> None:
    assert expected in _error(request(**changes))


def test_all_errors_are_reported_at_once() -> None:
    message = _error(request(TrainingJobName="bad_name", RoleArn="nope"))
    assert message.startswith("3 validation errors detected: ")


def test_missing_required_member() -> None:
    req = request()
    del req["OutputDataConfig"]
    assert "at 'outputDataConfig' failed to satisfy constraint: Member must not be null" in (
        _error(req)
    )


def _channel(**changes: Any) -> dict[str, Any]:
    s3 = {"S3DataType": "S3Prefix", "S3Uri": "s3://b/train/"}
    s3.update(changes.pop("s3", {}))
    return {"ChannelName": "train", "DataSource": {"S3DataSource": s3}, **changes}


def test_features_not_built_yet_are_refused_by_name() -> None:
    channel = _channel()
    channel["DataSource"] = {
        "FileSystemDataSource": {
            "FileSystemId": "fs-0123456789",
            "FileSystemAccessMode": "ro",
            "FileSystemType": "EFS",
            "DirectoryPath": "/data",
        }
    }
    message = _error(request(InputDataConfig=[channel]))
    assert "FileSystemDataSource" in message and "not supported by this orchestrator yet" in message


@pytest.mark.parametrize(
    ("channel", "expected"),
    [
        (_channel(CompressionType="Gzip"), "CompressionType Gzip applies to Pipe input mode only"),
        (
            _channel(InputMode="FastFile", RecordWrapperType="RecordIO"),
            "RecordWrapperType RecordIO applies to Pipe input mode only; in FastFile mode",
        ),
        (
            _channel(s3={"S3DataType": "AugmentedManifestFile", "AttributeNames": ["a"]}),
            "an AugmentedManifestFile channel needs Pipe input mode",
        ),
        (
            _channel(InputMode="Pipe", s3={"S3DataType": "AugmentedManifestFile"}),
            "AugmentedManifestFile needs AttributeNames",
        ),
        (
            _channel(InputMode="Pipe", s3={"AttributeNames": ["a"]}),
            "AttributeNames applies to AugmentedManifestFile only",
        ),
    ],
)
def test_pipe_only_fields_are_refused_elsewhere(channel: dict[str, Any], expected: str) -> None:
    assert expected in _error(request(InputDataConfig=[channel]))


def test_pipe_mode_takes_compression_wrapping_and_augmented_manifests() -> None:
    channels = [
        _channel(InputMode="Pipe", CompressionType="Gzip", RecordWrapperType="RecordIO"),
        _channel(
            ChannelName="labels",
            s3={"S3DataType": "AugmentedManifestFile", "AttributeNames": ["source-ref", "c"]},
        ),
    ]
    req = request(
        AlgorithmSpecification={"TrainingImage": "x", "TrainingInputMode": "Pipe"},
        InputDataConfig=channels,
    )
    validate_create_training_job(req)
    spec = job_spec(req, "arn:x")
    train, labels = spec.channels
    assert (train.input_mode, train.compression, train.record_wrapper) == (
        "Pipe",
        "Gzip",
        "RecordIO",
    )
    assert (labels.input_mode, labels.attribute_names) == ("Pipe", ("source-ref", "c"))


def test_retry_strategy_and_max_pending_are_taken_within_the_models_ranges() -> None:
    spec = job_spec(
        request(
            RetryStrategy={"MaximumRetryAttempts": 2},
            StoppingCondition={"MaxRuntimeInSeconds": 60, "MaxPendingTimeInSeconds": 7200},
        ),
        "arn:aws:sagemaker:us-east-1:123456789012:training-job/job-1",
    )
    assert (spec.max_retry_attempts, spec.max_pending_seconds) == (2, None)  # CPU-only: none
    gpu = request(
        ResourceConfig={"InstanceType": "ml.g5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 60, "MaxPendingTimeInSeconds": 7200},
    )
    assert job_spec(gpu, "arn:x").max_pending_seconds == 7200
    for attempts in (0, 31):
        message = _error(request(RetryStrategy={"MaximumRetryAttempts": attempts}))
        assert "maximumRetryAttempts" in message or "MaximumRetryAttempts" in message
    message = _error(
        request(StoppingCondition={"MaxRuntimeInSeconds": 60, "MaxPendingTimeInSeconds": 60})
    )
    assert "axPendingTimeInSeconds" in message


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"StoppingCondition": {"MaxRuntimeInSeconds": 60, "MaxWaitTimeInSeconds": 120}},
            "MaxWaitTimeInSeconds is only for managed spot training",
        ),
        ({"EnableManagedSpotTraining": True}, "MaxWaitTimeInSeconds is required"),
        (
            {
                "EnableManagedSpotTraining": True,
                "StoppingCondition": {"MaxRuntimeInSeconds": 600, "MaxWaitTimeInSeconds": 300},
            },
            "MaxWaitTimeInSeconds (300) must be greater than or equal to MaxRuntimeInSeconds",
        ),
        ({"CheckpointConfig": {"S3Uri": "ftp://b/c"}}, "checkpointConfig.s3Uri"),
        (
            {"CheckpointConfig": {"S3Uri": "s3://b/c", "LocalPath": "checkpoints"}},
            "LocalPath must be an absolute path",
        ),
        (
            {"CheckpointConfig": {"S3Uri": "s3://b/c", "LocalPath": "/opt/ml/../etc"}},
            "LocalPath must not contain '..'",
        ),
        *[
            (
                {"CheckpointConfig": {"S3Uri": "s3://b/c", "LocalPath": path}},
                "would hide a directory the platform owns",
            )
            for path in (
                "/opt/ml/model",
                "/opt/ml",
                "/opt//ml",
                "/opt",
                "/",
                "/opt/ml/./model",
                "/opt/ml/input/config",
                "/opt/ml/input/data/train",
                "/opt/ml/output",
            )
        ],
        ({"CheckpointConfig": {"S3Uri": "s3://b/../c"}}, "must not contain '..'"),
    ],
)
def test_spot_and_checkpoint_rules(changes: dict[str, Any], message: str) -> None:
    assert message in _error(request(**changes))


def test_spot_with_checkpoints_is_accepted() -> None:
    spec = job_spec(
        request(
            EnableManagedSpotTraining=True,
            StoppingCondition={"MaxRuntimeInSeconds": 600, "MaxWaitTimeInSeconds": 1200},
            CheckpointConfig={"S3Uri": "s3://b/ckpt"},
        ),
        "arn:x",
    )
    assert spec.spot and spec.max_wait_seconds == 1200
    assert spec.checkpoint is not None and spec.checkpoint.local_path == "/opt/ml/checkpoints"


def test_cloud_only_fields_are_accepted() -> None:
    validate_create_training_job(
        request(
            VpcConfig={"SecurityGroupIds": ["sg-12345678"], "Subnets": ["subnet-12345678"]},
            OutputDataConfig={"S3OutputPath": "s3://b/o", "KmsKeyId": "alias/key"},
            DebugHookConfig={"S3OutputPath": "s3://b/debug"},
            ProfilerConfig={"S3OutputPath": "s3://b/profiler"},
            EnableInterContainerTrafficEncryption=True,
        )
    )


def test_cross_field_rules() -> None:
    assert "not both" in _error(
        request(
            AlgorithmSpecification={
                "TrainingImage": "i",
                "AlgorithmName": "a",
                "TrainingInputMode": "File",
            }
        )
    )
    twice = request()
    twice["InputDataConfig"] = twice["InputDataConfig"] * 2
    assert "channel name 'train' is used more than once" in _error(twice)
    assert "at most 2419200" in _error(request(StoppingCondition={"MaxRuntimeInSeconds": 3000000}))


def test_path_escapes_are_refused() -> None:
    channel = {
        "ChannelName": "train",
        "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://bucket/../etc"}},
    }
    assert "'..' path segments" in _error(request(InputDataConfig=[channel]))
    out = {"S3OutputPath": "file:///tmp/../etc"}
    assert "'..' path segments" in _error(request(OutputDataConfig=out))


def test_file_uris_are_local_channels() -> None:
    channel = {
        "ChannelName": "train",
        "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "file:///data/train"}},
    }
    validate_create_training_job(request(InputDataConfig=[channel]))


@pytest.mark.parametrize(
    ("local", "accepted"),
    [
        (None, True),
        ("/opt/ml/output/tensorboard", True),
        ("/tensorboard", True),
        ("/opt/ml/model/tb", False),
        ("/opt/ml/output/data/tb", False),
        ("/opt/ml/output/failure", False),
        ("/opt/ml/output/intermediate", False),
        ("/opt/ml/output/database", True),
        ("/opt/ml/checkpoints", False),  # CheckpointConfig's LocalPath
        ("//opt/ml", False),
        ("/", False),
        ("/opt/ml", False),
        ("tb", False),
        ("/x/../opt", False),
    ],
)
def test_tensorboard_local_paths(local: str | None, accepted: bool) -> None:
    config: dict[str, str] = {"S3OutputPath": "s3://b/tb"}
    if local is not None:
        config["LocalPath"] = local
    if accepted:
        validate_create_training_job(request(TensorBoardOutputConfig=config))
        return
    with pytest.raises(ValidationError, match=r"TensorBoardOutputConfig\.LocalPath"):
        validate_create_training_job(request(TensorBoardOutputConfig=config))
