"""GPU jobs on the real Docker engine, with simulated GPUs (ORCHESTRATOR_GPUS=simulate:2).

Scheduling, assignment, the container's environment and its `nvidia-smi` behave as with real
GPUs; no device request reaches Docker. What needs a real GPU is in test_gpus_real.py.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import pytest

from orchestrator import Orchestrator, Settings
from orchestrator.gpus import GpuSetting
from tests.integration.conftest import job, logged, secondary, training_containers, wait_until

pytestmark = pytest.mark.docker

GPU_TYPE = {"InstanceType": "ml.g5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 1}
FOUR_GPU_TYPE = {"InstanceType": "ml.g5.12xlarge", "InstanceCount": 1, "VolumeSizeInGB": 1}


@pytest.fixture
def gpu_settings(settings: Settings) -> Settings:
    # Room for every job's CPUs and memory: only GPUs decide who runs.
    return dataclasses.replace(
        settings, gpus=GpuSetting("simulate", count=2), cpus=64, memory_gib=1024
    )


@pytest.fixture
def gpu_orch(gpu_settings: Settings, orch: Orchestrator) -> Iterator[Orchestrator]:
    """An orchestrator with two simulated GPUs, on the store `orch` cleans up after."""
    simulated = Orchestrator(gpu_settings)
    yield simulated
    simulated.close()


def _gpu_job(name: str, seconds: str = "600", **changes: Any) -> dict[str, Any]:
    changes.setdefault("ResourceConfig", GPU_TYPE)
    return job(name, ["gpus", seconds], **changes)


def _seen(orch: Orchestrator, name: str) -> dict[str, Any]:
    """What the job's container printed about its GPUs (testbox `gpus`)."""
    lines = [text for _, text in orch.log_events(name)]
    visible = next(line for line in lines if line.startswith("NVIDIA_VISIBLE_DEVICES="))
    count = next(line for line in lines if line.startswith("num_gpus="))
    return {
        "visible": visible.split("=", 1)[1],
        "num_gpus": int(count.split("=", 1)[1]),
        "listed": [line for line in lines if line.startswith("GPU ")],
    }


def test_three_one_gpu_jobs_two_run_on_distinct_gpus_and_the_third_waits(
    gpu_orch: Orchestrator, docker_client: Any, gpu_settings: Settings
) -> None:
    uuids = set(gpu_orch.gpus()[0].uuids)
    names = ("gpu-a", "gpu-b", "gpu-c")
    for name in names:  # at once: whichever asks the ledger first runs first
        gpu_orch.create_training_job(_gpu_job(name))

    def settled() -> bool:
        states = sorted(secondary(gpu_orch, name) for name in names)
        reported = [name for name in names if logged(gpu_orch, name, "num_gpus=")]
        return states == ["Pending", "Training", "Training"] and len(reported) == 2

    wait_until(settled, "two jobs to run and report, and one to wait", 90)
    waiting = next(name for name in names if secondary(gpu_orch, name) == "Pending")
    first, second = (name for name in names if name != waiting)
    a, b = _seen(gpu_orch, first), _seen(gpu_orch, second)
    assert {a["visible"], b["visible"]} == uuids  # one each, never the same
    assert a["num_gpus"] == b["num_gpus"] == 1  # what the training toolkit finds (SM_NUM_GPUS)
    assert a["visible"] in a["listed"][0] and a["listed"][0].startswith("GPU 0: ")
    inspected = training_containers(docker_client, gpu_settings, first)[0].attrs
    assert not inspected["HostConfig"].get("DeviceRequests")  # simulated: nothing for Docker
    holders = {uuid: job for job, uuid in _holders(gpu_orch)}
    assert holders == {a["visible"]: first, b["visible"]: second}

    gpu_orch.stop_training_job(first)
    wait_until(lambda: logged(gpu_orch, waiting, "num_gpus="), "the third job to run", 90)
    assert _seen(gpu_orch, waiting)["visible"] == a["visible"]  # the GPU the stopped job freed
    transitions = gpu_orch.describe_training_job(waiting)["SecondaryStatusTransitions"]
    assert [t["Status"] for t in transitions][:3] == ["Starting", "Pending", "Starting"]
    assert "1 GPU" in transitions[1]["StatusMessage"]
    for name in (second, waiting):
        gpu_orch.stop_training_job(name)
    for name in names:
        gpu_orch.wait(name, timeout=120)
    assert _holders(gpu_orch) == []


def _holders(orch: Orchestrator) -> list[tuple[str, str]]:
    return [(a.job, uuid) for a in orch.gpus()[1] if a.granted for uuid in a.gpu_ids]


def test_a_cpu_job_sees_no_gpu(gpu_orch: Orchestrator) -> None:
    gpu_orch.create_training_job(job("cpu-job", ["gpus", "0"]))
    assert gpu_orch.wait("cpu-job", timeout=120)["TrainingJobStatus"] == "Completed"
    seen = _seen(gpu_orch, "cpu-job")
    assert seen == {"visible": "void", "num_gpus": 0, "listed": []}


def test_a_four_gpu_type_on_two_gpus_gets_both(gpu_orch: Orchestrator) -> None:
    gpu_orch.create_training_job(_gpu_job("four", "0", ResourceConfig=FOUR_GPU_TYPE))
    described = gpu_orch.wait("four", timeout=120)
    assert described["TrainingJobStatus"] == "Completed"
    seen = _seen(gpu_orch, "four")
    assert seen["num_gpus"] == 2
    assert set(seen["visible"].split(",")) == set(gpu_orch.gpus()[0].uuids)
    starting = described["SecondaryStatusTransitions"][0]["StatusMessage"]
    assert "ml.g5.12xlarge has 4 GPUs; this host has 2 GPUs, so the job runs on all 2" in starting


def test_a_listed_gpu_on_a_docker_without_the_nvidia_runtime_fails_clearly(
    settings: Settings, orch: Orchestrator, docker_client: Any
) -> None:
    if "nvidia" in (docker_client.info().get("Runtimes") or {}):
        pytest.skip("this Docker has the NVIDIA runtime")
    listed = dataclasses.replace(
        settings, gpus=GpuSetting("list", items=("GPU-00000000-1111-2222-3333-444444444444",))
    )
    real = Orchestrator(listed)
    try:
        real.create_training_job(_gpu_job("no-runtime", "0"))
        described = real.wait("no-runtime", timeout=120)
    finally:
        real.close()
    reason = described["FailureReason"]
    assert described["TrainingJobStatus"] == "Failed" and reason.startswith("ClientError: ")
    assert "has no NVIDIA container runtime" in reason and "NVIDIA Container Toolkit" in reason
    # `docker inspect` of the created container, read before it was removed, showed the request.
    assert (
        "the device request driver nvidia devices GPU-00000000-1111-2222-3333-444444444444"
        " capabilities [['gpu']]" in reason
    )
    assert training_containers(docker_client, settings, "no-runtime") == []
