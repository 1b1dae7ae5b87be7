"""Pipe input mode on the real Docker engine: FIFOs per epoch, from S3 (moto) and the local
store; Gzip and RecordIO; sharded; augmented manifests."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from typing import Any

import pytest

from orchestrator import Orchestrator, Settings, recordio
from tests.integration.conftest import artifact, job, logged

pytestmark = pytest.mark.docker


def _pipe_job(name: str, epochs: int, channel: dict[str, Any], **changes: Any) -> dict[str, Any]:
    request = job(name, ["pipe", "train", str(epochs)], InputDataConfig=[channel], **changes)
    request["AlgorithmSpecification"]["TrainingInputMode"] = "Pipe"
    return request


def _channel(uri: str, **fields: Any) -> dict[str, Any]:
    source = {"S3DataType": fields.pop("S3DataType", "S3Prefix"), "S3Uri": uri}
    source.update(fields.pop("source", {}))
    return {"ChannelName": "train", "DataSource": {"S3DataSource": source}, **fields}


def _epochs(model_tar: bytes) -> dict[str, bytes]:
    with tarfile.open(fileobj=io.BytesIO(model_tar)) as tar:
        return {
            member.name.removeprefix("pipe/"): tar.extractfile(member).read()  # type: ignore[union-attr]
            for member in tar.getmembers()
            if member.isfile() and member.name.startswith("pipe/")
        }


def test_a_pipe_channel_on_s3_streams_three_epochs(s3_orch: Orchestrator) -> None:
    client = s3_orch.objects.client  # type: ignore[attr-defined]
    client.create_bucket(Bucket="pipes")
    objects = {"data/b.csv": b"3,4\n", "data/a/deep.csv": b"1,2\n", "data/c.csv": b"5,6\n"}
    for key, body in objects.items():
        client.put_object(Bucket="pipes", Key=key, Body=body)
    request = _pipe_job(
        "pipe-s3",
        3,
        _channel("s3://pipes/data/"),
        OutputDataConfig={"S3OutputPath": "s3://pipes/out"},
    )
    s3_orch.create_training_job(request)
    described = s3_orch.wait("pipe-s3", timeout=120)
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    assert logged(s3_orch, "pipe-s3", "data holds train_0")  # a FIFO, no train/ folder
    model = client.get_object(Bucket="pipes", Key="out/pipe-s3/output/model.tar.gz")
    expected = b"1,2\n3,4\n5,6\n"  # key order: data/a/deep.csv, data/b.csv, data/c.csv
    assert _epochs(model["Body"].read()) == {f"train_{n}": expected for n in range(3)}


def test_a_gzip_channel_is_decompressed_and_wrapped_in_recordio(s3_orch: Orchestrator) -> None:
    client = s3_orch.objects.client  # type: ignore[attr-defined]
    client.create_bucket(Bucket="gzipped")
    records = [b"first record", b"abcd" + recordio.MAGIC_BYTES + b"holds the magic"]
    for number, record in enumerate(records):
        client.put_object(Bucket="gzipped", Key=f"r/{number}.gz", Body=gzip.compress(record))
    channel = _channel("s3://gzipped/r/", CompressionType="Gzip", RecordWrapperType="RecordIO")
    request = _pipe_job(
        "pipe-gzip", 1, channel, OutputDataConfig={"S3OutputPath": "s3://gzipped/o"}
    )
    s3_orch.create_training_job(request)
    described = s3_orch.wait("pipe-gzip", timeout=120)
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    model = client.get_object(Bucket="gzipped", Key="o/pipe-gzip/output/model.tar.gz")
    assert list(recordio.records(_epochs(model["Body"].read())["train_0"])) == records


def test_a_sharded_pipe_channel_gives_each_host_its_share(
    orch: Orchestrator, settings: Settings
) -> None:
    bucket = settings.object_store_root / "shards" / "data"
    bucket.mkdir(parents=True)
    for name in ("a", "b", "c", "d", "e"):
        (bucket / name).write_bytes(name.encode() * 10)
    channel = _channel("s3://shards/data/", source={"S3DataDistributionType": "ShardedByS3Key"})
    request = _pipe_job("pipe-shards", 2, channel)
    request["ResourceConfig"]["InstanceCount"] = 2
    request["AlgorithmSpecification"]["ContainerArguments"] += ["--count"]
    orch.create_training_job(request)
    described = orch.wait("pipe-shards", timeout=120)
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    lines = {(host, line) for _, host, line in orch.host_log_events("pipe-shards")}
    assert ("algo-1", "epoch 1 of train: 30 bytes") in lines  # a, c, e
    assert ("algo-2", "epoch 1 of train: 20 bytes") in lines  # b, d


def test_an_augmented_manifest_streams_its_attributes(
    orch: Orchestrator, settings: Settings
) -> None:
    root = settings.object_store_root / "labels"
    (root / "images").mkdir(parents=True)
    (root / "images" / "cat.jpg").write_bytes(b"CAT")
    lines = [
        {"source-ref": "s3://labels/images/cat.jpg", "is-a-cat": 1},
        {"source-ref": "s3://labels/images/cat.jpg", "is-a-cat": "yes", "x": 0},
    ]
    (root / "train.jsonl").write_text("\n".join(json.dumps(line) for line in lines))
    channel = _channel(
        "s3://labels/train.jsonl",
        S3DataType="AugmentedManifestFile",
        source={"AttributeNames": ["source-ref", "is-a-cat"]},
        RecordWrapperType="RecordIO",
    )
    orch.create_training_job(_pipe_job("pipe-augmented", 1, channel))
    described = orch.wait("pipe-augmented", timeout=120)
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    streamed = _epochs(artifact(settings, "pipe-augmented").read_bytes())["train_0"]
    assert list(recordio.records(streamed)) == [b"CAT", b"1", b"CAT", b"yes"]


def test_a_pipe_channel_with_nothing_under_its_prefix_fails_clearly(orch: Orchestrator) -> None:
    orch.create_training_job(_pipe_job("pipe-empty", 1, _channel("s3://nowhere/data/")))
    described = orch.wait("pipe-empty", timeout=120)
    assert described["TrainingJobStatus"] == "Failed"
    assert described["FailureReason"].startswith("ClientError: ")
    assert "s3://nowhere/data/" in described["FailureReason"]
