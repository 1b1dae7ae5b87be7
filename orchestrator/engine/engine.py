"""The embedded engine: one supervisor thread per job, and a loop that keeps the store tidy.

Every engine process (`serve`, `run`, the Python API) runs the loop: it adopts jobs whose
owner died (where this engine takes on others' jobs), and reaps what ended jobs and replaced
attempts left behind: containers and capacity shares. Jobs waiting for capacity are started
by their own supervisors as soon as the shared ledger grants them a share.
"""

from __future__ import annotations

import logging
import os
import threading
import uuid
from collections.abc import Callable

from orchestrator.engine.context import EngineContext
from orchestrator.engine.logs import HostLineCallback
from orchestrator.engine.supervisor import Supervisor
from orchestrator.engine.warmpools import expire_pools
from orchestrator.errors import RuntimeFailure, ValidationError, training_job_not_found
from orchestrator.lifecycle import is_terminal
from orchestrator.processing_spec import spec_of
from orchestrator.runtime.protocol import LABEL_ATTEMPT, LABEL_JOB, LABEL_STORE
from orchestrator.spec import JobSpec
from orchestrator.store.jobs import JobRecord

log = logging.getLogger(__name__)


def new_owner() -> str:
    """An engine's identity in the store's leases: host, process, and a random part."""
    return f"{os.uname().nodename}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Engine:
    """Runs training jobs in this process, one supervisor thread per job."""

    def __init__(self, ctx: EngineContext, adopt_orphans: bool = True) -> None:
        self.ctx = ctx
        self.adopt_orphans = adopt_orphans
        self.owner = new_owner()
        self._threads: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._loop: threading.Thread | None = None
        # More work of each tick, given by the process (monitoring schedules in `serve`).
        self.tick_hooks: list[Callable[[], None]] = []

    # -- jobs ------------------------------------------------------------------------------

    def submit(self, spec: JobSpec, on_line: HostLineCallback | None = None) -> None:
        """Run a job that was stored with this engine as its owner."""
        supervisor = Supervisor(self.ctx, spec, self.owner, on_line)
        self._spawn(spec.name, supervisor.run)

    def _spawn(self, name: str, target: object) -> None:
        thread = threading.Thread(target=target, name=f"job-{name}", daemon=True)  # type: ignore[arg-type]
        self._threads[name] = thread
        thread.start()

    def _is_orphan(self, record: JobRecord) -> bool:
        now = self.ctx.clock.now()
        return not is_terminal(record.secondary) and not record.has_live_owner(now)

    def adopt(self, name: str, on_line: HostLineCallback | None = None) -> bool:
        """Take over a job whose supervisor died; False if it has a live owner or ended."""
        with self._lock:  # the loop, a stop and `recover` may race to adopt the same job
            thread = self._threads.get(name)
            if thread is not None and thread.is_alive():
                return False  # ours already: a late heartbeat is not an orphan
            record = self.ctx.store.get(name)
            if record is None:
                raise training_job_not_found(name)
            if not self._is_orphan(record) or not self.ctx.store.claim(
                name, self.owner, self.ctx.clock.now(), self.ctx.settings.lease_seconds
            ):
                return False
            record = self.ctx.store.require(name)  # as it was when claimed
            spec = spec_of(record)
            supervisor = Supervisor(self.ctx, spec, self.owner, on_line)
            self._spawn(name, lambda: supervisor.adopt(record))
        return True

    def take_over_if_orphan(self, name: str) -> bool:
        """After a stop request: a job nobody supervises is adopted, so the stop happens."""
        record = self.ctx.store.require(name)
        return name not in self._threads and self._is_orphan(record) and self.adopt(name)

    def recover(self) -> list[str]:
        """Adopt every orphaned job of this store and reap what ended jobs left."""
        adopted = [
            r.name for r in self.ctx.store.orphans(self.ctx.clock.now()) if self.adopt(r.name)
        ]
        self.reap()
        return adopted

    # -- the loop --------------------------------------------------------------------------

    def start_loop(self) -> None:
        """Tick in the background (real time: the loop is housekeeping, not a deadline)."""
        if self._loop is None:
            self._loop = threading.Thread(target=self._run_loop, name="engine-loop", daemon=True)
            self._loop.start()

    def _run_loop(self) -> None:
        while not self._closing.wait(self.ctx.settings.tick_seconds):
            try:
                self.tick()
            except Exception:  # the loop outlives a bad tick (a busy store, a slow daemon)
                log.exception("engine tick failed")

    def tick(self) -> None:
        """One pass: adopt orphans (if this engine takes them on), end warm pools whose period
        ran out, reap leftovers."""
        if self.adopt_orphans:
            for record in self.ctx.store.orphans(self.ctx.clock.now()):
                self.adopt(record.name)
        expire_pools(self.ctx.pools, self.ctx.clock.now())
        self.reap()
        for hook in self.tick_hooks:
            try:
                hook()
            except Exception:  # one failing hook must not stop the housekeeping
                log.exception("engine tick hook failed")

    def reap(self) -> int:
        """Remove this store's containers whose job ended (or is gone) or whose attempt was
        replaced, then such networks (once their containers are gone), and the capacity
        shares of ended jobs."""
        removed = 0
        store_label = {LABEL_STORE: str(self.ctx.settings.database_path)}
        for container in self.ctx.runtime.find(store_label):
            if self._leftover(container.labels):
                try:
                    self.ctx.runtime.remove(container.id)
                    removed += 1
                except RuntimeFailure:
                    log.warning("could not remove leftover container %s", container.id)
        for network in self.ctx.runtime.find_networks(store_label):
            if self._leftover(network.labels):
                try:
                    self.ctx.runtime.remove_network(network.id)
                    removed += 1
                except RuntimeFailure:  # a container still on it: the next tick
                    log.warning("could not remove leftover network %s", network.name)
        self.ctx.ledger.reap()
        return removed

    def _leftover(self, labels: dict[str, str]) -> bool:
        record = self.ctx.store.get(labels.get(LABEL_JOB, ""))
        if record is None or is_terminal(record.secondary):
            return True
        attempt = labels.get(LABEL_ATTEMPT, "")
        return attempt.isdigit() and int(attempt) < record.attempt

    def close(self) -> None:
        self._closing.set()

    # -- waiting ---------------------------------------------------------------------------

    def wait(self, name: str, timeout: float | None = None) -> JobRecord:
        """Block until this engine's supervisor for `name` has finished."""
        thread = self._threads.get(name)
        if thread is None:
            raise ValidationError(f"training job {name!r} is not run by this engine")
        thread.join(timeout)
        return self.ctx.store.require(name)

    def supervises(self, name: str) -> bool:
        return name in self._threads

    def running(self) -> list[str]:
        return [name for name, thread in list(self._threads.items()) if thread.is_alive()]

    def join(self, timeout: float | None = None) -> None:
        for thread in list(self._threads.values()):
            thread.join(timeout)
