"""vCPUs, memory and GPUs of SageMaker instance types, for container limits and placement.

Read from the table in instance_table.py (EC2's published specifications, checked against the
SageMaker SDK's GPU data); a type it does not list is refused at the API, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.instance_table import INSTANCE_TABLE

GIB = 1024**3


@dataclass(frozen=True)
class InstanceResources:
    vcpus: int
    memory_bytes: int
    gpus: int
    accelerator: str = ""


def known(instance_type: str) -> bool:
    return instance_type in INSTANCE_TABLE


def resources_of(instance_type: str) -> InstanceResources:
    """What one instance of this type offers. KeyError for a type the table lacks (the API
    refuses those before a job exists)."""
    vcpus, memory_gib, gpus, accelerator = INSTANCE_TABLE[instance_type]
    return InstanceResources(vcpus, int(memory_gib * GIB), gpus, accelerator)


def is_accelerated(instance_type: str) -> bool:
    """GPU and Trainium/Inferentia families (ml.p*, ml.g*, ml.trn*, ml.inf*), as the service
    model's MaxPendingTimeInSeconds names them."""
    family = instance_type.split(".")[1] if instance_type.count(".") == 2 else ""
    return family.startswith(("p", "g", "trn", "inf"))
