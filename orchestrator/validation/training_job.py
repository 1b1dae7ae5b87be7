"""CreateTrainingJob: the model's constraints, the service's cross-field rules, and what runs here.

Fields that would change how a job runs but are not implemented yet are refused by name, never
silently ignored. Fields that only describe cloud infrastructure (VPC, KMS keys, Debugger and
Profiler settings the SageMaker SDK sends by default) are accepted, stored and described.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Mapping
from typing import Any

from orchestrator.instances import known
from orchestrator.metrics.scraper import definition_errors
from orchestrator.spec import DEFAULT_MAX_RUNTIME, metric_definitions_of
from orchestrator.validation.model import raise_for_errors, shape_errors

MAX_RUNTIME_LIMIT = 28 * 86_400
NOT_YET = "is not supported by this orchestrator yet"

Request = Mapping[str, Any]


def _truthy(request: Request, *path: str) -> Any:
    node: Any = request
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


# (field path, predicate on its value, message): features refused until they are built.
_UNSUPPORTED: list[tuple[tuple[str, ...], Callable[[Any], bool], str]] = [
    (
        ("AlgorithmSpecification", "AlgorithmName"),
        bool,
        f"AlgorithmName (a marketplace algorithm) {NOT_YET}; give TrainingImage",
    ),
    (
        ("AlgorithmSpecification", "TrainingImageConfig"),
        bool,
        f"TrainingImageConfig (a private registry) {NOT_YET}; build or load the image locally",
    ),
    (("ResourceConfig", "TrainingPlanArn"), bool, f"ResourceConfig.TrainingPlanArn {NOT_YET}"),
    (
        ("ResourceConfig", "InstancePlacementConfig"),
        bool,
        f"ResourceConfig.InstancePlacementConfig {NOT_YET}",
    ),
    (("RemoteDebugConfig", "EnableRemoteDebug"), bool, f"RemoteDebugConfig {NOT_YET}"),
    (("ServerlessJobConfig",), bool, f"ServerlessJobConfig {NOT_YET}"),
    (("MlflowConfig",), bool, f"MlflowConfig {NOT_YET}"),
    (("ModelPackageConfig",), bool, f"ModelPackageConfig {NOT_YET}"),
]


def _unsupported(request: Request) -> list[str]:
    return [msg for path, applies, msg in _UNSUPPORTED if applies(_truthy(request, *path))]


def _algorithm_errors(request: Request) -> list[str]:
    algo = request.get("AlgorithmSpecification")
    if not isinstance(algo, Mapping):
        return ["AlgorithmSpecification is required: give TrainingImage and TrainingInputMode"]
    if algo.get("TrainingImage") and algo.get("AlgorithmName"):
        return ["AlgorithmSpecification: give TrainingImage or AlgorithmName, not both"]
    if not algo.get("TrainingImage") and not algo.get("AlgorithmName"):
        return ["AlgorithmSpecification.TrainingImage is required"]
    return []


def _resource_errors(request: Request) -> list[str]:
    resources = request.get("ResourceConfig")
    if not isinstance(resources, Mapping):
        return ["ResourceConfig is required: give InstanceType and InstanceCount"]
    groups = resources.get("InstanceGroups")
    if groups:
        return _group_errors(resources, groups) + _channel_group_errors(request, groups)
    errors = [
        f"ResourceConfig.{field} is required"
        for field in ("InstanceType", "InstanceCount")
        if resources.get(field) is None
    ]
    errors += _type_errors("ResourceConfig.InstanceType", resources.get("InstanceType"))
    count = resources.get("InstanceCount")
    if isinstance(count, int) and count < 1:
        errors.append(f"ResourceConfig.InstanceCount must be at least 1, got {count}")
    return errors + _channel_group_errors(request, [])


def _type_errors(field: str, instance_type: Any) -> list[str]:
    if isinstance(instance_type, str) and not known(instance_type):
        # The model's enum is checked first; this catches a type the enum has and the
        # resource table (instance_table.py) does not yet: refused rather than guessed.
        return [
            f"{field} {instance_type!r} has no known vCPU, memory and GPU figures here, so it"
            " cannot be placed; choose another training instance type"
        ]
    return []


def _group_errors(resources: Request, groups: list[Any]) -> list[str]:
    """A heterogeneous cluster (developer guide, "Train using a heterogeneous cluster"): the
    groups replace InstanceType and InstanceCount (the SageMaker SDK refuses both together; the
    model does not say, so we refuse too), each named once, each with at least one instance."""
    errors = [
        f"ResourceConfig.{field} cannot be given with ResourceConfig.InstanceGroups: give the"
        " instance types and counts in the groups"
        for field in ("InstanceType", "InstanceCount")
        if resources.get(field) is not None
    ]
    names = [g.get("InstanceGroupName") for g in groups if isinstance(g, Mapping)]
    for name in sorted({str(n) for n in names if names.count(n) > 1}):
        errors.append(f"ResourceConfig.InstanceGroups names the group {name!r} more than once")
    for index, group in enumerate(groups, start=1):
        if not isinstance(group, Mapping):
            continue
        field = f"ResourceConfig.InstanceGroups.{index}"
        errors += _type_errors(f"{field}.InstanceType", group.get("InstanceType"))
        count = group.get("InstanceCount")
        if isinstance(count, int) and count < 1:
            errors.append(f"{field}.InstanceCount must be at least 1, got {count}")
    return errors


def _channel_group_errors(request: Request, groups: list[Any]) -> list[str]:
    """S3DataSource.InstanceGroupNames must name groups of ResourceConfig.InstanceGroups."""
    names = {g.get("InstanceGroupName") for g in groups if isinstance(g, Mapping)}
    errors = []
    for channel in request.get("InputDataConfig") or []:
        asked = _truthy(channel, "DataSource", "S3DataSource", "InstanceGroupNames") or []
        where = f"InputDataConfig channel {channel.get('ChannelName')!r}"
        if asked and not groups:
            errors.append(
                f"{where}: S3DataSource.InstanceGroupNames needs ResourceConfig.InstanceGroups"
            )
            continue
        for name in asked:
            if name not in names:
                errors.append(
                    f"{where}: S3DataSource.InstanceGroupNames names {name!r}, which is not an"
                    " instance group of ResourceConfig.InstanceGroups"
                )
    return errors


def _stopping_errors(request: Request) -> list[str]:
    runtime = _truthy(request, "StoppingCondition", "MaxRuntimeInSeconds")
    if isinstance(runtime, int) and runtime > MAX_RUNTIME_LIMIT:
        return [
            f"StoppingCondition.MaxRuntimeInSeconds must be at most {MAX_RUNTIME_LIMIT} "
            f"(28 days), got {runtime}"
        ]
    return _spot_errors(request)


def _spot_errors(request: Request) -> list[str]:
    """Managed spot's rules (API reference: StoppingCondition, CreateTrainingJob)."""
    spot = bool(request.get("EnableManagedSpotTraining"))
    wait = _truthy(request, "StoppingCondition", "MaxWaitTimeInSeconds")
    runtime = _truthy(request, "StoppingCondition", "MaxRuntimeInSeconds") or DEFAULT_MAX_RUNTIME
    if wait is not None and not spot:
        return [
            "StoppingCondition.MaxWaitTimeInSeconds is only for managed spot training:"
            " set EnableManagedSpotTraining to true, or remove it"
        ]
    if not spot:
        return []
    if wait is None:
        return ["StoppingCondition.MaxWaitTimeInSeconds is required for managed spot training"]
    errors = []
    if isinstance(wait, int) and wait < runtime:
        errors.append(
            f"StoppingCondition.MaxWaitTimeInSeconds ({wait}) must be greater than or equal to"
            f" MaxRuntimeInSeconds ({runtime})"
        )
    if _truthy(request, "ResourceConfig", "KeepAlivePeriodInSeconds"):
        errors.append(
            "ResourceConfig.KeepAlivePeriodInSeconds (warm pools) cannot be used with managed"
            " spot training"
        )
    return errors


def _checkpoint_errors(request: Request) -> list[str]:
    config = request.get("CheckpointConfig")
    if not isinstance(config, Mapping):
        return []
    errors = _uri_errors(str(config.get("S3Uri", "")), "CheckpointConfig.S3Uri")
    local = config.get("LocalPath")
    if local is not None:
        errors += _local_path_errors(str(local))
    return errors


def _tensorboard_errors(request: Request) -> list[str]:
    """TensorBoardOutputConfig: an S3OutputPath, and a LocalPath that is a folder of its own:
    in /opt/ml/output (the default /opt/ml/output/tensorboard) but not what the platform
    writes there, or outside /opt/ml, and not CheckpointConfig's LocalPath."""
    config = request.get("TensorBoardOutputConfig")
    if not isinstance(config, Mapping):
        return []
    field = "TensorBoardOutputConfig.LocalPath"
    uri = str(config.get("S3OutputPath", ""))
    errors = _uri_errors(uri, "TensorBoardOutputConfig.S3OutputPath")
    local = str(config.get("LocalPath") or "/opt/ml/output/tensorboard")
    if not local.startswith("/") or ".." in local.split("/"):
        return [*errors, f"{field} must be an absolute path without '..', got {local!r}"]
    parts = [part for part in local.split("/") if part and part != "."]
    checkpoint = _truthy(request, "CheckpointConfig", "LocalPath") or "/opt/ml/checkpoints"
    taken = [part for part in str(checkpoint).split("/") if part and part != "."]
    under_output = parts[:3] == ["opt", "ml", "output"] and len(parts) > 3
    own = under_output and parts[3] not in ("data", "failure", "intermediate")
    outside = parts[:2] != ["opt", "ml"] and parts not in ([], ["opt"])
    if not (own or outside) or parts == taken:
        errors.append(
            f"{field} {local!r} would hide or mix with what the platform writes; use a folder"
            " in /opt/ml/output (default /opt/ml/output/tensorboard) or outside /opt/ml"
        )
    return errors


# LocalPath is mounted over what is there: never over /opt/ml, what holds it, or what the
# platform writes into it (config, channels, model, output and the failure file).
_PLATFORM_DIRS = ("/opt/ml/input", "/opt/ml/model", "/opt/ml/output")


def _local_path_errors(local: str) -> list[str]:
    if not local.startswith("/"):
        return [f"CheckpointConfig.LocalPath must be an absolute path, got {local!r}"]
    if ".." in local.split("/"):
        return [f"CheckpointConfig.LocalPath must not contain '..', got {local!r}"]
    path = posixpath.normpath(local)
    above = path == "/" or "/opt/ml".startswith(path.rstrip("/") + "/") or path == "/opt/ml"
    inside = any(path == d or path.startswith(d + "/") for d in _PLATFORM_DIRS)
    if above or inside:
        return [
            f"CheckpointConfig.LocalPath {local!r} would hide a directory the platform owns;"
            " use /opt/ml/checkpoints (the default) or a folder of its own"
        ]
    return []


def _uri_errors(uri: str, field: str) -> list[str]:
    path = uri.split("://", 1)[-1]
    if any(part == ".." for part in path.split("/")):
        return [f"{field} must not contain '..' path segments: {uri!r}"]
    return []


def _channel_errors(channel: Mapping[str, Any], index: int, default_mode: str) -> list[str]:
    where = f"InputDataConfig[{index}] ({channel.get('ChannelName')!r})"
    source = channel.get("DataSource") or {}
    s3 = source.get("S3DataSource")
    errors = [
        f"{where}: DataSource.{kind} {NOT_YET}; use S3DataSource"
        for kind in ("FileSystemDataSource", "DatasetSource")
        if source.get(kind)
    ]
    if not s3:
        return errors or [f"{where}: DataSource.S3DataSource is required"]
    mode = channel.get("InputMode") or default_mode
    errors += _data_type_errors(s3, where, mode)
    for field in ("ModelAccessConfig", "HubAccessConfig"):
        if s3.get(field):
            errors.append(f"{where}: S3DataSource.{field} {NOT_YET}")
    errors += _uri_errors(str(s3.get("S3Uri", "")), f"{where}: S3Uri")
    if mode != "Pipe":  # API reference, Channel: "used only in Pipe input mode"
        for field, value in (("CompressionType", "Gzip"), ("RecordWrapperType", "RecordIO")):
            if channel.get(field) == value:
                errors.append(
                    f"{where}: {field} {value} applies to Pipe input mode only; in {mode} mode"
                    " leave it unset or None"
                )
    return errors


def _data_type_errors(s3: Mapping[str, Any], where: str, mode: str) -> list[str]:
    """AugmentedManifestFile streams AttributeNames, in Pipe mode only (developer guide,
    "Augmented Manifest Files for Training Jobs": "Augmented manifests can only support Pipe
    input mode")."""
    kind = s3.get("S3DataType")
    if kind not in ("S3Prefix", "ManifestFile", "AugmentedManifestFile"):
        return [f"{where}: S3DataType {kind} {NOT_YET}; use S3Prefix or ManifestFile"]
    names = s3.get("AttributeNames")
    if kind != "AugmentedManifestFile":
        return [f"{where}: AttributeNames applies to AugmentedManifestFile only"] if names else []
    errors = []
    if mode != "Pipe":
        errors.append(f"{where}: an AugmentedManifestFile channel needs Pipe input mode")
    if not names:
        errors.append(f"{where}: AugmentedManifestFile needs AttributeNames")
    return errors


def _input_errors(request: Request) -> list[str]:
    channels = request.get("InputDataConfig") or []
    default_mode = str(_truthy(request, "AlgorithmSpecification", "TrainingInputMode") or "File")
    errors: list[str] = []
    seen: set[str] = set()
    for index, channel in enumerate(channels):
        name = channel.get("ChannelName")
        if name in seen:
            errors.append(f"InputDataConfig: channel name {name!r} is used more than once")
        seen.add(name)
        errors += _channel_errors(channel, index, default_mode)
    return errors


def _output_errors(request: Request) -> list[str]:
    return _uri_errors(
        str(_truthy(request, "OutputDataConfig", "S3OutputPath") or ""),
        "OutputDataConfig.S3OutputPath",
    )


def tag_key_errors(keys: list[str], field: str = "Tags") -> list[str]:
    """AWS reserves the `aws:` prefix for its own tags: users cannot set them."""
    return [
        f"{field}: tag key {key!r} is reserved; keys cannot start with 'aws:'"
        for key in keys
        if key.lower().startswith("aws:")
    ]


def _tag_errors(request: Request) -> list[str]:
    return tag_key_errors([str(tag.get("Key", "")) for tag in request.get("Tags") or []])


def _rule_errors(request: Request) -> list[str]:
    errors = _unsupported(request) + definition_errors(metric_definitions_of(request))
    errors += _tag_errors(request)
    for check in (
        _algorithm_errors,
        _resource_errors,
        _stopping_errors,
        _checkpoint_errors,
        _tensorboard_errors,
    ):
        errors += check(request)
    return errors + _input_errors(request) + _output_errors(request)


def validate_create_training_job(request: Request) -> None:
    """Raise ValidationException listing every problem with a CreateTrainingJob request."""
    errors = shape_errors(request, "CreateTrainingJobRequest")
    raise_for_errors(errors)  # cross-field rules assume well-typed input
    raise_for_errors(_rule_errors(request))
