"""The typed view of a validated CreateProcessingJob request: a processing job runs on the same
engine as training (attempts of host runs, capacity, stop, logs), with its own contract.

Developer guide, "How Amazon SageMaker AI Runs Your Processing Container Image" and "How
Amazon SageMaker AI Provides Input and Output for Processing": the image's ENTRYPOINT runs
unless AppSpecification.ContainerEntrypoint overrides it, with ContainerArguments; each S3 input
is copied to its LocalPath (under /opt/ml/processing/) before the container starts; each output
is uploaded from its LocalPath to its S3Uri when the job ends (EndOfJob) or as files appear
(Continuous); the job's configuration is in /opt/ml/config/processingjobconfig.json and
resourceconfig.json; /opt/ml/output/message becomes ExitMessage.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from orchestrator.monitoring.images import analyzer_image
from orchestrator.spec import (
    DEFAULT_MAX_RUNTIME,
    PROCESSING,
    ChannelSpec,
    JobSpec,
    OutputSpec,
    job_spec,
)
from orchestrator.store.jobs import PROCESSING_SUFFIX, JobRecord

PROCESSING_ROOT = "/opt/ml/processing/"


def processing_job_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:sagemaker:{region}:{account}:processing-job/{name.lower()}"


def stored_name(name: str) -> str:
    """The row a processing job's name is kept under (store/jobs.py: PROCESSING_SUFFIX)."""
    return f"{name}{PROCESSING_SUFFIX}"


def public_name(stored: str) -> str:
    return stored.removesuffix(PROCESSING_SUFFIX)


def spec_of(record: JobRecord) -> JobSpec:
    """What to run for a stored job of either kind (an adopting engine's view)."""
    if record.kind == PROCESSING:
        return processing_spec(record.request, record.arn)
    return job_spec(record.request, record.arn)


def processing_spec(request: Mapping[str, Any], arn: str) -> JobSpec:
    app = request["AppSpecification"]
    cluster = request["ProcessingResources"]["ClusterConfig"]
    stopping = request.get("StoppingCondition") or {}
    network = request.get("NetworkConfig") or {}
    return JobSpec(
        kind=PROCESSING,
        name=stored_name(request["ProcessingJobName"]),
        arn=arn,
        image=analyzer_image(app["ImageUri"]),
        entrypoint=app.get("ContainerEntrypoint"),
        arguments=app.get("ContainerArguments"),
        environment=dict(request.get("Environment") or {}),
        channels=[_input(i) for i in request.get("ProcessingInputs") or [] if _managed(i)],
        outputs=tuple(
            _output(o)
            for o in (request.get("ProcessingOutputConfig") or {}).get("Outputs") or []
            if _managed(o)
        ),
        output_path="",
        instance_type=cluster["InstanceType"],
        instance_count=cluster["InstanceCount"],
        volume_size_gb=cluster.get("VolumeSizeInGB") or 30,
        max_runtime_seconds=stopping.get("MaxRuntimeInSeconds") or DEFAULT_MAX_RUNTIME,
        network_isolation=bool(network.get("EnableNetworkIsolation")),
        document={**request, "ProcessingJobArn": arn},
    )


def _managed(item: Mapping[str, Any]) -> bool:
    """AppManaged: the application moves that input or output itself; SageMaker does not."""
    return not item.get("AppManaged")


def _input(item: Mapping[str, Any]) -> ChannelSpec:
    s3 = item["S3Input"]
    return ChannelSpec(
        name=item["InputName"],
        uri=s3["S3Uri"],
        input_mode=s3.get("S3InputMode") or "File",
        distribution=s3.get("S3DataDistributionType") or "FullyReplicated",
        compression=s3.get("S3CompressionType"),
        data_type=s3.get("S3DataType") or "S3Prefix",
        local_path=s3["LocalPath"].rstrip("/"),
    )


def _output(item: Mapping[str, Any]) -> OutputSpec:
    s3 = item["S3Output"]
    return OutputSpec(
        name=item["OutputName"],
        uri=s3["S3Uri"],
        local_path=s3["LocalPath"].rstrip("/"),
        upload_mode=s3.get("S3UploadMode") or "EndOfJob",
    )
