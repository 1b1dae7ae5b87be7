"""vCPUs, memory and GPUs of SageMaker instance types, for container limits and placement.

Derived from the instance family and size, which is how EC2 names them: a size fixes the vCPU
count, a family fixes memory per vCPU. GPU families list their GPU count per size.
"""

from __future__ import annotations

from dataclasses import dataclass

GIB = 1024**3

_VCPUS_BY_SIZE = {
    "medium": 2,
    "large": 2,
    "xlarge": 4,
    "2xlarge": 8,
    "4xlarge": 16,
    "8xlarge": 32,
    "9xlarge": 36,
    "10xlarge": 40,
    "12xlarge": 48,
    "16xlarge": 64,
    "18xlarge": 72,
    "24xlarge": 96,
    "32xlarge": 128,
    "36xlarge": 144,
    "48xlarge": 192,
    "96xlarge": 384,
}

# GiB of memory per vCPU, by family prefix (general purpose 4, compute 2, memory 8).
_GIB_PER_VCPU = {"m": 4.0, "c": 2.0, "r": 8.0, "t": 2.0, "g": 4.0, "p": 7.6, "trn": 4.0}

# GPUs for a size within a GPU family; sizes not listed have one GPU.
_GPUS = {
    "p2": {"xlarge": 1, "8xlarge": 8, "16xlarge": 16},
    "p3": {"2xlarge": 1, "8xlarge": 4, "16xlarge": 8},
    "g4dn": {"12xlarge": 4},
    "g5": {"12xlarge": 4, "24xlarge": 4, "48xlarge": 8},
    "g6": {"12xlarge": 4, "24xlarge": 4, "48xlarge": 8},
    "g6e": {"12xlarge": 4, "24xlarge": 4, "48xlarge": 8},
    "g7": {"12xlarge": 4, "24xlarge": 4, "48xlarge": 8},
    "g7e": {"12xlarge": 4, "24xlarge": 4, "48xlarge": 8},
}
_EIGHT_GPU_FAMILIES = ("p3dn", "p4d", "p4de", "p5", "p5e", "p5en", "p6")


@dataclass(frozen=True)
class InstanceResources:
    vcpus: int
    memory_bytes: int
    gpus: int


def _family(instance_type: str) -> tuple[str, str]:
    parts = instance_type.split(".")
    if len(parts) != 3 or parts[0] != "ml":
        raise ValueError(f"not a SageMaker instance type: {instance_type!r}")
    return parts[1], parts[2]


def _gpus(family: str, size: str) -> int:
    if family.startswith(_EIGHT_GPU_FAMILIES):
        return 1 if size == "4xlarge" else 8
    if family in _GPUS:
        return _GPUS[family].get(size, 1)
    return 0


def is_accelerated(instance_type: str) -> bool:
    """GPU and Trainium/Inferentia families (ml.p*, ml.g*, ml.trn*, ml.inf*)."""
    family, _ = _family(instance_type)
    return family.startswith(("p", "g", "trn", "inf"))


def resources_of(instance_type: str) -> InstanceResources:
    """What one instance of this type offers; unknown sizes fall back to 2 vCPUs."""
    family, size = _family(instance_type)
    vcpus = _VCPUS_BY_SIZE.get(size, 2)
    prefix = "trn" if family.startswith("trn") else family[0]
    per_vcpu = _GIB_PER_VCPU.get(prefix, 4.0)
    return InstanceResources(vcpus, int(vcpus * per_vcpu * GIB), _gpus(family, size))
