"""GPUs: the inventory and ORCHESTRATOR_GPUS, the instance table, and assignment by UUID."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import botocore.session
import pytest

from orchestrator.capacity import Capacity, Demand, demand_of, gpu_shortfall, may_pass, never_fits
from orchestrator.config import settings_from_env
from orchestrator.errors import HostMisconfigured, ValidationError
from orchestrator.gpus import (
    Gpu,
    GpuSetting,
    inventory,
    parse_query,
    parse_setting,
    pick,
    simulated,
)
from orchestrator.instance_table import INSTANCE_TABLE
from orchestrator.instances import GIB, resources_of
from orchestrator.runtime.nvidia import detect_gpus
from orchestrator.store.capacity import CapacityLedger
from orchestrator.store.db import Database
from orchestrator.store.jobs import JobStore
from orchestrator.validation.training_job import validate_create_training_job
from tests.unit.harness import request

# What `nvidia-smi --query-gpu=index,uuid,name,memory.total --format=csv,noheader,nounits`
# prints on a two-GPU workstation.
NVIDIA_SMI = """\
0, GPU-8f6e2b1a-0c4d-4e5f-9a1b-2c3d4e5f6a7b, NVIDIA A10G, 23028
1, GPU-1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d, NVIDIA A10G, 23028
"""
DETECTED = parse_query(NVIDIA_SMI)
A, B = DETECTED[0].uuid, DETECTED[1].uuid


# -- the inventory -----------------------------------------------------------------------------


def test_nvidia_smi_answers_are_parsed_in_index_order() -> None:
    reversed_lines = "\n".join(reversed(NVIDIA_SMI.splitlines())) + "\n"
    assert parse_query(reversed_lines) == DETECTED
    assert DETECTED[0] == Gpu(0, A, "NVIDIA A10G", 23028)
    assert parse_query("0, GPU-x, Tesla T4, [N/A]\n")[0].memory_mib is None
    assert parse_query("") == ()
    with pytest.raises(ValueError, match="unexpected nvidia-smi line"):
        parse_query("NVIDIA-SMI has failed because it couldn't communicate with the driver")


@pytest.mark.parametrize(
    ("raw", "setting"),
    [
        (None, GpuSetting("detect")),
        ("", GpuSetting("detect")),
        ("none", GpuSetting("none")),
        ("simulate:2", GpuSetting("simulate", count=2)),
        ("0, 1", GpuSetting("list", items=("0", "1"))),
        (f"{B}", GpuSetting("list", items=(B,))),
    ],
)
def test_the_setting_is_parsed(raw: str | None, setting: GpuSetting) -> None:
    assert parse_setting(raw) == setting


@pytest.mark.parametrize(
    ("raw", "rule"),
    [
        ("simulate:0", "simulate:N needs N from 1"),
        ("simulate:two", "simulate:N needs N from 1"),
        ("all", "comma list of GPU indexes or UUIDs"),
        ("0,0", "lists a GPU twice"),
    ],
)
def test_a_bad_setting_names_the_variable_and_the_rule(raw: str, rule: str) -> None:
    with pytest.raises(ValidationError, match="ORCHESTRATOR_GPUS") as caught:
        settings_from_env({"ORCHESTRATOR_GPUS": raw})
    assert rule in str(caught.value)


def test_detection_none_and_simulation() -> None:
    assert inventory(GpuSetting("detect"), DETECTED).uuids == (A, B)
    assert inventory(GpuSetting("detect"), None).gpus == ()  # no driver: a CPU host
    assert inventory(GpuSetting("none"), DETECTED).gpus == ()
    sim = inventory(GpuSetting("simulate", count=3), None)
    assert sim.simulated and len(sim.gpus) == 3 and len(set(sim.uuids)) == 3
    assert sim.uuids == inventory(GpuSetting("simulate", count=3), DETECTED).uuids  # stable
    assert all(uuid.startswith("GPU-") for uuid in sim.uuids)
    assert simulated(2) == simulated(3)[:2]


def test_a_list_keeps_only_those_gpus() -> None:
    assert inventory(parse_setting("1"), DETECTED).uuids == (B,)
    assert inventory(parse_setting(f"{B},0"), DETECTED).uuids == (A, B)
    with pytest.raises(ValidationError, match="lists '5', which this host does not have"):
        inventory(parse_setting("5"), DETECTED)
    # Nothing to check against: UUIDs are taken at their word, indexes mean nothing.
    listed = inventory(parse_setting("GPU-aaaa"), None)
    assert listed.uuids == ("GPU-aaaa",) and not listed.simulated
    with pytest.raises(ValidationError, match="list GPU UUIDs instead"):
        inventory(parse_setting("0"), None)


def test_pick_takes_free_gpus_in_index_order() -> None:
    assert pick(1, (A, B), set()) == (A,)
    assert pick(1, (A, B), {A}) == (B,)
    assert pick(2, (A, B), {A}) is None
    assert pick(0, (), set()) == ()


# -- the instance table ----------------------------------------------------------------------


def test_every_training_instance_type_of_the_model_is_in_the_table() -> None:
    model = botocore.session.get_session().get_service_model("sagemaker")
    assert set(INSTANCE_TABLE) == set(model.shape_for("TrainingInstanceType").enum)


def test_gpu_counts_agree_with_the_sagemaker_sdk() -> None:
    spec = importlib.util.find_spec("sagemaker")  # its data file, without importing the SDK
    assert spec is not None and spec.submodule_search_locations
    package = Path(next(iter(spec.submodule_search_locations)))
    path = package / "image_uri_config" / "instance_gpu_info.json"
    sdk = json.loads(path.read_text())["us-east-1"]
    shared = set(sdk) & set(INSTANCE_TABLE)
    assert len(shared) >= 20
    assert {t: resources_of(t).gpus for t in shared} == {t: sdk[t]["Count"] for t in shared}


@pytest.mark.parametrize(
    ("instance_type", "vcpus", "memory_gib", "gpus"),
    [
        ("ml.m5.large", 2, 8, 0),
        ("ml.c4.8xlarge", 36, 60, 0),
        ("ml.p3.2xlarge", 8, 61, 1),  # a heuristic of 7.6 GiB per vCPU said 60.8
        ("ml.p4d.24xlarge", 96, 1152, 8),
        ("ml.p5.4xlarge", 16, 256, 1),
        ("ml.p6e-gb200.36xlarge", 144, 960, 4),
        ("ml.g5.12xlarge", 48, 192, 4),
        ("ml.g6e.xlarge", 4, 32, 1),
        ("ml.trn1.32xlarge", 128, 512, 0),  # Trainium chips are not NVIDIA GPUs
    ],
)
def test_instance_figures(instance_type: str, vcpus: int, memory_gib: int, gpus: int) -> None:
    found = resources_of(instance_type)
    assert (found.vcpus, found.memory_bytes, found.gpus) == (vcpus, memory_gib * GIB, gpus)


def test_an_unknown_instance_type_is_a_validation_error(monkeypatch: pytest.MonkeyPatch) -> None:
    resources = {"InstanceType": "ml.z9.large", "InstanceCount": 1, "VolumeSizeInGB": 10}
    with pytest.raises(ValidationError, match=r"resourceConfig\.instanceType"):
        validate_create_training_job(request(ResourceConfig=resources))
    # A type the model knows and the table does not is refused too, not guessed.
    monkeypatch.delitem(INSTANCE_TABLE, "ml.m5.large")
    with pytest.raises(ValidationError, match=r"'ml\.m5\.large' has no known vCPU"):
        validate_create_training_job(request())


# -- demand and the over-ask policy ---------------------------------------------------------

TWO_GPUS = Capacity(64, 256 * GIB, 64, 256 * GIB, gpus=(A, B))


def test_a_job_asking_for_more_gpus_than_the_host_has_gets_all_of_them() -> None:
    demand = demand_of("ml.g5.12xlarge", 1, TWO_GPUS)  # 4 GPUs
    assert (demand.gpus, demand.asked_gpus) == (2, 4)
    assert never_fits(demand, TWO_GPUS) is None
    note = gpu_shortfall("ml.g5.12xlarge", demand, TWO_GPUS)
    assert (
        note == "ml.g5.12xlarge has 4 GPUs; this host has 2 GPUs, so the job runs on all 2 of them."
    )
    cpu_host = Capacity(64, 256 * GIB, 64, 256 * GIB)
    on_cpu = demand_of("ml.g5.xlarge", 1, cpu_host)
    assert on_cpu.gpus == 0 and "this host has no GPU, so the job runs on CPUs only" in (
        gpu_shortfall("ml.g5.xlarge", on_cpu, cpu_host) or ""
    )
    assert gpu_shortfall("ml.g5.xlarge", demand_of("ml.g5.xlarge", 1, TWO_GPUS), TWO_GPUS) is None


def test_a_strict_host_refuses_the_over_ask_as_a_capacity_error() -> None:
    strict = Capacity(64, 256 * GIB, 64, 256 * GIB, gpus=(A, B), strict_gpus=True)
    demand = demand_of("ml.g5.12xlarge", 1, strict)
    assert demand.gpus == 4
    reason = never_fits(demand, strict)
    assert reason is not None and "needs 4 GPUs and this host has 2" in reason


def test_only_a_cpu_job_passes_jobs_that_wait_for_gpus_alone() -> None:
    capacity = Capacity(8, 32 * GIB, 8, 32 * GIB, gpus=(A,))
    used = Demand(4, 16 * GIB, 1)
    gpu_waiter = Demand(2, 8 * GIB, 1)
    assert may_pass(Demand(2, 8 * GIB), used, [gpu_waiter], capacity)
    assert not may_pass(Demand(2, 8 * GIB, 1), used, [gpu_waiter], capacity)  # GPU jobs: FIFO
    # Passing would take CPUs the waiter needs once its GPU frees: first come, first served.
    assert not may_pass(Demand(4, 8 * GIB), used, [gpu_waiter], capacity)
    assert may_pass(Demand(4, 8 * GIB, 1), used, [], capacity)


# -- the ledger hands out GPUs by UUID ------------------------------------------------------


@pytest.fixture
def ledger(tmp_path: Path) -> CapacityLedger:
    jobs = JobStore(Database(tmp_path / "db.sqlite"))
    for name in ("a", "b", "c", "cpu"):
        jobs.insert(name, f"arn:{name}", {"TrainingJobName": name}, 0.0, "engine-1", 1000.0)
    return CapacityLedger(jobs.db)


ONE_GPU = Demand(4, 16 * GIB, 1)


def test_gpus_are_exclusive_and_freed_on_release(ledger: CapacityLedger) -> None:
    assert ledger.request("a", ONE_GPU, TWO_GPUS, 1.0) == (A,)
    assert ledger.request("b", ONE_GPU, TWO_GPUS, 1.0) == (B,)
    assert ledger.request("c", ONE_GPU, TWO_GPUS, 1.0) is None  # waits, in the queue
    assert ledger.request("a", ONE_GPU, TWO_GPUS, 2.0) == (A,)  # asking again keeps them
    assert ledger.gpus_of("b") == (B,) and ledger.gpus_of("c") == ()
    ledger.release("a")
    assert ledger.request("c", ONE_GPU, TWO_GPUS, 3.0) == (A,)
    granted = {a.job: a.gpu_ids for a in ledger.allocations()}
    assert granted == {"b": (B,), "c": (A,)}


def test_a_cpu_job_is_not_held_up_by_a_job_waiting_for_a_gpu(ledger: CapacityLedger) -> None:
    both = Demand(4, 16 * GIB, 2)
    assert ledger.request("a", both, TWO_GPUS, 1.0) == (A, B)
    assert ledger.request("b", ONE_GPU, TWO_GPUS, 1.0) is None  # waits for a GPU
    assert ledger.request("cpu", Demand(4, 16 * GIB), TWO_GPUS, 1.0) == ()
    assert ledger.request("c", ONE_GPU, TWO_GPUS, 1.0) is None  # behind b
    ledger.release("a")
    assert ledger.request("c", ONE_GPU, TWO_GPUS, 2.0) is None  # b was first
    assert ledger.request("b", ONE_GPU, TWO_GPUS, 2.0) == (A,)
    assert ledger.request("c", ONE_GPU, TWO_GPUS, 2.0) == (B,)


# -- asking the driver -------------------------------------------------------------------------


def _nvidia_smi_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> None:
    """An `nvidia-smi` of our own first on PATH, answering as `body` says."""
    script = tmp_path / "bin" / "nvidia-smi"
    script.parent.mkdir()
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{script.parent}:{os.environ['PATH']}")


def test_detection_asks_nvidia_smi_for_its_csv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = 'echo "$@" > "$(dirname "$0")/args"; printf "%s" "' + NVIDIA_SMI + '"'
    _nvidia_smi_on_path(tmp_path, monkeypatch, body)
    assert detect_gpus() == DETECTED
    asked = (tmp_path / "bin" / "args").read_text().split()
    assert asked == ["--query-gpu=index,uuid,name,memory.total", "--format=csv,noheader,nounits"]


def test_no_nvidia_smi_is_a_cpu_host(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert detect_gpus() is None


def test_a_failing_nvidia_smi_is_a_misconfigured_host(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    message = "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver."
    _nvidia_smi_on_path(tmp_path, monkeypatch, f'echo "{message}"; exit 9')
    with pytest.raises(HostMisconfigured, match="couldn't communicate with the NVIDIA driver"):
        detect_gpus()
