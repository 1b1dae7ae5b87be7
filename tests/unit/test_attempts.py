"""Attempts, retries, faults and Pending on the fake runtime: each path in milliseconds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from orchestrator.engine.engine import Engine
from orchestrator.errors import ContainerGone
from orchestrator.operations import training_jobs as service
from orchestrator.runtime.fake import FakeRuntime
from orchestrator.runtime.protocol import LABEL_ATTEMPT, ExitStatus
from tests.unit.harness import Died, Harness, killed, recovered, request, until

RETRY_TWICE = {"MaximumRetryAttempts": 2}


@pytest.fixture
def h(tmp_path: Path) -> Harness:
    harness = Harness(tmp_path)
    harness.program("fake/ok:latest", duration=5, lines=["epoch 1"], files={"model/m.txt": "m"})
    harness.program("fake/long:latest", duration=100_000)
    return harness


def _lose_containers_of(h: Harness, *attempts: int) -> None:
    """`docker rm -f` from outside: the training container of these attempts vanishes."""
    runtime: FakeRuntime = h.runtime
    original = FakeRuntime.wait

    def wait(container_id: str, timeout: float) -> ExitStatus | None:
        container = runtime.containers[container_id]
        if int(container.spec.labels[LABEL_ATTEMPT]) in attempts:
            container.removed = True
        return original(runtime, container_id, timeout)

    runtime.wait = wait  # type: ignore[method-assign]


def _algorithm(image: str) -> dict[str, str]:
    return {"TrainingImage": image, "TrainingInputMode": "File"}


def test_a_lost_container_is_retried_and_the_next_attempt_completes(h: Harness) -> None:
    _lose_containers_of(h, 1)
    h.run(request(RetryStrategy=RETRY_TWICE))
    record = h.store.require("job-1")
    assert (record.status, record.secondary_status, record.attempt) == ("Completed",) * 2 + (2,)
    assert h.statuses() == [
        "Starting", "Downloading", "Training",
        "Starting", "Downloading", "Training", "Uploading", "Completed",
    ]  # fmt: skip
    retry = h.store.transitions("job-1")[3]
    assert retry.message.startswith("Retrying the training job: retry 1 of 2 (attempt 2), after")
    assert "InternalServerError" in retry.message
    first_download = h.store.transitions("job-1")[1].start_time
    assert record.training_start_time == first_download  # TrainingStartTime: the first attempt
    assert [(r.attempt, r.exit_code) for r in h.ctx.runs.of_job("job-1")] == [(1, None), (2, 0)]
    names = sorted(c.spec.name for c in h.runtime.containers.values())
    tag = h.ctx.store_tag
    assert names == [f"orchestrator-job-1-1-algo-1-{tag}", f"orchestrator-job-1-2-algo-1-{tag}"]
    assert all(c.removed for c in h.runtime.containers.values())
    assert not (h.settings.jobs_root / "job-1" / "attempt-1").exists()
    assert h.ctx.ledger.allocations() == []


def test_without_retry_strategy_a_lost_container_fails_the_job(h: Harness) -> None:
    _lose_containers_of(h, 1)
    h.run(request())
    record = h.store.require("job-1")
    assert record.status == "Failed" and record.attempt == 1
    assert (record.failure_reason or "").startswith("InternalServerError: no such container")


def test_an_algorithm_error_is_never_retried(h: Harness) -> None:
    h.program("fake/exit:latest", duration=1, exit_code=3)
    h.run(request(AlgorithmSpecification=_algorithm("fake/exit:latest"), RetryStrategy=RETRY_TWICE))
    record = h.store.require("job-1")
    assert record.status == "Failed" and record.attempt == 1
    assert record.failure_reason == "AlgorithmError: the training container exited with code 3"
    assert h.statuses().count("Training") == 1


def test_a_client_error_is_never_retried(h: Harness) -> None:
    h.run(request(AlgorithmSpecification=_algorithm("fake/missing:1"), RetryStrategy=RETRY_TWICE))
    record = h.store.require("job-1")
    assert record.attempt == 1 and (record.failure_reason or "").startswith("ClientError: ")


def test_retries_are_bounded(h: Harness) -> None:
    _lose_containers_of(h, 1, 2, 3)
    h.run(request(RetryStrategy={"MaximumRetryAttempts": 1}))
    record = h.store.require("job-1")
    assert record.status == "Failed" and record.attempt == 2
    assert (record.failure_reason or "").startswith("InternalServerError: ")
    assert h.statuses().count("Training") == 2


def test_each_attempt_gets_a_fresh_opt_ml(h: Harness) -> None:
    seen: list[list[str]] = []

    def on_start(opt_ml: Path) -> None:
        seen.append(sorted(p.name for p in (opt_ml / "model").iterdir()))
        (opt_ml / "model" / "from-an-attempt.txt").write_text("x")

    h.program("fake/look:latest", duration=5, on_start=on_start)
    _lose_containers_of(h, 1)
    h.run(request(AlgorithmSpecification=_algorithm("fake/look:latest"), RetryStrategy=RETRY_TWICE))
    assert seen == [[], []]  # the second attempt never sees what the first left


def test_logs_of_every_attempt_are_kept_in_the_hosts_log(h: Harness) -> None:
    supervisor = h.supervisor(request(RetryStrategy=RETRY_TWICE))

    def lose_attempt_1_once_logged(now: float) -> None:
        group = supervisor.host
        host = group.runners[0] if group is not None else None
        if host is not None and host.attempt == 1 and host.pump is not None:
            host.pump.join()  # its output was read before it vanished
            assert host.container_id is not None
            h.runtime.containers[host.container_id].removed = True

    h.on_wait(lose_attempt_1_once_logged)
    supervisor.run()
    lines = h.ctx.log_path("job-1").read_text().splitlines()
    assert [line.split("\t", 1)[1] for line in lines] == ["epoch 1", "epoch 1"]
    assert [r.log_base for r in h.ctx.runs.of_job("job-1")] == [0, 1]


def test_an_injected_fault_ends_the_attempt_as_a_platform_failure(h: Harness) -> None:
    def fault_in_training(now: float) -> None:
        record = h.store.require("job-1")
        if record.secondary_status == "Training" and record.attempt == 1 and not record.fault:
            service.inject_fault(h.store, h.clock, "job-1", "internal-error", after=2)

    h.on_wait(fault_in_training)
    h.run(request(AlgorithmSpecification=_algorithm("fake/long:latest")))
    record = h.store.require("job-1")
    assert record.status == "Failed" and record.fault is None
    assert record.failure_reason == (
        "InternalServerError: an injected internal-error fault ended attempt 1 in Training"
    )
    assert all(c.removed for c in h.runtime.containers.values())
    assert not h.artifact().exists()  # a platform failure uploads nothing


def test_an_injected_fault_is_retried(h: Harness) -> None:
    supervisor = h.supervisor(request(RetryStrategy=RETRY_TWICE))
    service.inject_fault(h.store, h.clock, "job-1", "internal-error")
    supervisor.run()
    record = h.store.require("job-1")
    assert (record.secondary_status, record.attempt) == ("Completed", 2)
    retry = next(t for t in h.store.transitions("job-1") if "Retrying" in t.message)
    assert "injected internal-error fault ended attempt 1 in Downloading" in retry.message


def test_faults_need_a_running_job_and_a_known_kind(h: Harness) -> None:
    h.run(request())
    with pytest.raises(Exception, match="already ended"):
        service.inject_fault(h.store, h.clock, "job-1", "internal-error")
    with pytest.raises(Exception, match="fault kind must be one of internal-error"):
        service.inject_fault(h.store, h.clock, "job-1", "meteor")
    with pytest.raises(Exception, match="AfterSeconds"):
        service.inject_fault(h.store, h.clock, "job-1", "internal-error", after=-1)


def test_max_runtime_covers_every_attempt(h: Harness) -> None:
    lost_at: list[float] = []
    runtime: FakeRuntime = h.runtime
    original = FakeRuntime.wait

    def wait(container_id: str, timeout: float) -> ExitStatus | None:
        container = runtime.containers[container_id]
        if container.spec.labels[LABEL_ATTEMPT] == "1" and h.clock.now() - 1_700_000_000 > 40:
            container.removed = True
            lost_at.append(h.clock.now())
        return original(runtime, container_id, timeout)

    runtime.wait = wait  # type: ignore[method-assign]
    h.run(
        request(
            AlgorithmSpecification=_algorithm("fake/long:latest"),
            RetryStrategy=RETRY_TWICE,
            StoppingCondition={"MaxRuntimeInSeconds": 60},
        )
    )
    record = h.store.require("job-1")
    assert (record.secondary_status, record.attempt) == ("MaxRuntimeExceeded", 2)
    assert record.training_start_time is not None and lost_at
    assert 60 <= (record.training_end_time or 0) - record.training_start_time < 62


# -- capacity: Pending, MaxPendingTimeInSeconds, CapacityError ------------------------------


def _two_jobs(
    h: Harness, engine: Engine, second: dict[str, Any] | None = None, **first: Any
) -> None:
    """`first` holds the host's share before `second` asks for one."""
    h.create(engine, request(TrainingJobName="first", **first))
    until(lambda: bool(h.ctx.ledger.allocations()))  # first's thread holds its share
    h.create(engine, request(TrainingJobName="second", **(second or {})))


def test_a_job_that_does_not_fit_waits_in_pending(tmp_path: Path) -> None:
    h = Harness(tmp_path, cpus=2)  # one ml.m5.large (2 vCPUs) at a time
    h.program("fake/ok:latest", duration=5)
    h.program("fake/long:latest", duration=100_000)
    engine = Engine(h.ctx)
    long = {"MaxRuntimeInSeconds": 200_000}
    _two_jobs(
        h, engine, AlgorithmSpecification=_algorithm("fake/long:latest"), StoppingCondition=long
    )
    until(lambda: h.store.require("second").secondary_status == "Pending")
    service.request_stop(h.store, "first", h.clock)  # its share is released: second starts
    engine.join(timeout=30)
    first, second = h.store.require("first"), h.store.require("second")
    assert (first.secondary_status, second.secondary_status) == ("Stopped", "Completed")
    assert h.statuses("second") == [
        "Starting", "Pending", "Starting", "Downloading", "Training", "Uploading", "Completed",
    ]  # fmt: skip
    pending = h.store.transitions("second")[1]
    assert pending.message.startswith("Waiting for capacity: the job needs 2 vCPUs")
    assert (second.training_start_time or 0) >= (first.training_end_time or 0)
    assert h.ctx.ledger.allocations() == []


def test_max_pending_time_stops_a_waiting_job(tmp_path: Path) -> None:
    h = Harness(tmp_path, cpus=2)
    h.program("fake/ok:latest", duration=100_000)
    engine = Engine(h.ctx)
    stopping = {"MaxRuntimeInSeconds": 200_000, "MaxPendingTimeInSeconds": 7200}
    gpu = {"InstanceType": "ml.g5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10}
    second = {"StoppingCondition": stopping, "ResourceConfig": gpu}
    _two_jobs(h, engine, second, StoppingCondition=stopping)
    engine.wait("second", timeout=30)
    second = h.store.require("second")
    assert (second.status, second.secondary_status) == ("Stopped", "Stopped")
    assert h.statuses("second") == ["Starting", "Pending", "Stopping", "Stopped"]
    assert "MaxPendingTimeInSeconds exceeded" in h.store.transitions("second")[-1].message
    assert (second.training_end_time or 0) - (second.pending_since or 0) >= 7200
    service.request_stop(h.store, "first", h.clock)
    engine.join(timeout=30)


def test_stopping_a_pending_job_releases_its_place(tmp_path: Path) -> None:
    h = Harness(tmp_path, cpus=2)
    h.program("fake/ok:latest", duration=100_000)
    engine = Engine(h.ctx)
    long = {"MaxRuntimeInSeconds": 200_000}
    _two_jobs(h, engine, {"StoppingCondition": long}, StoppingCondition=long)
    until(lambda: h.store.require("second").secondary_status == "Pending")
    service.request_stop(h.store, "second", h.clock)
    engine.wait("second", timeout=30)
    assert h.statuses("second") == ["Starting", "Pending", "Stopping", "Stopped"]
    assert [a.job for a in h.ctx.ledger.allocations()] == ["first"]
    service.request_stop(h.store, "first", h.clock)
    engine.join(timeout=30)
    assert h.ctx.ledger.allocations() == []


def test_a_job_that_can_never_fit_is_a_capacity_error(tmp_path: Path) -> None:
    h = Harness(tmp_path, cpu_overcommit=0.5)  # one schedulable CPU on the 2-CPU fake host
    h.program("fake/ok:latest", duration=5)
    h.run(request(RetryStrategy=RETRY_TWICE))
    record = h.store.require("job-1")
    assert record.status == "Failed" and record.attempt == 1
    assert (record.failure_reason or "").startswith("CapacityError: the job needs 2 vCPUs")
    assert h.runtime.containers == {}


# -- adoption: the engine died while the job waited or between attempts --------------------


def test_a_pending_job_survives_its_engine(tmp_path: Path) -> None:
    h = Harness(tmp_path, cpus=2)
    h.program("fake/ok:latest", duration=5)
    req = request(TrainingJobName="waiting")
    h.store.insert("waiting", "arn:waiting", req, h.clock.now(), "dead-engine", 0.0)
    h.store.move("waiting", *_secondaries("Starting", "Pending"), h.clock.now())
    h.clock.advance(1)  # the dead engine's lease has run out
    engine = Engine(h.ctx)
    assert engine.recover() == ["waiting"]
    engine.join(timeout=30)
    assert h.statuses("waiting") == [
        "Starting", "Pending", "Starting", "Downloading", "Training", "Uploading", "Completed",
    ]  # fmt: skip


def test_an_engine_killed_between_attempts_continues_the_count(h: Harness) -> None:
    _lose_containers_of(h, 1, 2)
    ledger_request = h.ctx.ledger.request

    def die_placing_attempt_2(job: str, *args: Any) -> bool:
        if h.store.require(job).attempt == 2:
            raise Died
        return ledger_request(job, *args)

    h.ctx.ledger.request = die_placing_attempt_2  # type: ignore[method-assign]
    killed(h, h.supervisor(request(RetryStrategy={"MaximumRetryAttempts": 1})))
    del h.ctx.ledger.request
    assert h.store.require("job-1").secondary_status == "Starting"
    record = recovered(h)
    # Attempt 2 was the last one allowed: its lost container ends the job, not a third try.
    assert (record.status, record.attempt) == ("Failed", 2)
    assert h.statuses().count("Training") == 2


def test_the_reaper_removes_containers_of_replaced_attempts(h: Harness) -> None:
    h.supervisor(request(AlgorithmSpecification=_algorithm("fake/long:latest")))
    leftover = h.runtime.create(_leftover_spec(h))  # attempt 1's, left by a dead engine
    h.runtime.start(leftover)
    h.store.update("job-1", attempt=2)  # the job has moved on to attempt 2
    Engine(h.ctx).reap()
    assert h.runtime.containers[leftover].removed
    with pytest.raises(ContainerGone):
        h.runtime.wait(leftover, 1)


def _leftover_spec(h: Harness) -> Any:
    from orchestrator.engine.placement import container_spec
    from orchestrator.engine.workspace import Workspace
    from orchestrator.spec import job_spec

    record = h.store.require("job-1")
    spec = job_spec(record.request, record.arn)
    return container_spec(h.ctx, spec, Workspace(h.settings.home / "w"), attempt=1)


def _secondaries(*names: str) -> tuple[Any, ...]:
    from orchestrator.lifecycle import Secondary

    return tuple(Secondary(n) for n in names)


# -- what a review found: adoption mid-upload, failures while stopping, two owners ----------


def test_a_job_adopted_while_uploading_finishes_its_upload(h: Harness) -> None:
    supervisor = h.supervisor(request())
    original = h.objects.upload_file
    calls: list[str] = []

    def die_on_first_upload(source: Path, uri: str) -> None:
        calls.append(uri)
        if len(calls) == 1:
            raise Died
        original(source, uri)

    h.objects.upload_file = die_on_first_upload  # type: ignore[method-assign]
    killed(h, supervisor)
    assert h.store.require("job-1").secondary_status == "Uploading"
    record = recovered(h)
    assert (record.secondary_status, record.attempt) == ("Completed", 1)
    assert h.artifact().exists()


def test_a_container_lost_while_stopping_still_ends_stopped(h: Harness) -> None:
    def stop_then_lose(now: float) -> None:
        record = h.store.require("job-1")
        if record.secondary_status == "Training":
            service.request_stop(h.store, "job-1", h.clock)
            for container in h.runtime.containers.values():
                container.removed = True  # lost just as the stop arrives

    h.on_wait(stop_then_lose)
    h.run(request(AlgorithmSpecification=_algorithm("fake/long:latest"), RetryStrategy=RETRY_TWICE))
    record = h.store.require("job-1")
    assert (record.status, record.secondary_status, record.attempt) == ("Stopped", "Stopped", 1)


def test_an_engine_never_adopts_a_job_its_own_supervisor_runs(h: Harness) -> None:
    engine = Engine(h.ctx)
    h.create(engine, request(AlgorithmSpecification=_algorithm("fake/long:latest")))
    until(lambda: h.store.require("job-1").secondary_status == "Training")
    with h.store.db.write() as conn:  # as if its heartbeat were late (a laptop waking up)
        conn.execute("UPDATE jobs SET lease_expires = 0")
    assert engine.adopt("job-1") is False
    service.request_stop(h.store, "job-1", h.clock)
    engine.join(timeout=30)
    assert h.store.require("job-1").secondary_status == "Stopped"


def test_a_supervisor_whose_job_was_taken_over_touches_nothing(h: Harness) -> None:
    def taken_over(now: float) -> None:
        with h.store.db.write() as conn:
            conn.execute("UPDATE jobs SET owner = 'another-engine'")

    h.on_wait(taken_over)
    h.run(request(AlgorithmSpecification=_algorithm("fake/long:latest")))
    record = h.store.require("job-1")
    assert (record.secondary_status, record.owner) == ("Training", "another-engine")
    assert not any(c.removed for c in h.runtime.containers.values())  # the new owner's now


def test_a_job_adopted_before_its_container_started_is_launched(h: Harness) -> None:
    supervisor = h.supervisor(request())
    original = FakeRuntime.create

    def die_creating(spec: Any) -> str:
        raise Died

    h.runtime.create = die_creating  # type: ignore[method-assign,assignment]
    killed(h, supervisor)
    h.runtime.create = lambda spec: original(h.runtime, spec)  # type: ignore[method-assign]
    assert h.store.require("job-1").secondary_status == "Training"
    record = recovered(h)
    assert (record.secondary_status, record.attempt) == ("Completed", 1)
    assert len(h.runtime.containers) == 1
