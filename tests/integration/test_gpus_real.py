"""On a real GPU: the container sees exactly the GPU it was assigned (marker `gpu`).

Skipped, with the reason, where no NVIDIA GPU and runtime are present, as on CI's runners and
the machine this project is developed on; see docs/gpu-workstation.md for what ran where.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from orchestrator import Orchestrator, Settings
from orchestrator.gpus import Gpu
from tests.integration.conftest import job

pytestmark = [pytest.mark.docker, pytest.mark.gpu]


def test_nvidia_smi_in_the_container_lists_exactly_the_assigned_gpu(
    settings: Settings, orch: Orchestrator, real_gpus: tuple[Gpu, ...], docker_client: Any
) -> None:
    # Detection (the default) on a real GPU host; plenty of CPUs and memory for the type.
    real = Orchestrator(dataclasses.replace(settings, cpus=64, memory_gib=1024))
    resources = {"InstanceType": "ml.g5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 1}
    try:
        real.create_training_job(job("real-gpu", ["gpus", "0"], ResourceConfig=resources))
        described = real.wait("real-gpu", timeout=300)
        lines = [text for _, text in real.log_events("real-gpu")]
    finally:
        real.close()
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    listed = [line for line in lines if line.startswith("GPU ")]
    assert len(listed) == 1 and real_gpus[0].uuid in listed[0]  # the first free GPU, alone
    assert f"NVIDIA_VISIBLE_DEVICES={real_gpus[0].uuid}" in lines
