"""GPU jobs on the fake runtime: assignment, queueing, the container's view, failures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from orchestrator.engine.engine import Engine
from orchestrator.errors import RuntimeFailure
from orchestrator.gpus import GpuSetting, parse_query
from orchestrator.operations import training_jobs as service
from orchestrator.runtime.fake import FakeContainer
from tests.unit.harness import Died, Harness, killed, recovered, request, until

SIMULATE_2 = GpuSetting("simulate", count=2)
DETECTED = parse_query("0, GPU-aaaa, NVIDIA A10G, 23028\n1, GPU-bbbb, NVIDIA A10G, 23028\n")
LONG = {"MaxRuntimeInSeconds": 200_000}


def _gpu_job(name: str, instance_type: str = "ml.g5.xlarge", **changes: Any) -> dict[str, Any]:
    resources = {"InstanceType": instance_type, "InstanceCount": 1, "VolumeSizeInGB": 10}
    image = {"TrainingImage": "fake/long:latest", "TrainingInputMode": "File"}
    changes.setdefault("AlgorithmSpecification", image)
    return request(
        TrainingJobName=name, ResourceConfig=resources, StoppingCondition=LONG, **changes
    )


def _harness(tmp_path: Path, **settings: Any) -> Harness:
    # Enough CPUs and memory that only GPUs decide who runs.
    h = Harness(tmp_path, cpus=64, memory_gib=512, **settings)
    h.program("fake/long:latest", duration=100_000)
    h.program("fake/ok:latest", duration=5)
    return h


def _container(h: Harness, job: str) -> FakeContainer:
    found = [c for c in h.runtime.containers.values() if c.spec.labels["orchestrator.job"] == job]
    return found[-1]


def _visible(h: Harness, job: str) -> str:
    return _container(h, job).spec.environment["NVIDIA_VISIBLE_DEVICES"]


def _running(h: Harness, job: str) -> bool:
    """Its container has started (Training is recorded just before the container exists)."""
    return any(
        c.spec.labels["orchestrator.job"] == job and c.started_at is not None
        for c in list(h.runtime.containers.values())
    )


def test_jobs_get_distinct_gpus_and_the_third_waits(tmp_path: Path) -> None:
    h = _harness(tmp_path, gpus=SIMULATE_2)
    engine = Engine(h.ctx)
    for name in ("a", "b"):
        h.create(engine, _gpu_job(name))
        until(lambda name=name: _running(h, name))
    h.create(engine, _gpu_job("c"))
    until(lambda: h.store.require("c").secondary_status == "Pending")
    simulated = h.ctx.gpus().uuids
    assert {_visible(h, "a"), _visible(h, "b")} == set(simulated)
    pending = h.store.transitions("c")[-1].message
    assert "needs 4 vCPUs, 16.0 GiB of memory and 1 GPU" in pending
    assert "this host offers 64 vCPUs, 512.0 GiB of memory and 2 GPUs" in pending
    # Simulated GPUs: no device request reaches Docker; the container's nvidia-smi lists its own.
    spec = _container(h, "a").spec
    assert spec.gpu_device_ids == []
    nvidia_smi = next(m for m in spec.mounts if m.target == "/usr/bin/nvidia-smi")
    script = nvidia_smi.source.read_text()
    assert _visible(h, "a") in script and _visible(h, "b") not in script
    freed = _visible(h, "a")
    service.request_stop(h.store, "a", h.clock)
    until(lambda: _running(h, "c"))
    assert _visible(h, "c") == freed
    until(lambda: not nvidia_smi.source.exists())  # a's stand-in goes with its attempt
    for name in ("b", "c"):
        service.request_stop(h.store, name, h.clock)
    engine.join(timeout=30)
    assert h.ctx.ledger.allocations() == []


def test_a_cpu_job_sees_no_gpu_and_never_asks_the_driver(tmp_path: Path) -> None:
    h = _harness(tmp_path)
    asked: list[bool] = []
    h.runtime.gpus = lambda: asked.append(True) or DETECTED  # type: ignore[method-assign]
    h.run(request())
    assert h.store.require("job-1").status == "Completed"
    spec = _container(h, "job-1").spec
    assert spec.environment["NVIDIA_VISIBLE_DEVICES"] == "void"
    assert spec.gpu_device_ids == [] and asked == []


def test_detected_gpus_are_requested_from_docker_by_uuid(tmp_path: Path) -> None:
    h = _harness(tmp_path)
    h.runtime.host_gpus = DETECTED
    h.run(_gpu_job("job-1", AlgorithmSpecification=_ok()))
    spec = _container(h, "job-1").spec
    assert spec.gpu_device_ids == ["GPU-aaaa"]
    assert spec.environment["NVIDIA_VISIBLE_DEVICES"] == "GPU-aaaa"
    assert all(m.target != "/usr/bin/nvidia-smi" for m in spec.mounts)


def test_a_job_asking_for_more_gpus_runs_on_all_and_says_so(tmp_path: Path) -> None:
    h = _harness(tmp_path, gpus=SIMULATE_2)
    h.run(_gpu_job("job-1", "ml.g5.12xlarge", AlgorithmSpecification=_ok()))  # 4 GPUs
    assert h.store.require("job-1").status == "Completed"
    assert _visible(h, "job-1") == ",".join(h.ctx.gpus().uuids)
    starting = h.store.transitions("job-1")[0].message
    assert "ml.g5.12xlarge has 4 GPUs; this host has 2 GPUs, so the job runs on all 2" in starting


def test_a_strict_host_fails_the_over_ask_as_a_capacity_error(tmp_path: Path) -> None:
    h = _harness(tmp_path, gpus=SIMULATE_2, gpus_strict=True)
    h.run(_gpu_job("job-1", "ml.g5.12xlarge", AlgorithmSpecification=_ok()))
    record = h.store.require("job-1")
    assert record.status == "Failed"
    assert (record.failure_reason or "").startswith(
        "CapacityError: the job needs 4 GPUs and this host has 2"
    )


def test_without_the_nvidia_runtime_the_job_fails_at_once(tmp_path: Path) -> None:
    h = _harness(tmp_path, gpus=GpuSetting("list", items=("GPU-cccc",)))
    h.runtime.nvidia_runtime = False
    retry = {"MaximumRetryAttempts": 3}
    h.run(_gpu_job("job-1", AlgorithmSpecification=_ok(), RetryStrategy=retry))
    record = h.store.require("job-1")
    assert (record.status, record.attempt) == ("Failed", 1)  # not retried
    assert (record.failure_reason or "").startswith("ClientError: ")
    assert 'could not select device driver "nvidia"' in (record.failure_reason or "")
    assert _container(h, "job-1").removed and _container(h, "job-1").spec.gpu_device_ids == [
        "GPU-cccc"
    ]
    assert h.ctx.ledger.allocations() == []


def test_a_gpu_the_host_does_not_have_is_a_client_error(tmp_path: Path) -> None:
    h = _harness(tmp_path, gpus=GpuSetting("list", items=("GPU-zzzz",)))
    h.runtime.host_gpus = DETECTED
    h.run(_gpu_job("job-1", AlgorithmSpecification=_ok()))
    reason = h.store.require("job-1").failure_reason or ""
    assert reason.startswith("ClientError: ORCHESTRATOR_GPUS lists 'GPU-zzzz'")


def test_an_adopting_engine_relaunches_on_the_same_gpus(tmp_path: Path) -> None:
    h = _harness(tmp_path, gpus=SIMULATE_2)
    h.run(_gpu_job("other", AlgorithmSpecification=_ok()))  # leaves nothing held
    start = h.runtime.start
    calls: list[str] = []

    def die_at_first_start(container_id: str) -> None:
        calls.append(container_id)
        if len(calls) == 1:
            raise Died
        start(container_id)

    h.runtime.start = die_at_first_start  # type: ignore[method-assign]
    supervisor = h.supervisor(_gpu_job("job-1", AlgorithmSpecification=_ok()))
    killed(h, supervisor)
    held = h.ctx.ledger.gpus_of("job-1")
    assert len(held) == 1
    assert recovered(h).status == "Completed"
    assert _visible(h, "job-1") == held[0]


def test_a_warm_pool_keeps_its_gpus_for_the_job_that_reuses_it(tmp_path: Path) -> None:
    h = _harness(tmp_path, gpus=SIMULATE_2)
    resources = {
        "InstanceType": "ml.g5.xlarge",
        "InstanceCount": 1,
        "VolumeSizeInGB": 10,
        "KeepAlivePeriodInSeconds": 600,
    }
    h.run(request(TrainingJobName="first", ResourceConfig=resources))
    first = _visible(h, "first")
    pool = [a for a in h.ctx.ledger.allocations() if a.job.startswith("pool:")]
    assert [a.gpu_ids for a in pool] == [(first,)]  # the idle pool holds its GPU
    h.run(request(TrainingJobName="second", ResourceConfig=resources))
    assert _visible(h, "second") == first


def _ok() -> dict[str, str]:
    return {"TrainingImage": "fake/ok:latest", "TrainingInputMode": "File"}


@pytest.mark.parametrize("setting", [GpuSetting("none"), GpuSetting("detect")])
def test_no_gpus_means_a_gpu_type_runs_on_cpus(tmp_path: Path, setting: GpuSetting) -> None:
    h = _harness(tmp_path, gpus=setting)  # the fake host has no nvidia-smi
    h.run(_gpu_job("job-1", AlgorithmSpecification=_ok()))
    assert h.store.require("job-1").status == "Completed"
    assert _visible(h, "job-1") == "void"
    assert "this host has no GPU, so the job runs on CPUs only" in (
        h.store.transitions("job-1")[0].message
    )


def test_an_idle_warm_pool_gives_its_gpu_to_a_job_that_needs_it(tmp_path: Path) -> None:
    h = _harness(tmp_path, gpus=GpuSetting("simulate", count=1))
    keep = {**_gpu_job("x")["ResourceConfig"], "KeepAlivePeriodInSeconds": 600}
    h.run(request(TrainingJobName="pooled", ResourceConfig=keep))
    assert [a.job.startswith("pool:") for a in h.ctx.ledger.allocations()] == [True]
    other = _gpu_job("other", AlgorithmSpecification=_ok(), HyperParameters={"lr": "0.1"})
    h.run(other)  # does not match the pool: the pool is reclaimed for it, not waited for
    assert h.store.require("other").status == "Completed"
    assert _visible(h, "other") == h.ctx.gpus().uuids[0]
    assert service.describe(h.store, "pooled", now=h.clock.now())["WarmPoolStatus"]["Status"] == (
        "Terminated"
    )


def test_a_failed_job_frees_its_gpu_only_once_its_container_is_gone(tmp_path: Path) -> None:
    h = _harness(tmp_path, gpus=GpuSetting("simulate", count=1))

    def docker_breaks(now: float) -> None:
        if now > 10:
            raise RuntimeFailure("docker wait failed: the daemon restarted")

    h.on_wait(docker_breaks)
    move = h.store.move
    removed_when_failed: list[bool] = []

    def watched_move(name: str, current: Any, target: Any, *args: Any, **kwargs: Any) -> bool:
        if target.value == "Failed":
            removed_when_failed.append(_container(h, name).removed)
        return move(name, current, target, *args, **kwargs)

    h.store.move = watched_move  # type: ignore[method-assign]
    h.run(_gpu_job("job-1"))  # the container runs on when its supervisor gives up on it
    assert h.store.require("job-1").status == "Failed"
    assert removed_when_failed == [True]
