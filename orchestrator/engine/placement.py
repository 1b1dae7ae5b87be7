"""The container for one host of a job: image, command, mounts, environment, limits."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from orchestrator.engine.context import EngineContext
from orchestrator.engine.outputsync import tensorboard_mounts
from orchestrator.engine.workspace import Workspace, channels_of
from orchestrator.gpus import GpuInventory
from orchestrator.instances import resources_of
from orchestrator.pools import CACHE_PATH, CACHE_VARIABLE
from orchestrator.runtime.protocol import LABEL_ATTEMPT, LABEL_HOST, ContainerSpec, Mount
from orchestrator.spec import ChannelSpec, JobSpec

if TYPE_CHECKING:  # http.server stays off `orchestrator run`'s path unless S3 needs it
    from orchestrator.engine.hostbridge import StoreAccess

SHARDED = "ShardedByS3Key"


def command_of(spec: JobSpec) -> tuple[list[str] | None, list[str] | None]:
    """(entrypoint, command): `train` unless ContainerEntrypoint/ContainerArguments say else.
    A processing job runs the image's ENTRYPOINT unless ContainerEntrypoint replaces it, with
    ContainerArguments (developer guide, "How Amazon SageMaker AI Runs Your Processing
    Container Image")."""
    if spec.processing:
        return spec.entrypoint, spec.arguments
    if spec.entrypoint:
        return list(spec.entrypoint), list(spec.arguments or [])
    return None, list(spec.arguments) if spec.arguments else ["train"]


def limits_of(instance_type: str, host: tuple[int, int]) -> tuple[int, int]:
    """(nano CPUs, memory bytes) of the instance type, capped at what the machine has."""
    wanted = resources_of(instance_type)
    host_cpus, host_memory = host
    return min(wanted.vcpus, host_cpus) * 1_000_000_000, min(wanted.memory_bytes, host_memory)


# Where the NVIDIA runtime puts nvidia-smi in a container; simulate mode mounts its stand-in.
NVIDIA_SMI_PATH = "/usr/bin/nvidia-smi"


def gpu_environment(gpus: tuple[str, ...]) -> dict[str, str]:
    """NVIDIA_VISIBLE_DEVICES: the job's GPUs, or `void` for a job that has none. With nvidia as
    Docker's default runtime a CUDA image (whose ENV says `all`) would otherwise see every GPU;
    set explicitly, it also agrees with the device request whatever the image's ENV says."""
    return {"NVIDIA_VISIBLE_DEVICES": ",".join(gpus) if gpus else "void"}


def device_ids(gpus: tuple[str, ...], inventory: GpuInventory | None) -> list[str]:
    """The device request's GPUs: none for a simulated GPU, which Docker has never heard of."""
    if not gpus or inventory is None or inventory.simulated:
        return []
    return list(gpus)


def mounted(spec: JobSpec, channel: ChannelSpec) -> bool:
    """A FastFile channel is mounted rather than copied, unless each host gets a share."""
    return (
        channel.input_mode == "FastFile"
        and channel.data_type == "S3Prefix"
        and not (spec.distributed and channel.distribution == SHARDED)
    )


def _mounts(
    ctx: EngineContext, spec: JobSpec, workspace: Workspace, cache: Path | None
) -> list[Mount]:
    mounts = [Mount(workspace.root, "/opt/ml")]
    if cache is not None:  # the warm pool's persistent cache, kept from job to job
        mounts.append(Mount(cache, CACHE_PATH))
    if spec.checkpoint is not None:
        mounts.append(Mount(workspace.checkpoint_dir, spec.checkpoint.local_path))
    for channel in channels_of(spec, workspace.host):
        if not mounted(spec, channel):
            continue
        source = ctx.objects.local_directory(channel.uri)
        if source is not None:
            mounts.append(Mount(source, channel.container_path, read_only=True))
    return mounts


def container_name(spec: JobSpec, attempt: int, host: str, store_tag: str) -> str:
    """Unique per attempt, so a retry never collides with the container it replaces, and per
    store (`store_tag`), so a job of the same name in another store never does either."""
    return f"orchestrator-{spec.name}-{attempt}-{host}-{store_tag}"


def container_spec(
    ctx: EngineContext,
    spec: JobSpec,
    workspace: Workspace,
    attempt: int,
    host: str = "algo-1",
    cache: Path | None = None,
    gpus: tuple[str, ...] = (),
    nvidia_smi: Path | None = None,
    network: str | None = None,
    access: StoreAccess | None = None,
    node: str | None = None,
) -> ContainerSpec:
    """`gpus`: the UUIDs the ledger granted; `nvidia_smi`: the simulated one, in simulate mode;
    `network`: the job's own network, where a distributed job's hosts find each other;
    `access`: how the container reaches the object store (hostbridge.py), if it does."""
    entrypoint, command = command_of(spec)
    me = next(h for h in spec.hosts if h.name == host)
    nano_cpus, memory = limits_of(me.instance_type, ctx.host())
    environment = {**spec.environment, **gpu_environment(gpus)}
    if not spec.processing:
        environment.update(TRAINING_JOB_NAME=spec.name, TRAINING_JOB_ARN=spec.arn)
    if cache is not None:
        environment[CACHE_VARIABLE] = CACHE_PATH
    extra_networks: list[str] = []
    if access is not None:  # what the request's Environment sets itself is left alone
        environment = {**access.environment, **environment}
        if network is None:
            network = access.network
        else:
            extra_networks.append(access.network)
    mounts = _mounts(ctx, spec, workspace, cache) + tensorboard_mounts(spec, workspace)
    if nvidia_smi is not None:
        mounts.append(Mount(nvidia_smi, NVIDIA_SMI_PATH, read_only=True))
    return ContainerSpec(
        name=container_name(spec, attempt, host, ctx.store_tag),
        image=spec.image,
        hostname=host,
        entrypoint=entrypoint,
        command=command,
        environment=environment,
        mounts=mounts,
        labels={**ctx.job_labels(spec.name), LABEL_HOST: host, LABEL_ATTEMPT: str(attempt)},
        nano_cpus=nano_cpus,
        memory_bytes=memory,
        # Isolated: no network at all, or for several hosts one that reaches only them.
        network_disabled=spec.network_isolation and network is None,
        gpu_device_ids=device_ids(gpus, ctx.gpus() if gpus else None),
        network=network,
        network_aliases=[host] if network is not None else [],
        extra_networks=extra_networks,
        extra_hosts=dict(access.extra_hosts) if access is not None else {},
        node=node,
        stop_grace_seconds=ctx.settings.stop_grace_seconds,
    )
