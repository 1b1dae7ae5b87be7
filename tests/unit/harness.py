"""A fake-runtime engine on a fake clock: the engine's paths in milliseconds."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from orchestrator.clock import FakeClock
from orchestrator.config import Settings
from orchestrator.engine.context import EngineContext
from orchestrator.engine.engine import Engine
from orchestrator.engine.supervisor import Supervisor
from orchestrator.operations import training_jobs
from orchestrator.operations.training_jobs import training_job_arn
from orchestrator.runtime.fake import FakeProgram, FakeRuntime
from orchestrator.spec import job_spec
from orchestrator.storage.local import LocalObjectStore
from orchestrator.store.db import Database
from orchestrator.store.jobs import JobRecord, JobStore
from orchestrator.store.metrics import MetricStore
from orchestrator.validation.training_job import validate_create_training_job

BASE_REQUEST: dict[str, Any] = {
    "TrainingJobName": "job-1",
    "RoleArn": "arn:aws:iam::123456789012:role/SageMakerRole",
    "AlgorithmSpecification": {"TrainingImage": "fake/ok:latest", "TrainingInputMode": "File"},
    "HyperParameters": {"epochs": "3"},
    "InputDataConfig": [
        {
            "ChannelName": "train",
            "DataSource": {
                "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://bucket/data/train"}
            },
        }
    ],
    "OutputDataConfig": {"S3OutputPath": "s3://bucket/output"},
    "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
    "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
}


def request(**changes: Any) -> dict[str, Any]:
    """A valid CreateTrainingJob request with top-level fields replaced."""
    result = copy.deepcopy(BASE_REQUEST)
    result.update(changes)
    return result


class Harness:
    def __init__(self, tmp: Path, grace: float = 120.0, **settings: Any) -> None:
        self.clock = FakeClock()
        self.settings = Settings(
            home=tmp / "home", stop_grace_seconds=grace, poll_seconds=1.0, **settings
        )
        database = Database(self.settings.database_path)
        self.store = JobStore(database)
        self.metrics = MetricStore(database)
        self.objects = LocalObjectStore(self.settings.object_store_root)
        self.runtime = FakeRuntime(self.clock)
        self.ctx = EngineContext(
            self.settings, self.store, self.runtime, self.objects, self.clock, self.metrics
        )
        data = self.settings.object_store_root / "bucket" / "data" / "train"
        data.mkdir(parents=True)
        (data / "part-0.csv").write_text("x,y\n1,2\n")

    def program(self, image: str, **kwargs: Any) -> FakeProgram:
        self.runtime.programs[image] = FakeProgram(**kwargs)
        return self.runtime.programs[image]

    def on_wait(self, hook: Callable[[float], None]) -> None:
        """Run `hook(now)` each time the supervisor polls the container."""
        original = self.runtime.wait

        def wait(container_id: str, timeout: float) -> Any:
            hook(self.clock.now())
            return original(container_id, timeout)

        self.runtime.wait = wait  # type: ignore[method-assign]

    def supervisor(self, req: dict[str, Any]) -> Supervisor:
        validate_create_training_job(req)
        name = req["TrainingJobName"]
        arn = training_job_arn("us-east-1", "123456789012", name)
        self.store.insert(name, arn, req, self.clock.now())
        self.store.claim(name, "test-owner", self.clock.now(), 30)
        return Supervisor(self.ctx, job_spec(req, arn), "test-owner")

    def create(self, engine: Engine, req: dict[str, Any]) -> str:
        """CreateTrainingJob through the operations layer, run by `engine`."""
        spec = training_jobs.create(self.store, self.settings, self.clock, engine.owner, req)
        engine.submit(spec)
        return spec.arn

    def run(self, req: dict[str, Any]) -> Supervisor:
        supervisor = self.supervisor(req)
        supervisor.run()
        return supervisor

    def statuses(self, name: str = "job-1") -> list[str]:
        return [t.status for t in self.store.transitions(name)]

    def artifact(self, name: str = "job-1", file: str = "model.tar.gz") -> Path:
        return self.settings.object_store_root / "bucket" / "output" / name / "output" / file


class Died(BaseException):
    """The supervising process was killed: nothing of it runs on, nothing is cleaned up."""


def killed(h: Harness, supervisor: Supervisor, name: str = "job-1") -> None:
    """Run `supervisor` until a hook raises Died, then leave things as a killed process does:
    no clean-up, and a lease that has run out."""
    try:
        supervisor.run()
    except Died:
        pass
    else:
        raise AssertionError("the supervisor was expected to die")
    supervisor.heartbeat.stop()
    h.store.release(name, "test-owner")


def recovered(h: Harness, name: str = "job-1") -> JobRecord:
    """A new engine adopts the orphan and finishes it; the job's record after."""
    engine = Engine(h.ctx)
    assert engine.recover() == [name]
    engine.join(timeout=30)
    return h.store.require(name)


def until(condition: Callable[[], bool], bound: float = 30.0) -> None:
    """Wait for an event the supervisor threads cause, with a generous real-time bound."""
    deadline = time.monotonic() + bound
    while not condition():
        assert time.monotonic() < deadline, "the event never happened"
        time.sleep(0.001)  # yield to the supervisor threads; the condition is the sync
