"""The SageMaker SDK with s3:// inputs and outputs on a real S3-compatible server (moto), and
`orchestrator serve` reading and writing there (ORCHESTRATOR_OBJECT_STORE=s3)."""

from __future__ import annotations

import dataclasses
import gzip
import io
import tarfile
from collections.abc import Iterator
from typing import Any

import pytest

from orchestrator import Orchestrator, Settings, recordio
from orchestrator.api.server import ApiServer
from tests.api.conftest import serving
from tests.api.test_sagemaker_sdk import estimator
from tests.integration.conftest import EXAMPLE_DATA

pytestmark = pytest.mark.docker


@pytest.fixture
def s3_server_api(settings: Settings, orch: Orchestrator, s3_env: str) -> Iterator[ApiServer]:
    on_s3 = Orchestrator(dataclasses.replace(settings, object_store="s3"))
    with serving(on_s3) as api:
        yield api
    on_s3.close()


@pytest.fixture
def sdk_on_s3(s3_server_api: ApiServer, s3_env: str, monkeypatch: pytest.MonkeyPatch) -> ApiServer:
    """The SDK's SageMaker, metrics and logs clients on the server; S3 on the S3 server."""
    for variable in ("SAGEMAKER", "SAGEMAKER_METRICS", "CLOUDWATCH_LOGS"):
        monkeypatch.setenv(f"AWS_ENDPOINT_URL_{variable}", s3_server_api.url)
    monkeypatch.setenv("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    return s3_server_api


def test_the_sdk_uploads_trains_and_reads_back_through_s3(sdk_on_s3: ApiServer) -> None:
    import boto3

    s3: Any = boto3.client("s3")
    s3.create_bucket(Bucket="sdk-bucket")
    fitted = estimator(
        "orchestrator/linear-regression:latest",
        hyperparameters={"epochs": 3, "learning_rate": 0.1},
        output_path="s3://sdk-bucket/out",
        base_job_name="sdk-s3",
    )
    # The SDK's own upload (S3 PutObject) goes to the S3 server, as against AWS.
    inputs = fitted.sagemaker_session.upload_data(
        str(EXAMPLE_DATA), bucket="sdk-bucket", key_prefix="train"
    )
    fitted.fit({"train": inputs}, logs=False)
    job = fitted.latest_training_job.describe()
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert fitted.model_data == f"s3://sdk-bucket/out/{job['TrainingJobName']}/output/model.tar.gz"
    key = fitted.model_data.removeprefix("s3://sdk-bucket/")
    assert s3.head_object(Bucket="sdk-bucket", Key=key)["ContentLength"] > 0


def test_the_sdk_trains_in_pipe_mode_with_gzip_and_recordio_from_s3(
    sdk_on_s3: ApiServer,
) -> None:
    import boto3
    from sagemaker.inputs import TrainingInput

    s3: Any = boto3.client("s3")
    s3.create_bucket(Bucket="sdk-pipe")
    for number in range(3):
        s3.put_object(Bucket="sdk-pipe", Key=f"in/{number}.gz", Body=gzip.compress(b"r" * number))
    fitted = estimator(
        "orchestrator/testbox:latest",
        input_mode="Pipe",
        container_arguments=["pipe", "train", "2"],
        output_path="s3://sdk-pipe/out",
        base_job_name="sdk-pipe",
    )
    channel = TrainingInput(
        "s3://sdk-pipe/in/", compression="Gzip", record_wrapping="RecordIO", input_mode="Pipe"
    )
    fitted.fit({"train": channel}, logs=False)
    job = fitted.latest_training_job.describe()
    assert job["TrainingJobStatus"] == "Completed", job.get("FailureReason")
    assert job["InputDataConfig"][0]["RecordWrapperType"] == "RecordIO"
    key = fitted.model_data.removeprefix("s3://sdk-pipe/")
    body = s3.get_object(Bucket="sdk-pipe", Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as tar:
        member = tar.extractfile("pipe/train_1")
        assert member is not None
        assert list(recordio.records(member.read())) == [b"", b"r", b"rr"]
