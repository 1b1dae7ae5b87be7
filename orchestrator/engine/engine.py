"""The embedded engine: accepts jobs, runs one supervisor thread each, adopts orphans."""

from __future__ import annotations

import logging
import os
import threading
import uuid

from orchestrator import service
from orchestrator.engine.context import EngineContext
from orchestrator.engine.logs import LineCallback
from orchestrator.engine.supervisor import Supervisor
from orchestrator.errors import RuntimeFailure, ValidationError, training_job_not_found
from orchestrator.lifecycle import is_terminal
from orchestrator.runtime.protocol import LABEL_JOB, LABEL_STORE
from orchestrator.spec import JobSpec
from orchestrator.store.jobs import JobRecord
from orchestrator.validation.training_job import job_spec, validate_create_training_job

log = logging.getLogger(__name__)


def training_job_arn(region: str, account: str, name: str) -> str:
    # The service lower-cases the name in the ARN.
    return f"arn:aws:sagemaker:{region}:{account}:training-job/{name.lower()}"


class Engine:
    """Runs training jobs in this process, one supervisor thread per job."""

    def __init__(self, ctx: EngineContext) -> None:
        self.ctx = ctx
        self.owner = f"{os.uname().nodename}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._threads: dict[str, threading.Thread] = {}

    def create_training_job(
        self, request: dict[str, object], on_line: LineCallback | None = None
    ) -> str:
        """Validate, store and start a job; return its ARN. The job runs in the background."""
        validate_create_training_job(request)
        settings = self.ctx.settings
        name = str(request["TrainingJobName"])
        arn = training_job_arn(settings.region, settings.account_id, name)
        spec = job_spec(request, arn)
        self.ctx.store.insert(name, arn, dict(request), self.ctx.clock.now())
        self.ctx.store.claim(name, self.owner, self.ctx.clock.now(), settings.lease_seconds)
        supervisor = Supervisor(self.ctx, spec, self.owner, on_line)
        self._spawn(name, supervisor.run)
        return arn

    def _spawn(self, name: str, target: object) -> None:
        thread = threading.Thread(target=target, name=f"job-{name}", daemon=True)  # type: ignore[arg-type]
        self._threads[name] = thread
        thread.start()

    def stop_training_job(self, name: str) -> None:
        service.request_stop(self.ctx.store, name, self.ctx.clock)
        record = self.ctx.store.require(name)
        if name not in self._threads and self._is_orphan(record):
            self.adopt(name)  # nobody else will act on the stop

    def _is_orphan(self, record: JobRecord) -> bool:
        now = self.ctx.clock.now()
        return not is_terminal(record.secondary) and not record.has_live_owner(now)

    def adopt(self, name: str, on_line: LineCallback | None = None) -> bool:
        """Take over a job whose supervisor died; False if it has a live owner or ended."""
        record = self.ctx.store.get(name)
        if record is None:
            raise training_job_not_found(name)
        if not self._is_orphan(record):
            return False
        if not self.ctx.store.claim(
            name, self.owner, self.ctx.clock.now(), self.ctx.settings.lease_seconds
        ):
            return False
        spec: JobSpec = job_spec(record.request, record.arn)
        supervisor = Supervisor(self.ctx, spec, self.owner, on_line)
        self._spawn(name, lambda: supervisor.adopt(record))
        return True

    def recover(self) -> list[str]:
        """Adopt every orphaned job of this store and reap containers of ended jobs."""
        adopted = [
            r.name for r in self.ctx.store.orphans(self.ctx.clock.now()) if self.adopt(r.name)
        ]
        self.reap()
        return adopted

    def reap(self) -> int:
        """Remove this store's containers whose job has ended or does not exist."""
        removed = 0
        store_label = {LABEL_STORE: str(self.ctx.settings.database_path)}
        for container in self.ctx.runtime.find(store_label):
            record = self.ctx.store.get(container.labels.get(LABEL_JOB, ""))
            if record is None or is_terminal(record.secondary):
                try:
                    self.ctx.runtime.remove(container.id)
                    removed += 1
                except RuntimeFailure:
                    log.warning("could not remove leftover container %s", container.id)
        return removed

    def wait(self, name: str, timeout: float | None = None) -> JobRecord:
        """Block until this engine's supervisor for `name` has finished."""
        thread = self._threads.get(name)
        if thread is None:
            raise ValidationError(f"training job {name!r} is not run by this engine")
        thread.join(timeout)
        return self.ctx.store.require(name)

    def running(self) -> list[str]:
        return [name for name, thread in self._threads.items() if thread.is_alive()]

    def join(self, timeout: float | None = None) -> None:
        for thread in list(self._threads.values()):
            thread.join(timeout)
