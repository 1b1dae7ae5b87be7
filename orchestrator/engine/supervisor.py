"""One supervisor per job: runs its attempts, each placed, prepared, downloaded, trained.

The lifecycle module decides which moves are legal, whether a failure is retried and when a
deadline has passed; failures.py decides what a failure is; the store applies moves
compare-and-set. A stop is a move to Stopping made by anyone (this process or another
terminal); the supervisor notices it when its own next move loses the race, or when it polls.
"""

from __future__ import annotations

import contextlib
import logging
import random
from collections.abc import Callable, Iterator
from typing import Any

from orchestrator.capacity import (
    Capacity,
    Demand,
    demand_of_groups,
    gpu_shortfall,
    never_fits,
    never_placed,
)
from orchestrator.engine.context import EngineContext
from orchestrator.engine.heartbeat import Heartbeat
from orchestrator.engine.hostgroup import HostGroup
from orchestrator.engine.logs import HostLineCallback
from orchestrator.engine.outputs import upload_results
from orchestrator.engine.warmpools import reclaim_one, settle_pool, take_pool
from orchestrator.errors import (
    ContainerGone,
    InjectedFault,
    NoCapacity,
    RuntimeFailure,
    StorageFailure,
)
from orchestrator.failures import Failure, from_exception, from_exit
from orchestrator.instances import resources_of
from orchestrator.lifecycle import (
    INTERRUPTED_MESSAGE,
    MESSAGES,
    STOP_MESSAGES,
    Clocks,
    IllegalTransition,
    Limits,
    Secondary,
    StopCause,
    expired,
    is_terminal,
    limit_reached,
    pending_deadline,
    restart_message,
    retry_message,
    running_seconds,
    should_retry,
    stopped_status,
)
from orchestrator.runtime.protocol import ExitStatus
from orchestrator.spec import JobSpec
from orchestrator.store.jobs import JobRecord
from orchestrator.store.pools import WarmPool

log = logging.getLogger(__name__)

PREPARING = "Preparing the instances for training."


@contextlib.contextmanager
def _logged(what: str) -> Iterator[None]:
    """Clean-up steps log their failure and let the next step run."""
    try:
        yield
    except Exception:
        log.exception("failed %s", what)


Step = Callable[[], ExitStatus]


class StopRequested(Exception):
    """Someone moved the job to Stopping; the supervisor switches to the stop path."""


class LostLease(Exception):
    """Another engine took this job over; this supervisor must touch nothing more."""


class SpotInterruption(Exception):
    """The spot capacity was reclaimed: the attempt ends, the job restarts (not a failure)."""


class Supervisor:
    def __init__(
        self,
        ctx: EngineContext,
        spec: JobSpec,
        owner: str,
        on_line: HostLineCallback | None = None,
    ) -> None:
        self.ctx = ctx
        self.spec = spec
        self.owner = owner
        self.on_line = on_line
        self.current = Secondary.STARTING
        self.attempt = 1
        self.retries = 0
        self.adopted = False
        self.limits = Limits(spec.max_runtime_seconds, spec.max_wait_seconds, spec.spot)
        self.chance = random.Random(f"{ctx.settings.spot_seed}:{spec.name}")
        self.host: HostGroup | None = None
        self.pool: WarmPool | None = None
        self._pool_settled = False
        self.gpu_note: str | None = None  # a GPU shortfall, said in the Starting message
        self.reused_from: str | None = None
        self.heartbeat = Heartbeat(
            ctx.store, spec.name, owner, ctx.clock, ctx.settings.lease_seconds
        )

    # -- entry points ----------------------------------------------------------------------

    def run(self) -> None:
        """Drive a new job from Starting to a terminal status."""
        self._guarded(lambda: self._drive(self._attempt))

    def adopt(self, record: JobRecord) -> None:
        """Finish a job whose supervisor died, from where the store says it was."""
        self.current = record.secondary
        self.attempt = record.attempt
        self.retries = record.retries
        self.adopted = True
        pool = self.ctx.pools.of_job(record.name) if record.pool_id else None
        held = pool is not None and pool.status == "InUse" and pool.holder == record.name
        self.pool = pool if held else None
        self._guarded(lambda: self._drive(self._resumption(record)))

    def _guarded(self, body: Callable[[], None]) -> None:
        self.heartbeat.start()
        try:
            body()
        except LostLease:
            log.warning("job %s was taken over by another engine", self.spec.name)
            if self.host is not None:
                self.host.abandon()
            self.heartbeat.stop()
            return  # the new owner has the container, the workspace and the share
        except Exception as exc:  # last resort: a job never stays InProgress with no owner
            log.exception("supervisor of %s failed", self.spec.name)
            with _logged(f"failing {self.spec.name}"):
                self._fail(from_exception(exc).reason)
        self._cleanup()

    # -- attempts --------------------------------------------------------------------------

    def _drive(self, step: Step) -> None:
        """Run attempts until one ends the job: completed, failed for good, or stopped."""
        while True:
            try:
                self._finish(step())
                return
            except StopRequested:
                self._finish_stopped()
                return
            except SpotInterruption:
                try:
                    self._restart_after_interruption()
                    step = self._attempt
                    continue
                except StopRequested:
                    self._finish_stopped()
                    return
                except LostLease:
                    raise
                except Exception as exc:  # the last checkpoints not saved, a fault: retried
                    failure = from_exception(exc)
            except LostLease:
                raise
            except Exception as exc:
                failure = from_exception(exc)
            if self.current == Secondary.STOPPING:  # stopping anyway: end as the stop says
                log.info("job %s failed while stopping: %s", self.spec.name, failure.reason)
                self._finish_stopped()
                return
            if not should_retry(failure.retryable, self.retries, self.spec.max_retry_attempts):
                self._fail(failure.reason)
                return
            try:
                self._begin_retry(failure)
            except StopRequested:
                self._finish_stopped()
                return
            step = self._attempt

    def _begin_retry(self, failure: Failure) -> None:
        """Close the failed attempt and go back to Starting as the next one (persisted, so an
        engine killed between attempts continues the count)."""
        log.info("job %s attempt %d failed: %s", self.spec.name, self.attempt, failure.reason)
        self._close_host()
        self._account_run()
        following, retry = self.attempt + 1, self.retries + 1
        message = retry_message(retry, self.spec.max_retry_attempts, following, failure.reason)
        # A fault was aimed at the attempt that failed: the next one starts without it.
        self._advance(
            Secondary.STARTING,
            message,
            attempt=following,
            retries=retry,
            fault=None,
            fault_at=None,
        )
        self.attempt, self.retries = following, retry

    def _restart_after_interruption(self) -> None:
        """Interrupted, SIGTERM and the grace period, the last checkpoints synced; then, after
        the recapture delay, Starting again as a new attempt that restores them."""
        host = self._require_host()
        host.stop(self.ctx.settings.stop_grace_seconds)
        host.drain()
        host.finish_sync()  # the last checkpoints, for the next attempt to restore
        self._close_host()
        self._account_run()
        # The fault is cleared only now: an engine dying in the grace period leaves it for
        # its adopter, which then finishes the interruption instead of judging the exit code.
        self._advance(Secondary.INTERRUPTED, INTERRUPTED_MESSAGE, fault=None, fault_at=None)
        self._start_after_recapture()

    def _start_after_recapture(self) -> None:
        self._recapture()
        following = self.attempt + 1
        self._advance(Secondary.STARTING, restart_message(following), attempt=following)
        self.attempt = following

    def _resume_interrupted(self) -> ExitStatus:
        """Adopted while Interrupted: the recapture wait goes on, then the next attempt."""
        self._start_after_recapture()
        return self._attempt()

    def _recapture(self) -> None:
        """Wait for spot capacity to come back, as a stop or MaxWait may end the wait."""
        waited, pause = 0.0, self.ctx.settings.poll_seconds
        while waited < self.ctx.settings.spot_recapture_seconds:
            self._check_interrupts()
            self.ctx.clock.sleep(pause)
            waited += pause

    def _account_run(self) -> float:
        """Close the current attempt's training time into the job's; the total."""
        record = self.ctx.store.require(self.spec.name)
        now = self.ctx.clock.now()
        total = running_seconds(record.run_seconds, record.attempt_training_at, now)
        if record.attempt_training_at is not None:
            self.ctx.store.update(self.spec.name, run_seconds=total, attempt_training_at=None)
        return total

    def _billing(self) -> dict[str, Any]:
        """A spot job is billed its training time less the (simulated) spot discount."""
        total = self._account_run()
        if not self.spec.spot:
            return {}
        return {"billable_seconds": total * (1 - self.ctx.settings.spot_discount)}

    def _attempt(self) -> ExitStatus:
        if self.current != Secondary.DOWNLOADING:  # an adopted download was placed already
            self._place()
        self.host = self._host_group()
        if self.current == Secondary.STARTING and self.attempt == 1:
            self._message(self._preparing())  # a retry's Starting keeps saying why
        self.host.prepare()
        if self.current != Secondary.DOWNLOADING:  # an adopted attempt may be there already
            record = self.ctx.store.require(self.spec.name)
            start = record.training_start_time or self.ctx.clock.now()
            self._advance(Secondary.DOWNLOADING, training_start_time=start)
        self.host.download(self._check_interrupts)
        self._advance(
            Secondary.TRAINING,
            "Downloading the training image.",
            attempt_training_at=self.ctx.clock.now(),
        )
        self.host.launch(replace_leftovers=self.adopted)
        self._message(MESSAGES[Secondary.TRAINING])
        return self._watch()

    # -- placement: Pending until the host has room ---------------------------------------

    def _granted(self, demand: Demand, capacity: Capacity) -> bool:
        """Ask the ledger for the job's share; idle warm pools yield to a job that needs room."""
        while True:
            now = self.ctx.clock.now()
            hosts = [(h.name, h.instance_type) for h in self.spec.hosts]
            if self.ctx.ledger.request(self.spec.name, demand, capacity, now, hosts) is not None:
                return True
            if not self.ctx.ledger.may_reclaim(self.spec.name, demand, capacity, now):
                return False  # running or earlier jobs are in the way, not idle pools
            if not reclaim_one(self.ctx, wants_gpus=demand.gpus > 0):
                return False

    def _host_group(self) -> HostGroup:
        # The ledger says which GPUs are the job's, also to an engine that adopted it.
        gpus = self.ctx.ledger.gpus_of(self.spec.name)
        placement = self.ctx.ledger.placement_of(self.spec.name)
        return HostGroup(
            self.ctx, self.spec, self.attempt, gpus, self.on_line, self.pool, placement
        )

    def _preparing(self) -> str:
        text = PREPARING
        if self.reused_from is not None:
            text = (
                "Preparing the instances for training: reusing the warm pool"
                f" {self.reused_from} left."
            )
        return f"{text} {self.gpu_note}" if self.gpu_note else text

    def _place(self) -> None:
        if self.spec.keep_alive_seconds and self.pool is None:
            self.pool, reused = take_pool(self.ctx, self.spec)
            self.reused_from = self.pool.holder if reused else None
        groups = [(g.instance_type, g.count) for g in self.spec.groups]
        wants_gpus = any(resources_of(instance_type).gpus for instance_type, _ in groups)
        capacity = self.ctx.capacity(with_gpus=wants_gpus)
        demand = demand_of_groups(groups, capacity)
        impossible = never_fits(demand, capacity)
        if capacity.nodes and not impossible:
            hosts = [(h.name, h.instance_type) for h in self.spec.hosts]
            impossible = never_placed(hosts, capacity.nodes, capacity.strict_gpus)
        if impossible:
            raise NoCapacity(impossible)
        asking = self.spec.instance_type
        if len(groups) > 1:
            asking = "The cluster"
        elif self.spec.instance_count > 1:
            asking = f"The cluster ({self.spec.instance_count} x {self.spec.instance_type})"
        self.gpu_note = gpu_shortfall(asking, demand, capacity)
        if self._granted(demand, capacity):
            if self.current == Secondary.PENDING:  # adopted while waiting: room now
                self._advance(Secondary.STARTING, PREPARING)
            return
        if self.current != Secondary.PENDING:
            self._advance(
                Secondary.PENDING,
                f"Waiting for capacity: the job needs {demand.describe()}; this host offers"
                f" {capacity.describe()} and other jobs hold or wait for it.",
                pending_since=self.ctx.clock.now(),
            )
        record = self.ctx.store.require(self.spec.name)
        since = record.pending_since or self.ctx.clock.now()
        deadline = pending_deadline(since, self.spec.max_pending_seconds)
        while not self._granted(demand, capacity):
            self._check_interrupts()
            if expired(deadline, self.ctx.clock.now()):
                self._request_own_stop(StopCause.MAX_PENDING)
                raise StopRequested
            self.ctx.clock.sleep(self.ctx.settings.poll_seconds)
        self._advance(Secondary.STARTING, PREPARING)

    # -- watching: exit, stop request, fault, deadline --------------------------------------

    def _watch(self) -> ExitStatus:
        host = self._require_host()
        grace = self.ctx.settings.stop_grace_seconds
        while True:
            status = host.wait(self.ctx.settings.poll_seconds)
            if status is not None:
                if host.input_error is not None:  # it ran on a stream that broke off
                    raise host.input_error
                return status
            record = self._current_record()
            if self.current == Secondary.STOPPING or record.secondary == Secondary.STOPPING:
                self.current = Secondary.STOPPING
                return host.stop(grace)
            self._check_fault(record)
            if host.sync_error is not None:  # checkpoints or outputs that cannot be saved
                host.kill()
                raise host.sync_error
            if host.input_error is not None:  # a Pipe channel's data could not be streamed
                host.kill()
                raise host.input_error
            cause = self._limit(record)
            if cause is not None:
                self._request_own_stop(cause)
                return host.stop(grace)
            if self._randomly_interrupted():
                now = self.ctx.clock.now()  # stored, so an adopter finishes it too
                self.ctx.store.update(self.spec.name, fault="spot-interruption", fault_at=now)
                raise SpotInterruption

    def _limit(self, record: JobRecord) -> StopCause | None:
        clocks = Clocks(
            record.creation_time,
            record.training_start_time,
            record.run_seconds,
            record.attempt_training_at,
        )
        return limit_reached(self.limits, clocks, self.ctx.clock.now())

    def _randomly_interrupted(self) -> bool:
        """ORCHESTRATOR_SPOT_INTERRUPTIONS_PER_HOUR: a seeded chance at each poll, for soaks."""
        rate = self.ctx.settings.spot_interruptions_per_hour
        if not self.spec.spot or rate <= 0:
            return False
        return self.chance.random() < rate * self.ctx.settings.poll_seconds / 3600

    def _current_record(self) -> JobRecord:
        """The job as the store has it now; LostLease if another engine took it."""
        record = self.ctx.store.require(self.spec.name)
        if self.heartbeat.lost or record.owner != self.owner:
            raise LostLease
        return record

    def _check_interrupts(self) -> None:
        """Between steps: a stop request, an injected fault, a lost lease."""
        record = self._current_record()
        if record.secondary == Secondary.STOPPING:
            self.current = Secondary.STOPPING
            raise StopRequested
        self._check_fault(record)
        cause = self._limit(record)  # MaxWait, and MaxRuntime during a retry's set-up
        if cause is not None:
            self._request_own_stop(cause)
            raise StopRequested

    def _check_fault(self, record: JobRecord) -> None:
        if record.fault is None or (record.fault_at or 0.0) > self.ctx.clock.now():
            return
        if record.fault == "spot-interruption":
            if self.current != Secondary.TRAINING:
                return  # capacity is reclaimed from a running instance: wait until then
            raise SpotInterruption  # cleared with the move to Interrupted
        self.ctx.store.update(self.spec.name, fault=None, fault_at=None)
        if self.host is not None:
            self.host.kill()
        raise InjectedFault(
            f"an injected {record.fault} fault ended attempt {self.attempt} in {self.current.value}"
        )

    def _interruption_pending(self) -> bool:
        record = self.ctx.store.require(self.spec.name)
        due = (record.fault_at or 0.0) <= self.ctx.clock.now()
        return record.fault == "spot-interruption" and due

    def _request_own_stop(self, cause: StopCause) -> None:
        with contextlib.suppress(StopRequested):  # a user stop got there first; it wins
            self._advance(Secondary.STOPPING, STOP_MESSAGES[cause], stop_cause=cause.value)

    # -- finishing -------------------------------------------------------------------------

    def _finish(self, status: ExitStatus) -> None:
        host = self._require_host()
        if self.current == Secondary.TRAINING and self._interruption_pending():
            raise SpotInterruption  # an adopter finishing an interruption its owner began
        host.drain()
        host.record_exit(status)
        host.finish_sync()  # the last checkpoints are at S3Uri before the job says it ended
        self.ctx.store.update(self.spec.name, exit_code=status.code)
        if self.current == Secondary.STOPPING:
            raise StopRequested
        if self.current != Secondary.UPLOADING:  # an adopter may find it uploading already
            self._advance(Secondary.UPLOADING)
        artifacts = self._upload()
        # A processing job's /opt/ml/output/message is its ExitMessage, whatever the outcome.
        said = {"exit_message": host.failure_reason()} if self.spec.processing else {}
        if status.code == 0:
            self._end(Secondary.COMPLETED, model_artifacts=artifacts, **said)
            return
        named = host.failed_host if self.spec.distributed else None
        failure = from_exit(status, host.failure_reason(), named, self.spec.kind)
        self._end(
            Secondary.FAILED, failure_reason=failure.reason, model_artifacts=artifacts, **said
        )

    def _upload(self) -> str | None:
        return upload_results(self.ctx.objects, self.spec, self._require_host().workspaces)

    def _finish_stopped(self) -> None:
        """After a stop: upload what the container saved, then Stopped or MaxRuntimeExceeded."""
        artifacts = None
        if self.host is not None and self.host.started:
            self.host.drain()
            self._message("Uploading generated training model.")
            try:
                self.host.finish_sync()
                artifacts = self._upload()
            except StorageFailure as exc:
                self._fail(from_exception(exc).reason)
                return
        cause = self.ctx.store.require(self.spec.name).stop_cause
        message = STOP_MESSAGES[StopCause.MAX_PENDING] if cause == StopCause.MAX_PENDING else None
        self._end(stopped_status(cause), message, model_artifacts=artifacts)

    def _end(self, final: Secondary, message: str | None = None, **data: object) -> None:
        now = self.ctx.clock.now()
        self._advance(final, message, training_end_time=now, **self._billing(), **data)
        self._settle_pool()  # Available as the job ends, not once its host is cleaned up

    def _settle_pool(self) -> None:
        """Once per job: keep the warm pool Available for the next job, or end it."""
        if self.pool is None or self._pool_settled:
            return
        with _logged(f"settling the warm pool of {self.spec.name}"):
            launched = any(run.started for run in self.ctx.runs.of_job(self.spec.name))
            settle_pool(self.ctx, self.spec.name, self.owner, launched)
            self._pool_settled = True

    def _fail(self, reason: str) -> None:
        """Move to Failed from wherever the job is (Stopping too: the stop could not finish);
        never a job another engine owns or one that has ended. A container still running is
        removed first: once the job has ended its share (and its GPUs) is free for others."""
        if not self._failable():
            return
        with _logged(f"closing the host of {self.spec.name}"):
            self._close_host()
        for _ in range(3):
            record = self.ctx.store.get(self.spec.name)
            if record is None or not self._failable(record):
                return
            now = self.ctx.clock.now()
            if self.ctx.store.move(
                self.spec.name,
                record.secondary,
                Secondary.FAILED,
                now,
                failure_reason=reason[:1024],
                training_end_time=now,
                **self._billing(),
            ):
                self.current = Secondary.FAILED
                return

    def _failable(self, record: JobRecord | None = None) -> bool:
        """The job exists, has not ended, and no other engine owns it."""
        record = record or self.ctx.store.get(self.spec.name)
        if record is None or record.owner not in (None, self.owner):
            return False
        return not is_terminal(record.secondary)

    def _close_host(self) -> None:
        if self.host is not None:
            self.host.close()
            self.host = None

    def _cleanup(self) -> None:
        """Each step on its own: a failing one (a locked store) must not keep the lease alive."""
        with _logged(f"closing the host of {self.spec.name}"):
            self._close_host()
        self._settle_pool()
        with _logged(f"releasing the share of {self.spec.name}"):
            self.ctx.ledger.release(self.spec.name)
        self.heartbeat.stop()
        with _logged(f"releasing the lease of {self.spec.name}"):
            self.ctx.store.release(self.spec.name, self.owner)

    def _require_host(self) -> HostGroup:
        if self.host is None:
            raise RuntimeFailure(f"job {self.spec.name} has no running host")
        return self.host

    # -- adoption --------------------------------------------------------------------------

    def _resumption(self, record: JobRecord) -> Step:
        """What to do first for a job found in `record`'s state with no live supervisor."""
        if record.secondary in (Secondary.STARTING, Secondary.PENDING, Secondary.DOWNLOADING):
            return self._attempt  # no container yet: this attempt starts over, same number
        if record.secondary == Secondary.INTERRUPTED:
            return self._resume_interrupted
        self.host = self._host_group()
        if record.secondary == Secondary.TRAINING and not self.host.launched():
            return self._relaunch  # died before every container started: start them over
        attached = self.host.attach()
        if record.secondary == Secondary.UPLOADING:
            return lambda: ExitStatus(record.exit_code or 0)
        if attached:
            return self._watch
        if record.secondary == Secondary.STOPPING:
            return self._raise_stop  # nothing ran to the end: nothing to upload
        return self._lost_container

    def _relaunch(self) -> ExitStatus:
        """Start this attempt's container on the workspace its data was downloaded to."""
        host = self._require_host()
        if not host.prepared():
            raise ContainerGone(f"the workspace of attempt {self.attempt} is gone")
        host.launch(replace_leftovers=True)
        self._message(MESSAGES[Secondary.TRAINING])
        return self._watch()

    def _raise_stop(self) -> ExitStatus:
        raise StopRequested

    def _lost_container(self) -> ExitStatus:
        which = (
            "a training container"
            if self.spec.distributed
            else f"the training container of {self.spec.hosts[0].name}"
        )
        raise ContainerGone(
            f"{which} (attempt {self.attempt}) is gone, and the process that supervised it"
            " had ended"
        )

    # -- moves -----------------------------------------------------------------------------

    def _advance(self, target: Secondary, message: str | None = None, **data: object) -> None:
        now = self.ctx.clock.now()
        if self.ctx.store.move(self.spec.name, self.current, target, now, message, **data):
            self.current = target
            return
        record = self.ctx.store.require(self.spec.name)
        if record.owner not in (None, self.owner):
            raise LostLease
        if record.secondary == Secondary.STOPPING:
            self.current = Secondary.STOPPING
            raise StopRequested
        raise IllegalTransition(
            f"job {self.spec.name} is {record.secondary.value}, expected {self.current.value}"
        )

    def _message(self, text: str) -> None:
        self.ctx.store.set_message(self.spec.name, self.current, text, self.ctx.clock.now())
