"""Jobs whose s3:// lives on a real S3-compatible server (moto), on the real Docker engine."""

from __future__ import annotations

import io
import tarfile
from typing import Any

import pytest

from orchestrator import Orchestrator
from tests.integration.conftest import EXAMPLE_DATA, job, logged, wait_until

pytestmark = pytest.mark.docker


def _client(orch: Orchestrator) -> Any:
    return orch.objects.client  # type: ignore[attr-defined]


def _bucket(orch: Orchestrator, name: str) -> str:
    _client(orch).create_bucket(Bucket=name)
    return name


def _channel(uri: str, distribution: str = "FullyReplicated") -> dict[str, Any]:
    source = {"S3DataType": "S3Prefix", "S3Uri": uri, "S3DataDistributionType": distribution}
    return {"ChannelName": "train", "DataSource": {"S3DataSource": source}}


def test_a_job_reads_nested_keys_and_leaves_its_artifacts_in_s3(s3_orch: Orchestrator) -> None:
    data, out = _bucket(s3_orch, "s3-data"), _bucket(s3_orch, "s3-out")
    client = _client(s3_orch)
    for key in ("train/a.csv", "train/nested/deeper/b.csv"):
        client.put_object(Bucket=data, Key=key, Body=b"x,y\n1,2\n")
    request = job(
        "on-s3",
        ["channels"],
        InputDataConfig=[_channel(f"s3://{data}/train")],
        OutputDataConfig={"S3OutputPath": f"s3://{out}/jobs"},
    )
    s3_orch.create_training_job(request)
    described = s3_orch.wait("on-s3", timeout=120)
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    assert logged(s3_orch, "on-s3", "channel train: a.csv,nested")
    assert described["ModelArtifacts"]["S3ModelArtifacts"] == (
        f"s3://{out}/jobs/on-s3/output/model.tar.gz"
    )
    keys = {o["Key"] for o in client.list_objects_v2(Bucket=out)["Contents"]}
    assert keys == {"jobs/on-s3/output/model.tar.gz", "jobs/on-s3/output/output.tar.gz"}


def test_the_example_trains_from_s3_with_checkpoints_there(s3_orch: Orchestrator) -> None:
    bucket = _bucket(s3_orch, "s3-example")
    assert s3_orch.upload(EXAMPLE_DATA, f"s3://{bucket}/train") == 1  # orchestrator upload
    request = job(
        "example-s3",
        InputDataConfig=[_channel(f"s3://{bucket}/train")],
        OutputDataConfig={"S3OutputPath": f"s3://{bucket}/out"},
        CheckpointConfig={"S3Uri": f"s3://{bucket}/checkpoints"},
        HyperParameters={"epochs": "5", "learning_rate": "0.1"},
    )
    request["AlgorithmSpecification"]["TrainingImage"] = "orchestrator/linear-regression:latest"
    s3_orch.create_training_job(request)
    assert s3_orch.wait("example-s3", timeout=120)["TrainingJobStatus"] == "Completed"
    client = _client(s3_orch)
    listed = client.list_objects_v2(Bucket=bucket, Prefix="checkpoints/")["Contents"]
    assert [o["Key"] for o in listed] == ["checkpoints/checkpoint.npz"]
    model = client.get_object(Bucket=bucket, Key="out/example-s3/output/model.tar.gz")
    with tarfile.open(fileobj=io.BytesIO(model["Body"].read())) as tar:
        assert "model.json" in tar.getnames()


def test_a_missing_bucket_fails_the_job_clearly(s3_orch: Orchestrator) -> None:
    request = job("no-bucket", ["ok"], InputDataConfig=[_channel("s3://no-such-bucket/train")])
    s3_orch.create_training_job(request)
    described = s3_orch.wait("no-bucket", timeout=120)
    assert described["TrainingJobStatus"] == "Failed"
    reason = described["FailureReason"]
    assert reason.startswith("ClientError: ") and "s3://no-such-bucket/train" in reason
    assert "bucket does not exist" in reason
    wait_until(lambda: not s3_orch.engine.running(), "the engine to settle")


def test_tensorboard_and_intermediate_output_land_in_s3(s3_orch: Orchestrator) -> None:
    bucket = _bucket(s3_orch, "s3-outputs")
    request = job(
        "outputs-s3",
        ["write", "/tb/events.out.tfevents.1", "scalars", "/opt/ml/output/intermediate/e1", "x"],
        OutputDataConfig={"S3OutputPath": f"s3://{bucket}/out"},
        TensorBoardOutputConfig={"S3OutputPath": f"s3://{bucket}/tb", "LocalPath": "/tb"},
    )
    s3_orch.create_training_job(request)
    described = s3_orch.wait("outputs-s3", timeout=120)
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    keys = {o["Key"] for o in _client(s3_orch).list_objects_v2(Bucket=bucket)["Contents"]}
    assert {"tb/events.out.tfevents.1", "out/outputs-s3/output/intermediate/e1"} <= keys


def test_a_manifest_channel_on_s3_and_a_missing_listed_object(s3_orch: Orchestrator) -> None:
    bucket = _bucket(s3_orch, "s3-manifest")
    client = _client(s3_orch)
    for key in ("images/a/1.csv", "images/b/2.csv"):
        client.put_object(Bucket=bucket, Key=key, Body=b"1\n")
    manifest = f'[{{"prefix": "s3://{bucket}/images/"}}, "a/1.csv", "b/2.csv"]'
    client.put_object(Bucket=bucket, Key="train.manifest", Body=manifest.encode())
    source = {"S3DataType": "ManifestFile", "S3Uri": f"s3://{bucket}/train.manifest"}
    channel = {"ChannelName": "train", "DataSource": {"S3DataSource": source}}
    output = {"S3OutputPath": f"s3://{bucket}/out"}
    s3_orch.create_training_job(
        job("manifest-s3", ["channels"], InputDataConfig=[channel], OutputDataConfig=output)
    )
    described = s3_orch.wait("manifest-s3", timeout=120)
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    assert logged(s3_orch, "manifest-s3", "channel train: a,b")
    broken = f'[{{"prefix": "s3://{bucket}/images/"}}, "a/1.csv", "c/missing.csv"]'
    client.put_object(Bucket=bucket, Key="broken.manifest", Body=broken.encode())
    source["S3Uri"] = f"s3://{bucket}/broken.manifest"
    s3_orch.create_training_job(job("manifest-broken", ["ok"], InputDataConfig=[channel]))
    described = s3_orch.wait("manifest-broken", timeout=120)
    assert described["FailureReason"].startswith("ClientError: ")
    assert f"s3://{bucket}/images/c/missing.csv" in described["FailureReason"]


def test_tensorboard_output_to_a_missing_bucket_is_the_requests_error(
    s3_orch: Orchestrator,
) -> None:
    bucket = _bucket(s3_orch, "s3-tb-out")
    request = job(
        "tb-missing",
        ["write", "/tb/events.out.tfevents.1", "scalars"],
        OutputDataConfig={"S3OutputPath": f"s3://{bucket}/out"},
        TensorBoardOutputConfig={"S3OutputPath": "s3://no-such-tb-bucket/tb", "LocalPath": "/tb"},
    )
    s3_orch.create_training_job(request)
    described = s3_orch.wait("tb-missing", timeout=120)
    assert described["TrainingJobStatus"] == "Failed"
    reason = described["FailureReason"]
    assert reason.startswith("ClientError: ") and "TensorBoard output" in reason
    assert "s3://no-such-tb-bucket/tb" in reason


def test_a_sharded_channel_on_s3_gives_each_host_its_share(s3_orch: Orchestrator) -> None:
    bucket = _bucket(s3_orch, "s3-shards")
    for name in ("a", "b", "c", "d"):
        _client(s3_orch).put_object(Bucket=bucket, Key=f"data/{name}.csv", Body=b"1\n")
    request = job(
        "shards-s3",
        ["channels"],
        InputDataConfig=[_channel(f"s3://{bucket}/data/", "ShardedByS3Key")],
        OutputDataConfig={"S3OutputPath": f"s3://{bucket}/out"},
    )
    request["ResourceConfig"]["InstanceCount"] = 2
    s3_orch.create_training_job(request)
    described = s3_orch.wait("shards-s3", timeout=120)
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    lines = {(host, text) for _, host, text in s3_orch.host_log_events("shards-s3")}
    assert ("algo-1", "channel train: a.csv,c.csv") in lines
    assert ("algo-2", "channel train: b.csv,d.csv") in lines
