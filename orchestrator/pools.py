"""Warm pools, decided purely: which jobs may share a pool, when a pool is kept, what it bills.

Developer guide, "SageMaker AI Managed Warm Pools": a job with KeepAlivePeriodInSeconds > 0
keeps its resources after it ends; a later job reuses them when RoleArn, InstanceType,
InstanceCount, VolumeSizeInGB, VolumeKmsKeyId, VpcConfig, EnableNetworkIsolation and
EnableInterContainerTrafficEncryption all match (the image, hyperparameters and channels need
not). Pools are kept after Completed, after a stop once the job had launched, and after a
failure of the algorithm or the request, not after an internal error. We also require the
reusing job to ask for a warm pool itself (KeepAlivePeriodInSeconds > 0), so a job without one
never takes over another's cache; the guide's lifecycle describes reuse by such jobs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from orchestrator.lifecycle import Secondary

CACHE_PATH = "/opt/ml/sagemaker/warmpoolcache"
CACHE_VARIABLE = "SAGEMAKER_MANAGED_WARMPOOL_CACHE_DIRECTORY"

_KEPT_AFTER_FAILURE = ("AlgorithmError", "ClientError")


def match_key(request: Mapping[str, Any]) -> str:
    """What two jobs must share to use one pool, as one comparable string."""
    resources = request.get("ResourceConfig") or {}
    vpc = request.get("VpcConfig") or {}
    return json.dumps(
        [
            request.get("RoleArn"),
            resources.get("InstanceType"),
            resources.get("InstanceCount"),
            resources.get("InstanceGroups"),
            resources.get("VolumeSizeInGB"),
            resources.get("VolumeKmsKeyId"),
            sorted(vpc.get("Subnets") or []),
            sorted(vpc.get("SecurityGroupIds") or []),
            bool(request.get("EnableNetworkIsolation")),
            bool(request.get("EnableInterContainerTrafficEncryption")),
        ]
    )


def keeps_pool(final: Secondary, failure_reason: str | None, launched: bool) -> bool:
    """Whether a job that ended this way leaves its pool Available."""
    if final is Secondary.COMPLETED:
        return True
    if final in (Secondary.STOPPED, Secondary.MAX_RUNTIME_EXCEEDED):
        return launched
    if final is Secondary.FAILED:
        return (failure_reason or "").startswith(_KEPT_AFTER_FAILURE)
    return False


def retained_seconds(since: float | None, until: float | None, now: float) -> int:
    """ResourceRetainedBillableTimeInSeconds: wall-clock time the pool was kept for this job."""
    if since is None:
        return 0
    return max(int((until if until is not None else now) - since), 0)
