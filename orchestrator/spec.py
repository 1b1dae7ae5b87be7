"""The typed view of a validated CreateTrainingJob request that the engine runs from.

Frozen dataclasses rather than pydantic models: the request was already validated against the
service model, so there is nothing left to coerce, and importing pydantic would add ~70 ms to
every `orchestrator run` (the start-latency benchmark counts it).
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from orchestrator.instances import is_accelerated
from orchestrator.metrics.scraper import MetricDefinition
from orchestrator.pools import match_key

DEFAULT_MAX_RUNTIME = 86_400
# The group name of a job without ResourceConfig.InstanceGroups, as SageMaker writes it into
# resourceconfig.json (seen in real job logs, and the training toolkit's default).
HOMOGENEOUS_GROUP = "homogeneousCluster"


@dataclass(frozen=True)
class ChannelSpec:
    name: str
    uri: str
    input_mode: str  # File, FastFile or Pipe
    content_type: str | None = None
    distribution: str = "FullyReplicated"
    record_wrapper: str | None = None
    compression: str | None = None
    # S3DataSource.InstanceGroupNames: only hosts of these groups get the channel (all if empty).
    instance_groups: tuple[str, ...] = ()
    data_type: str = "S3Prefix"  # or ManifestFile, AugmentedManifestFile
    attribute_names: tuple[str, ...] = ()  # AugmentedManifestFile's AttributeNames
    # Where the data lands in the container: a processing input's LocalPath; None for a
    # training channel, which lands in /opt/ml/input/data/<name>.
    local_path: str | None = None

    @property
    def container_path(self) -> str:
        return self.local_path or f"/opt/ml/input/data/{self.name}"

    def reaches(self, group: str) -> bool:
        return not self.instance_groups or group in self.instance_groups


@dataclass(frozen=True)
class InstanceGroupSpec:
    name: str
    instance_type: str
    count: int


@dataclass(frozen=True)
class HostSpec:
    """One instance of the job: `algo-N`, its instance type and its instance group."""

    name: str
    instance_type: str
    group: str


DEFAULT_CHECKPOINT_PATH = "/opt/ml/checkpoints"


@dataclass(frozen=True)
class CheckpointSpec:
    """CheckpointConfig: S3Uri mirrored with LocalPath inside the container."""

    s3_uri: str
    local_path: str = DEFAULT_CHECKPOINT_PATH


DEFAULT_TENSORBOARD_PATH = "/opt/ml/output/tensorboard"


@dataclass(frozen=True)
class TensorBoardSpec:
    """TensorBoardOutputConfig: LocalPath uploaded to S3OutputPath while the job trains."""

    s3_uri: str
    local_path: str = DEFAULT_TENSORBOARD_PATH


@dataclass(frozen=True)
class OutputSpec:
    """A processing output: LocalPath uploaded to S3Uri at the end (EndOfJob) or while the job
    runs (Continuous)."""

    name: str
    uri: str
    local_path: str
    upload_mode: str = "EndOfJob"


TRAINING = "training"
PROCESSING = "processing"


@dataclass(frozen=True)
class JobSpec:
    """Everything the supervisor needs to run one training (or processing) job."""

    name: str
    arn: str
    image: str
    output_path: str
    instance_type: str
    entrypoint: list[str] | None = None
    arguments: list[str] | None = None
    hyperparameters: dict[str, str] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)
    channels: list[ChannelSpec] = field(default_factory=list)
    compress_model: bool = True
    instance_count: int = 1
    volume_size_gb: int = 30
    max_runtime_seconds: int = 86400
    network_isolation: bool = False
    training_input_mode: str = "File"
    metric_definitions: list[MetricDefinition] = field(default_factory=list)
    max_retry_attempts: int = 0
    max_pending_seconds: int | None = None
    checkpoint: CheckpointSpec | None = None
    spot: bool = False
    max_wait_seconds: int | None = None
    keep_alive_seconds: int = 0
    pool_key: str = ""
    # ResourceConfig.InstanceGroups (a heterogeneous cluster); empty: InstanceType x Count.
    instance_groups: tuple[InstanceGroupSpec, ...] = ()
    tensorboard: TensorBoardSpec | None = None
    kind: str = TRAINING  # or PROCESSING (processing_spec.py)
    outputs: tuple[OutputSpec, ...] = ()  # a processing job's
    # A processing job's processingjobconfig.json: the request as created, with its ARN.
    document: Mapping[str, Any] = field(default_factory=dict)

    @property
    def processing(self) -> bool:
        return self.kind == PROCESSING

    @property
    def groups(self) -> tuple[InstanceGroupSpec, ...]:
        if self.instance_groups:
            return self.instance_groups
        return (InstanceGroupSpec(HOMOGENEOUS_GROUP, self.instance_type, self.instance_count),)

    @property
    def hosts(self) -> tuple[HostSpec, ...]:
        """algo-1 ... algo-N, numbered group after group in request order. SageMaker does not
        document how it numbers hosts across groups (its examples show no order); this is
        ours."""
        hosts: list[HostSpec] = []
        for group in self.groups:
            for _ in range(group.count):
                hosts.append(HostSpec(f"algo-{len(hosts) + 1}", group.instance_type, group.name))
        return tuple(hosts)

    @property
    def distributed(self) -> bool:
        return len(self.hosts) > 1


def host_names(request: Mapping[str, Any]) -> list[str]:
    """algo-1 ... algo-N of a stored request, without building its whole spec."""
    cluster = (request.get("ProcessingResources") or {}).get("ClusterConfig") or {}
    resources = request.get("ResourceConfig") or cluster
    count = resources.get("InstanceCount") or sum(
        g.get("InstanceCount", 0) for g in resources.get("InstanceGroups") or ()
    )
    return [f"algo-{i}" for i in range(1, max(count, 1) + 1)]


def metric_definitions_of(request: Mapping[str, Any]) -> list[MetricDefinition]:
    algorithm = request.get("AlgorithmSpecification") or {}
    return [
        MetricDefinition(d["Name"], d["Regex"]) for d in algorithm.get("MetricDefinitions") or []
    ]


def _channel_spec(channel: Mapping[str, Any], default_mode: str) -> ChannelSpec:
    s3 = channel["DataSource"]["S3DataSource"]
    return ChannelSpec(
        name=channel["ChannelName"],
        uri=s3["S3Uri"],
        input_mode=channel.get("InputMode") or default_mode,
        content_type=channel.get("ContentType"),
        distribution=s3.get("S3DataDistributionType") or "FullyReplicated",
        record_wrapper=channel.get("RecordWrapperType"),
        compression=channel.get("CompressionType"),
        instance_groups=tuple(s3.get("InstanceGroupNames") or ()),
        data_type=s3.get("S3DataType") or "S3Prefix",
        attribute_names=tuple(s3.get("AttributeNames") or ()),
    )


def _instance_groups(resources: Mapping[str, Any]) -> tuple[InstanceGroupSpec, ...]:
    return tuple(
        InstanceGroupSpec(g["InstanceGroupName"], g["InstanceType"], g["InstanceCount"])
        for g in resources.get("InstanceGroups") or ()
    )


def job_spec(request: Mapping[str, Any], arn: str) -> JobSpec:
    """The engine's typed view of a request that passed validation (or was stored after it)."""
    algo = request["AlgorithmSpecification"]
    resources = request["ResourceConfig"]
    mode = algo["TrainingInputMode"]
    stopping = request.get("StoppingCondition") or {}
    groups = _instance_groups(resources)
    # With InstanceGroups the request has no InstanceType/Count: the first group stands for
    # them where one type is asked for (MaxPendingTime looks at every group).
    instance_type = resources.get("InstanceType") or groups[0].instance_type
    count = resources.get("InstanceCount") or sum(g.count for g in groups)
    accelerated = any(is_accelerated(g.instance_type) for g in groups) or is_accelerated(
        instance_type
    )
    return JobSpec(
        name=request["TrainingJobName"],
        arn=arn,
        image=algo["TrainingImage"],
        entrypoint=algo.get("ContainerEntrypoint"),
        arguments=algo.get("ContainerArguments"),
        hyperparameters=dict(request.get("HyperParameters") or {}),
        environment=dict(request.get("Environment") or {}),
        channels=[_channel_spec(c, mode) for c in request.get("InputDataConfig") or []],
        output_path=request["OutputDataConfig"]["S3OutputPath"],
        compress_model=request["OutputDataConfig"].get("CompressionType", "GZIP") != "NONE",
        instance_type=instance_type,
        instance_count=count,
        instance_groups=groups,
        volume_size_gb=resources.get("VolumeSizeInGB") or 30,
        max_runtime_seconds=stopping.get("MaxRuntimeInSeconds") or DEFAULT_MAX_RUNTIME,
        network_isolation=bool(request.get("EnableNetworkIsolation")),
        training_input_mode=mode,
        metric_definitions=metric_definitions_of(request),
        max_retry_attempts=(request.get("RetryStrategy") or {}).get("MaximumRetryAttempts", 0),
        max_pending_seconds=_max_pending(stopping, accelerated),
        checkpoint=_checkpoint_spec(request.get("CheckpointConfig")),
        tensorboard=_tensorboard_spec(request.get("TensorBoardOutputConfig")),
        spot=bool(request.get("EnableManagedSpotTraining")),
        max_wait_seconds=stopping.get("MaxWaitTimeInSeconds"),
        keep_alive_seconds=resources.get("KeepAlivePeriodInSeconds") or 0,
        pool_key=match_key(request),
    )


def _max_pending(stopping: Mapping[str, Any], accelerated: bool) -> int | None:
    """The service model (StoppingCondition.MaxPendingTimeInSeconds): it "takes effect only
    for jobs that request accelerated computing instance types, such as instances in the ml.p,
    ml.g, and ml.trn families. It has no effect on jobs that request CPU-only instance types."
    """
    value = stopping.get("MaxPendingTimeInSeconds")
    return value if value is not None and accelerated else None


def _tensorboard_spec(config: Mapping[str, Any] | None) -> TensorBoardSpec | None:
    if not config:
        return None
    local = posixpath.normpath(str(config.get("LocalPath") or DEFAULT_TENSORBOARD_PATH))
    return TensorBoardSpec(str(config["S3OutputPath"]), local)


def _checkpoint_spec(config: Mapping[str, Any] | None) -> CheckpointSpec | None:
    if not config:
        return None
    local = posixpath.normpath(str(config.get("LocalPath") or DEFAULT_CHECKPOINT_PATH))
    return CheckpointSpec(str(config["S3Uri"]), local)
