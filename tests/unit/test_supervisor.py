"""Every path of a job through the supervisor, on a fake runtime and a fake clock."""

from __future__ import annotations

import itertools
import tarfile
from pathlib import Path

import pytest

from orchestrator.engine.engine import Engine
from orchestrator.engine.supervisor import Supervisor
from orchestrator.errors import RuntimeFailure
from orchestrator.operations import training_jobs as service
from orchestrator.runtime.fake import SIGKILL_EXIT
from orchestrator.spec import job_spec
from tests.unit.harness import Died, Harness, request


@pytest.fixture
def h(tmp_path: Path) -> Harness:
    harness = Harness(tmp_path)
    harness.program(
        "fake/ok:latest",
        duration=5,
        lines=["epoch 1", "epoch 2"],
        files={"model/model.txt": "weights"},
    )
    return harness


def _names(path: Path) -> list[str]:
    with tarfile.open(path) as tar:
        return tar.getnames()


def test_completed_job_walks_every_status_and_uploads(h: Harness) -> None:
    h.run(request())
    record = h.store.require("job-1")
    assert (record.status, record.secondary_status) == ("Completed", "Completed")
    assert h.statuses() == ["Starting", "Downloading", "Training", "Uploading", "Completed"]
    assert _names(h.artifact()) == ["model.txt"]
    assert h.artifact(file="output.tar.gz").exists()
    assert record.model_artifacts == "s3://bucket/output/job-1/output/model.tar.gz"
    assert record.training_end_time is not None and record.training_start_time is not None
    assert record.training_end_time - record.training_start_time >= 5


def test_each_transition_is_closed_by_the_next(h: Harness) -> None:
    h.run(request())
    transitions = h.store.transitions("job-1")
    for before, after in itertools.pairwise(transitions):
        assert before.end_time == after.start_time
    assert transitions[-1].end_time == transitions[-1].start_time


def test_container_gets_the_train_argument_and_job_environment(h: Harness) -> None:
    h.run(request(Environment={"MODE": "fast"}))
    spec = next(iter(h.runtime.containers.values())).spec
    assert spec.command == ["train"] and spec.entrypoint is None
    assert spec.environment["TRAINING_JOB_NAME"] == "job-1"
    assert spec.environment["TRAINING_JOB_ARN"].endswith(":training-job/job-1")
    assert spec.environment["MODE"] == "fast"
    assert spec.hostname == "algo-1"
    assert spec.nano_cpus == 2 * 10**9  # ml.m5.large: 2 vCPUs (the fake host has 2)


def test_entrypoint_and_arguments_replace_train(h: Harness) -> None:
    algo = {
        "TrainingImage": "fake/ok:latest",
        "TrainingInputMode": "File",
        "ContainerEntrypoint": ["python3", "run.py"],
        "ContainerArguments": ["--x", "1"],
    }
    h.run(request(AlgorithmSpecification=algo))
    spec = next(iter(h.runtime.containers.values())).spec
    assert (spec.entrypoint, spec.command) == (["python3", "run.py"], ["--x", "1"])


def test_network_isolation_disables_the_network(h: Harness) -> None:
    h.run(request(EnableNetworkIsolation=True))
    assert next(iter(h.runtime.containers.values())).spec.network_disabled


def test_failure_file_becomes_the_failure_reason(h: Harness) -> None:
    h.program(
        "fake/fail:latest",
        duration=1,
        exit_code=2,
        files={"output/failure": "bad input: " + "x" * 2000, "model/partial.txt": "p"},
    )
    h.run(
        request(
            AlgorithmSpecification={
                "TrainingImage": "fake/fail:latest",
                "TrainingInputMode": "File",
            }
        )
    )
    record = h.store.require("job-1")
    assert record.status == "Failed"
    reason = record.failure_reason or ""
    assert reason.startswith("AlgorithmError: bad input: ")
    assert len(reason) == 1024
    assert _names(h.artifact()) == ["partial.txt"]  # failed jobs upload what they wrote


def test_exit_code_names_the_failure_without_a_file(h: Harness) -> None:
    h.program("fake/exit:latest", duration=1, exit_code=3)
    h.run(
        request(
            AlgorithmSpecification={
                "TrainingImage": "fake/exit:latest",
                "TrainingInputMode": "File",
            }
        )
    )
    assert h.store.require("job-1").failure_reason == (
        "AlgorithmError: the training container exited with code 3"
    )


def test_out_of_memory_is_named(h: Harness) -> None:
    h.program("fake/oom:latest", duration=1, oom=True)
    h.run(
        request(
            AlgorithmSpecification={"TrainingImage": "fake/oom:latest", "TrainingInputMode": "File"}
        )
    )
    reason = h.store.require("job-1").failure_reason or ""
    assert "out of memory" in reason and "OOMKilled" in reason


def test_missing_image_fails_with_a_client_error(h: Harness) -> None:
    h.run(
        request(
            AlgorithmSpecification={"TrainingImage": "fake/missing:1", "TrainingInputMode": "File"}
        )
    )
    record = h.store.require("job-1")
    assert record.status == "Failed"
    assert (record.failure_reason or "").startswith("ClientError: image 'fake/missing:1'")
    assert not (h.settings.jobs_root / "job-1" / "algo-1").exists()


def test_missing_channel_fails_during_download(h: Harness) -> None:
    channel = {
        "ChannelName": "train",
        "DataSource": {
            "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://bucket/nothing-here"}
        },
    }
    h.run(request(InputDataConfig=[channel]))
    record = h.store.require("job-1")
    assert record.status == "Failed"
    assert "no objects found under 's3://bucket/nothing-here'" in (record.failure_reason or "")
    assert h.statuses()[-2:] == ["Downloading", "Failed"]
    assert h.runtime.containers == {}


def test_runtime_failure_is_an_internal_error_and_leaves_nothing(h: Harness) -> None:
    h.runtime.fail_create = RuntimeFailure("docker create failed: daemon exploded")
    h.run(request())
    record = h.store.require("job-1")
    assert (record.failure_reason or "").startswith("InternalServerError: docker create failed")
    assert record.owner is None


def test_user_stop_sends_sigterm_and_uploads_what_was_saved(h: Harness) -> None:
    h.program("fake/ok:latest", duration=100, files={"model/saved.txt": "s"})

    def stop_while_training(now: float) -> None:
        if h.store.require("job-1").secondary_status == "Training":
            service.request_stop(h.store, "job-1", h.clock)

    h.on_wait(stop_while_training)
    h.run(request())
    record = h.store.require("job-1")
    assert (record.status, record.secondary_status) == ("Stopped", "Stopped")
    assert h.statuses() == ["Starting", "Downloading", "Training", "Stopping", "Stopped"]
    assert next(iter(h.runtime.containers.values())).signals == ["SIGTERM"]
    assert _names(h.artifact()) == ["saved.txt"]


def test_container_ignoring_sigterm_is_killed_after_the_grace_period(h: Harness) -> None:
    h.program("fake/stubborn:latest", duration=10_000, ignores_sigterm=True)
    stopped_at: list[float] = []

    def stop_once(now: float) -> None:
        if not stopped_at:
            stopped_at.append(now)
            service.request_stop(h.store, "job-1", h.clock)

    h.on_wait(stop_once)
    h.run(
        request(
            AlgorithmSpecification={
                "TrainingImage": "fake/stubborn:latest",
                "TrainingInputMode": "File",
            }
        )
    )
    container = next(iter(h.runtime.containers.values()))
    assert container.signals == ["SIGTERM", "SIGKILL"]
    assert h.store.require("job-1").exit_code == SIGKILL_EXIT
    assert h.clock.now() - stopped_at[0] >= 120  # the full grace period passed first


def test_max_runtime_exceeded(h: Harness) -> None:
    h.program("fake/long:latest", duration=10_000)
    h.run(
        request(
            AlgorithmSpecification={
                "TrainingImage": "fake/long:latest",
                "TrainingInputMode": "File",
            },
            StoppingCondition={"MaxRuntimeInSeconds": 60},
        )
    )
    record = h.store.require("job-1")
    assert (record.status, record.secondary_status) == ("Stopped", "MaxRuntimeExceeded")
    assert h.statuses()[-2:] == ["Stopping", "MaxRuntimeExceeded"]
    assert record.training_start_time is not None
    assert 60 <= (record.training_end_time or 0) - record.training_start_time < 62


def test_stop_before_the_container_starts_skips_training(h: Harness) -> None:
    supervisor = h.supervisor(request())
    service.request_stop(h.store, "job-1", h.clock)
    supervisor.run()
    record = h.store.require("job-1")
    assert record.secondary_status == "Stopped"
    assert h.statuses() == ["Starting", "Stopping", "Stopped"]
    assert h.runtime.containers == {}
    assert not h.artifact().exists()


def test_cleanup_removes_container_workspace_and_lease(h: Harness) -> None:
    h.run(request())
    assert all(c.removed for c in h.runtime.containers.values())
    assert not (h.settings.jobs_root / "job-1" / "algo-1").exists()
    assert (h.settings.jobs_root / "job-1" / "logs" / "algo-1.log").exists()
    assert h.store.require("job-1").owner is None


def test_logs_are_written_with_timestamps(h: Harness) -> None:
    h.run(request())
    lines = (h.settings.jobs_root / "job-1" / "logs" / "algo-1.log").read_text().splitlines()
    assert [line.split("\t", 1)[1] for line in lines] == ["epoch 1", "epoch 2"]


# -- adoption: a supervisor that died is replaced ------------------------------------------


def _orphan_in_training(h: Harness, log_lines: int) -> None:
    """Start a job, then abandon it mid-training as a killed process would."""
    supervisor = h.supervisor(request())

    def die(now: float) -> None:
        raise Died

    h.on_wait(die)
    with pytest.raises(Died):
        supervisor.run()
    del h.runtime.wait  # the class's own wait again
    supervisor.heartbeat.stop()
    assert supervisor.host is not None
    pump = supervisor.host.runners[0].pump
    assert pump is not None
    pump.join()
    log = h.ctx.log_path("job-1")
    kept = log.read_text().splitlines(keepends=True)[:log_lines]
    log.write_text("".join(kept) + "1700000000.0\tepoch (torn")  # died mid-write
    h.store.release("job-1", "test-owner")


def test_adoption_finishes_the_job_without_duplicating_log_lines(h: Harness) -> None:
    _orphan_in_training(h, log_lines=1)
    assert h.store.claim("job-1", "adopter", h.clock.now(), 30)  # as an adopting engine does
    record = h.store.require("job-1")
    Supervisor(h.ctx, job_spec(record.request, record.arn), "adopter").adopt(record)
    assert h.store.require("job-1").secondary_status == "Completed"
    lines = h.ctx.log_path("job-1").read_text().splitlines()
    assert [line.split("\t", 1)[1] for line in lines] == ["epoch 1", "epoch 2"]


def test_adopting_a_job_whose_container_is_gone_fails_it_clearly(h: Harness) -> None:
    _orphan_in_training(h, log_lines=2)
    for container in h.runtime.containers.values():
        container.removed = True
    engine = Engine(h.ctx)
    assert engine.recover() == ["job-1"]
    engine.join()
    record = h.store.require("job-1")
    assert record.status == "Failed"
    reason = record.failure_reason or ""
    assert reason.startswith("InternalServerError: the training container of algo-1")
    assert "is gone" in reason


def test_a_live_owner_is_never_displaced(h: Harness) -> None:
    h.supervisor(request())
    assert Engine(h.ctx).adopt("job-1") is False
