"""One supervisor per job: sequences prepare, download, train, stop and upload.

The lifecycle module decides which moves are legal; the store applies them compare-and-set. A
stop is a move to Stopping made by anyone (this process or another terminal); the supervisor
notices it when its own next move loses the race, or when it polls while training.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable

from orchestrator.engine.context import EngineContext
from orchestrator.engine.heartbeat import Heartbeat
from orchestrator.engine.logs import LineCallback, LogPump, complete_lines, lines_from
from orchestrator.engine.outputs import describe_exit, upload_artifacts
from orchestrator.engine.placement import container_spec
from orchestrator.engine.recording import MetricRecorder
from orchestrator.engine.workspace import Workspace
from orchestrator.errors import ImageNotFound, RuntimeFailure, StorageFailure
from orchestrator.lifecycle import MESSAGES, Secondary
from orchestrator.metrics.scraper import Scraper
from orchestrator.runtime.protocol import ExitStatus
from orchestrator.spec import JobSpec
from orchestrator.store.jobs import JobRecord

log = logging.getLogger(__name__)

STOP_USER = "user"
STOP_MAX_RUNTIME = "max_runtime"


class StopRequested(Exception):
    """Someone moved the job to Stopping; the supervisor switches to the stop path."""


class LostLease(Exception):
    """Another engine took this job over; this supervisor must touch nothing more."""


class Supervisor:
    def __init__(
        self,
        ctx: EngineContext,
        spec: JobSpec,
        owner: str,
        on_line: LineCallback | None = None,
    ) -> None:
        self.ctx = ctx
        self.spec = spec
        self.owner = owner
        self.on_line = on_line
        self.current = Secondary.STARTING
        self.container_id: str | None = None
        self.started = False
        self.pump: LogPump | None = None
        self.workspace = Workspace(ctx.job_dir(spec.name) / "algo-1")
        self.heartbeat = Heartbeat(
            ctx.store, spec.name, owner, ctx.clock, ctx.settings.lease_seconds
        )

    # -- entry points ----------------------------------------------------------------------

    def run(self) -> None:
        """Drive a new job from Starting to a terminal status."""
        self._guarded(self._run_new)

    def adopt(self, record: JobRecord) -> None:
        """Finish a job whose supervisor died, from where the store says it was."""
        self.current = record.secondary
        self._guarded(lambda: self._run_adopted(record))

    def _guarded(self, body: Callable[[], None]) -> None:
        self.heartbeat.start()
        try:
            body()
        except LostLease:
            log.warning("job %s was taken over by another engine", self.spec.name)
            self.heartbeat.stop()
            return
        except Exception as exc:  # last resort: a job never stays InProgress with no owner
            log.exception("supervisor of %s failed", self.spec.name)
            self._fail(f"InternalServerError: {exc}")
        self._cleanup()

    # -- the normal path -------------------------------------------------------------------

    def _run_new(self) -> None:
        try:
            self._prepare()
            self._download()
            self._launch()
        except StopRequested:
            self._finish_stopped()
            return
        except (ImageNotFound, StorageFailure) as exc:
            self._fail(f"ClientError: {exc}")
            return
        except RuntimeFailure as exc:
            self._fail(f"InternalServerError: {exc}")
            return
        self._finish(self._watch())

    def _prepare(self) -> None:
        self._message("Preparing the instances for training.")
        self.workspace.create(self.spec)

    def _download(self) -> None:
        self._advance(Secondary.DOWNLOADING, training_start_time=self.ctx.clock.now())
        for channel in self.spec.channels:
            if channel.input_mode == "FastFile" and self.ctx.objects.local_directory(channel.uri):
                continue  # mounted read-only at launch instead of copied
            self.ctx.objects.download_prefix(channel.uri, self.workspace.channel_dir(channel.name))
            self._check_stop()

    def _launch(self) -> None:
        self._advance(Secondary.TRAINING, "Downloading the training image.")
        spec = container_spec(self.ctx, self.spec, self.workspace)
        self.container_id = self.ctx.runtime.create(spec)
        self.ctx.store.update(self.spec.name, container_id=self.container_id)
        self.ctx.runtime.start(self.container_id)
        self.started = True
        # Follow only once started: Docker ends a follow on a created container at once, and
        # replays a started one's output from its first line, so nothing is lost either way.
        self._start_pump(skip_lines=0)
        self._message(MESSAGES[Secondary.TRAINING])

    def _start_pump(self, skip_lines: int) -> None:
        assert self.container_id is not None
        self.pump = LogPump(
            self.ctx.runtime.logs(self.container_id),
            self.ctx.log_path(self.spec.name),
            skip_lines=skip_lines,
            on_line=self.on_line,
            now=self.ctx.clock.now,
            recorder=self._recorder(skip_lines),
        ).start()

    def _recorder(self, lines_in_file: int) -> MetricRecorder | None:
        """A recorder resuming where the store says scraping stopped; lines the log file
        already holds beyond that point are scraped from the file first."""
        if not self.spec.metric_definitions:
            return None
        done = self.ctx.store.require(self.spec.name).metrics_lines
        recorder = MetricRecorder(
            self.ctx.metrics,
            self.spec.name,
            self.spec.arn,
            Scraper(self.spec.metric_definitions),
            done,
            self.ctx.clock.now,
        )
        if lines_in_file > done:
            for stamp, text in lines_from(self.ctx.log_path(self.spec.name), done):
                recorder.feed(stamp, text)
            recorder.commit()
        return recorder

    # -- watching: exit, stop request, deadline --------------------------------------------

    def _deadline(self) -> float:
        record = self.ctx.store.require(self.spec.name)
        start = record.training_start_time or record.creation_time
        return start + self.spec.max_runtime_seconds

    def _watch(self) -> ExitStatus:
        assert self.container_id is not None
        deadline = self._deadline()
        poll = self.ctx.settings.poll_seconds
        while True:
            status = self.ctx.runtime.wait(self.container_id, timeout=poll)
            if status is not None:
                return status
            if self.heartbeat.lost:
                raise LostLease
            if self.current == Secondary.STOPPING or self._stop_requested():
                return self._stop_container()
            if self.ctx.clock.now() >= deadline:
                self._request_own_stop(STOP_MAX_RUNTIME, MESSAGES[Secondary.MAX_RUNTIME_EXCEEDED])
                return self._stop_container()

    def _stop_requested(self) -> bool:
        record = self.ctx.store.require(self.spec.name)
        if record.secondary == Secondary.STOPPING:
            self.current = Secondary.STOPPING
            return True
        return False

    def _request_own_stop(self, cause: str, message: str) -> None:
        with contextlib.suppress(StopRequested):  # a user stop got there first; it wins
            self._advance(Secondary.STOPPING, message, stop_cause=cause)

    def _stop_container(self) -> ExitStatus:
        """SIGTERM, the grace period, SIGKILL; then the exit status."""
        assert self.container_id is not None
        grace = self.ctx.settings.stop_grace_seconds
        self.ctx.runtime.stop(self.container_id, grace)
        status = self.ctx.runtime.wait(self.container_id, timeout=grace + 30)
        return status or ExitStatus(137)

    # -- finishing -------------------------------------------------------------------------

    def _finish(self, status: ExitStatus) -> None:
        self._drain_logs()
        self.ctx.store.update(self.spec.name, exit_code=status.code)
        if self.current == Secondary.STOPPING:
            self._finish_stopped()
            return
        try:
            self._advance(Secondary.UPLOADING)
            artifacts = upload_artifacts(self.ctx.objects, self.spec, self.workspace)
            if status.code == 0:
                self._end(Secondary.COMPLETED, model_artifacts=artifacts)
            else:
                reason = self.workspace.failure_reason() or describe_exit(status)
                self._end(Secondary.FAILED, failure_reason=reason, model_artifacts=artifacts)
        except StopRequested:
            self._finish_stopped()
        except StorageFailure as exc:
            self._fail(f"ClientError: could not upload the training artifacts: {exc}")

    def _finish_stopped(self) -> None:
        """After a stop: upload what the container saved, then Stopped or MaxRuntimeExceeded."""
        self._drain_logs()
        record = self.ctx.store.require(self.spec.name)
        artifacts = None
        if self.started:
            self._message("Uploading generated training model.")
            try:
                artifacts = upload_artifacts(self.ctx.objects, self.spec, self.workspace)
            except StorageFailure as exc:
                self._fail(f"ClientError: could not upload the training artifacts: {exc}")
                return
        final = (
            Secondary.MAX_RUNTIME_EXCEEDED
            if record.stop_cause == STOP_MAX_RUNTIME
            else Secondary.STOPPED
        )
        self._end(final, model_artifacts=artifacts)

    def _end(self, final: Secondary, **data: object) -> None:
        self._advance(final, None, training_end_time=self.ctx.clock.now(), **data)

    def _fail(self, reason: str) -> None:
        """Move to Failed from wherever the job is; a concurrent stop turns it into Stopped."""
        reason = reason[:1024]
        for _ in range(3):
            record = self.ctx.store.get(self.spec.name)
            if record is None or record.secondary.value in ("Completed", "Failed", "Stopped"):
                return
            now = self.ctx.clock.now()
            if self.ctx.store.move(
                self.spec.name,
                record.secondary,
                Secondary.FAILED,
                now,
                failure_reason=reason,
                training_end_time=now,
            ):
                self.current = Secondary.FAILED
                return

    def _drain_logs(self) -> None:
        """Wait for the log to be read to its end, however long a flood takes, as long as it
        makes progress; a stream stuck for 30 s is given up (and said so)."""
        if self.pump is None:
            return
        while self.pump.alive():
            before = self.pump.lines
            self.pump.join(timeout=30)
            if self.pump.alive() and self.pump.lines == before:
                log.warning("log of %s stopped making progress", self.spec.name)
                break
        if self.pump.error is not None:
            log.warning("log of %s is incomplete: %s", self.spec.name, self.pump.error)

    def _cleanup(self) -> None:
        if self.container_id is not None:
            try:
                self.ctx.runtime.remove(self.container_id)
            except RuntimeFailure:
                log.warning("could not remove container %s", self.container_id)
        self.workspace.remove()
        self.heartbeat.stop()
        self.ctx.store.release(self.spec.name, self.owner)

    # -- adoption --------------------------------------------------------------------------

    def _run_adopted(self, record: JobRecord) -> None:
        found = self.ctx.runtime.find(self.ctx.job_labels(self.spec.name))
        if found:
            self.container_id = found[0].id
        resumable = (Secondary.TRAINING, Secondary.STOPPING, Secondary.UPLOADING)
        if not found or record.secondary not in resumable:
            self._abandoned(record, container_exists=bool(found))
            return
        self.started = True
        self._start_pump(skip_lines=complete_lines(self.ctx.log_path(self.spec.name)))
        if record.secondary == Secondary.UPLOADING:
            self._finish(ExitStatus(record.exit_code or 0))
        else:
            self._finish(self._watch())

    def _abandoned(self, record: JobRecord, container_exists: bool) -> None:
        if record.secondary == Secondary.STOPPING:
            self._end(Secondary.STOPPED)
            return
        if container_exists:
            state = "could not be resumed"
        elif record.container_id is not None:
            state = "is gone"
        else:
            state = "was never started"
        self._fail(
            "InternalServerError: the process supervising the job ended before the job did,"
            f" and its training container {state}"
        )

    # -- moves -----------------------------------------------------------------------------

    def _advance(self, target: Secondary, message: str | None = None, **data: object) -> None:
        now = self.ctx.clock.now()
        if self.ctx.store.move(self.spec.name, self.current, target, now, message, **data):
            self.current = target
            return
        record = self.ctx.store.require(self.spec.name)
        if record.secondary == Secondary.STOPPING:
            self.current = Secondary.STOPPING
            raise StopRequested
        raise RuntimeFailure(
            f"job {self.spec.name} is {record.secondary.value}, expected {self.current.value}"
        )

    def _check_stop(self) -> None:
        if self._stop_requested():
            raise StopRequested

    def _message(self, text: str) -> None:
        self.ctx.store.set_message(self.spec.name, text, self.ctx.clock.now())
