"""One host of one attempt: its /opt/ml, its container and the log pump that follows it.

Created, started and stopped together: `close()` drains the log, removes the container and
the workspace on every exit path (completion, failure, stop, retry), so nothing outlives the
attempt but the host's log file and what was uploaded.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from orchestrator.engine.context import EngineContext
from orchestrator.engine.logs import (
    HostLineCallback,
    LineCallback,
    LogPump,
    complete_lines,
    lines_from,
)
from orchestrator.engine.manifests import download_manifest
from orchestrator.engine.placement import SHARDED, container_spec, mounted
from orchestrator.engine.recording import MetricRecorder
from orchestrator.engine.workspace import Workspace, channels_of
from orchestrator.errors import HostMisconfigured, RuntimeFailure, StorageFailure
from orchestrator.gpus import simulated_nvidia_smi
from orchestrator.metrics.scraper import Scraper
from orchestrator.runtime.protocol import LABEL_ATTEMPT, LABEL_HOST, ExitStatus
from orchestrator.spec import ChannelSpec, JobSpec
from orchestrator.store.runs import HostRun

if TYPE_CHECKING:
    from orchestrator.engine.checkpoints import CheckpointSync
    from orchestrator.engine.hostbridge import StoreAccess
    from orchestrator.engine.outputsync import OutputSyncs
    from orchestrator.engine.pipes import PipeFeeder

log = logging.getLogger(__name__)


class HostRunner:
    def __init__(
        self,
        ctx: EngineContext,
        spec: JobSpec,
        attempt: int,
        host: str = "algo-1",
        on_line: HostLineCallback | None = None,
        cache: Path | None = None,
        gpus: tuple[str, ...] = (),
        network: str | None = None,
        node: str | None = None,
    ) -> None:
        self.ctx = ctx
        self.node = node  # the cluster node the ledger placed this host on
        self.cache = cache  # the warm pool's persistent cache, if the job has a pool
        self.gpus = gpus  # the UUIDs the ledger granted this host
        self.network = network  # the job's network, for a distributed job
        self.spec = spec
        self.attempt = attempt
        self.host = host
        self.on_line = on_line
        self.workspace = Workspace(
            ctx.workspace_dir(spec.name, attempt, host), host, processing=spec.processing
        )
        self.container_id: str | None = None
        self.pump: LogPump | None = None
        self.sync: CheckpointSync | None = None
        self.outputs: OutputSyncs | None = None  # TensorBoard and intermediate uploads
        self.feeders: dict[str, PipeFeeder] = {}  # Pipe-mode channels, by name
        self.access: StoreAccess | None = None  # the container's way to the object store

    @property
    def started(self) -> bool:
        """Whether a container ran, so there is something in /opt/ml to upload."""
        return self.container_id is not None

    @property
    def labels(self) -> dict[str, str]:
        return {
            **self.ctx.job_labels(self.spec.name),
            LABEL_ATTEMPT: str(self.attempt),
            LABEL_HOST: self.host,
        }

    # -- before the container -------------------------------------------------------------

    def prepare(self) -> None:
        """A fresh /opt/ml: whatever an interrupted run of this attempt left is discarded."""
        self.workspace.remove()
        self.workspace.create(self.spec)

    def download(self, check: Callable[[], None]) -> None:
        """Copy each channel in (FastFile channels are mounted at launch instead), then what
        CheckpointConfig.S3Uri holds into LocalPath."""
        for channel in channels_of(self.spec, self.host):
            if channel.input_mode == "Pipe":
                self._refuse_remote_pipe(channel)
                self._pipe_feeder(channel)  # listed now: a bad prefix fails while downloading
                continue
            if mounted(self.spec, channel) and self.ctx.objects.local_directory(channel.uri):
                continue
            target = self.workspace.input_dir(channel)
            if channel.data_type == "ManifestFile":
                copied = download_manifest(
                    self.ctx.objects, channel.uri, target, self._shard(channel)
                )
            else:
                copied = self.ctx.objects.download_prefix(channel.uri, target, self._shard(channel))
            if copied == 0 and channel.distribution == SHARDED:
                log.warning(
                    "%s gets no object of channel %s: it has fewer objects than the job has hosts",
                    self.host,
                    channel.name,
                )
            check()
        sync = self._checkpoint_sync()
        if sync is not None:
            shutil.rmtree(self.workspace.checkpoint_dir, ignore_errors=True)
            restored = sync.restore()
            log.info("restored %d checkpoint file(s) of %s", restored, self.spec.name)

    def _shard(self, channel: ChannelSpec) -> tuple[int, int] | None:
        """(this host's position, how many hosts get the channel) for ShardedByS3Key."""
        if channel.distribution != SHARDED or not self.spec.distributed:
            return None
        receivers = [h.name for h in self.spec.hosts if channel.reaches(h.group)]
        return receivers.index(self.host), len(receivers)

    def _refuse_remote_pipe(self, channel: ChannelSpec) -> None:
        """A Pipe channel's FIFOs are fed by this process: a host on another node could
        never read them."""
        if self.node is None:
            return
        node = next((n for n in self.ctx.runtime.nodes() if n.id == self.node), None)
        if node is None or not node.local:
            raise HostMisconfigured(
                f"channel {channel.name} is in Pipe mode, which this orchestrator feeds from this"
                f" machine, and {self.host} was placed on swarm node"
                f" {node.name if node else self.node}: use File or FastFile mode on a swarm"
                " of several machines"
            )

    def _pipe_feeder(self, channel: ChannelSpec) -> PipeFeeder:
        from orchestrator.engine.pipes import PipeFeeder, pieces_of

        if channel.name not in self.feeders:
            pieces = pieces_of(self.ctx.objects, channel, self._shard(channel))
            directory = self.workspace.channel_dir(channel.name).parent
            self.feeders[channel.name] = PipeFeeder(self.ctx.objects, directory, channel, pieces)
        return self.feeders[channel.name]

    def _start_pipes(self) -> None:
        """Epoch 0's FIFO of every Pipe channel, ready before the container can open it."""
        for channel in channels_of(self.spec, self.host):
            if channel.input_mode == "Pipe":
                self._pipe_feeder(channel).start()

    @property
    def input_error(self) -> StorageFailure | None:
        """Why a Pipe channel could not be fed (the job fails rather than read short data)."""
        return next((f.error for f in self.feeders.values() if f.error is not None), None)

    def _checkpoint_sync(self) -> CheckpointSync | None:
        if self.spec.checkpoint is None:
            return None
        if self.sync is None:
            from orchestrator.engine.checkpoints import CheckpointSync  # watchdog: only here

            self.sync = CheckpointSync(
                self.workspace.checkpoint_dir,
                self.spec.checkpoint.s3_uri,
                self.ctx.objects,
                scan_seconds=self.ctx.settings.checkpoint_scan_seconds,
                mirror_deletes=not self.spec.distributed,
            )
        return self.sync

    @property
    def sync_error(self) -> StorageFailure | None:
        """Why checkpoints (or TensorBoard, intermediate output) keep failing to upload."""
        if self.sync is not None and self.sync.failure is not None:
            return self.sync.failure
        return self.outputs.failure if self.outputs is not None else None

    def finish_sync(self) -> None:
        """Upload the last checkpoint and output changes (the container has exited or is
        gone)."""
        if self.sync is not None:
            self.sync.finish()
        if self.outputs is not None:
            self.outputs.finish()
        if self.sync_error is not None:
            raise self.sync_error

    def _start_outputs(self, resume: bool) -> None:
        from orchestrator.engine.outputsync import OutputSyncs

        if self.outputs is None:
            self.outputs = OutputSyncs(self.ctx, self.spec, self.workspace)
        self.outputs.start(resume)

    # -- the container --------------------------------------------------------------------

    def launch(self, replace_leftovers: bool = False) -> None:
        """Create and start the container, then follow its output into the host's log."""
        if replace_leftovers:  # an engine that died between create and record left one
            for leftover in self.ctx.runtime.find(self.labels):
                self.ctx.runtime.remove(leftover.id)
        log_path = self.ctx.log_path(self.spec.name, self.host)
        self.ctx.runs.begin(self.spec.name, self.attempt, self.host, complete_lines(log_path))
        spec = container_spec(
            self.ctx,
            self.spec,
            self.workspace,
            self.attempt,
            self.host,
            self.cache,
            self.gpus,
            self._simulated_nvidia_smi(),
            self.network,
            self._store_access(),
            self.node,
        )
        self.container_id = self.ctx.runtime.create(spec)
        self.ctx.runs.set_container(self.spec.name, self.attempt, self.host, self.container_id)
        self._start_pipes()
        self.ctx.runtime.start(self.container_id)
        self.ctx.runs.set_started(self.spec.name, self.attempt, self.host)
        sync = self._checkpoint_sync()
        if sync is not None:
            sync.start()
        self._start_outputs(resume=False)
        # Follow only once started: Docker ends a follow on a created container at once, and
        # replays a started one's output from its first line, so nothing is lost either way.
        self._start_pump(skip_lines=0)

    def _store_access(self) -> StoreAccess | None:
        """The object store and credentials, for a container that calls S3 itself: on the S3
        store, unless the job is isolated (hostbridge.py). Not on a Swarm node: the bridge is
        this machine's, and a service joins only the swarm's networks (docs/many-hosts.md)."""
        if self.ctx.settings.object_store != "s3" or self.spec.network_isolation:
            return None
        if self.node is not None:
            return None
        from orchestrator.engine.hostbridge import host_bridge

        bridge = host_bridge(self.ctx.runtime)
        if bridge is None:
            return None
        if self.access is not None:  # a relaunch: the earlier token goes
            bridge.revoke(self.access.token)
        self.access = bridge.grant()
        return self.access

    def _revoke_access(self) -> None:
        if self.access is None:
            return
        from orchestrator.engine.hostbridge import host_bridge

        bridge = host_bridge(self.ctx.runtime)
        if bridge is not None:
            bridge.revoke(self.access.token)
        self.access = None

    @property
    def _nvidia_smi_path(self) -> Path:
        return self.workspace.root.parent / f"{self.host}.nvidia-smi"

    def _simulated_nvidia_smi(self) -> Path | None:
        """In simulate mode, the `nvidia-smi` the container finds: it lists the job's GPUs,
        as the NVIDIA runtime's would, so SM_NUM_GPUS and friends agree with the assignment."""
        if not self.gpus or not self.ctx.gpus().simulated:
            return None
        mine = [gpu for gpu in self.ctx.gpus().gpus if gpu.uuid in self.gpus]
        path = self._nvidia_smi_path
        path.write_text(simulated_nvidia_smi(mine))
        path.chmod(0o755)
        return path

    def attach(self, run: HostRun | None) -> bool:
        """Re-attach to this attempt's container after an adoption; False if it is gone."""
        found = self.ctx.runtime.find(self.labels)
        if not found or run is None:
            return False
        if any(c.input_mode == "Pipe" for c in channels_of(self.spec, self.host)):
            # The streams were fed by the process that ended: the container saw an epoch end
            # early, which no new feeder can mend. The attempt ends (an internal failure).
            log.warning("%s: its Pipe-mode channels cannot be resumed", self.host)
            return False
        self.container_id = found[0].id
        sync = self._checkpoint_sync()
        if sync is not None:  # an engine restarted mid-training: sync what it missed
            sync.start()
        self._start_outputs(resume=True)
        in_file = complete_lines(self.ctx.log_path(self.spec.name, self.host))
        self._start_pump(skip_lines=max(in_file - run.log_base, 0))
        return True

    def _start_pump(self, skip_lines: int) -> None:
        assert self.container_id is not None
        path = self.ctx.log_path(self.spec.name, self.host)
        self.pump = LogPump(
            self.ctx.runtime.logs(self.container_id),
            path,
            skip_lines=skip_lines,
            on_line=self._line_callback(),
            now=self.ctx.clock.now,
            recorder=self._recorder(),
        ).start()

    def _line_callback(self) -> LineCallback | None:
        callback, host = self.on_line, self.host
        if callback is None:
            return None
        return lambda stamp, text: callback(stamp, host, text)

    def _recorder(self) -> MetricRecorder | None:
        """A recorder resuming where the store says this host's stream was scraped to; lines
        the log file already holds beyond that point are scraped from the file first."""
        if not self.spec.metric_definitions:
            return None
        path = self.ctx.log_path(self.spec.name, self.host)
        done = self.ctx.runs.scraped_lines(self.spec.name, self.host)
        recorder = MetricRecorder(
            self.ctx.metrics,
            self.spec.name,
            self.spec.arn,
            Scraper(self.spec.metric_definitions),
            done,
            self.ctx.clock.now,
            host=self.host,
        )
        backlog = lines_from(path, done)
        for stamp, text in backlog:
            recorder.feed(stamp, text)
        if backlog:
            recorder.commit()
        return recorder

    def wait(self, timeout: float) -> ExitStatus | None:
        """The exit status, or None while it runs; ContainerGone if it vanished."""
        assert self.container_id is not None
        if self.outputs is not None:
            self.outputs.check()
        return self.ctx.runtime.wait(self.container_id, timeout=timeout)

    def poll(self) -> ExitStatus | None:
        """The exit status if the container has exited, without waiting."""
        assert self.container_id is not None
        if self.outputs is not None:
            self.outputs.check()
        return self.ctx.runtime.poll(self.container_id)

    def stop(self, grace: float) -> ExitStatus:
        """SIGTERM, the grace period, SIGKILL; then the exit status."""
        assert self.container_id is not None
        self.ctx.runtime.stop(self.container_id, grace)
        status = self.ctx.runtime.wait(self.container_id, timeout=grace + 30)
        return status or ExitStatus(137)

    def record_exit(self, status: ExitStatus) -> None:
        self.ctx.runs.set_exit(self.spec.name, self.attempt, self.host, status.code)

    def abandon(self) -> None:
        """Another engine owns the job now: stop our threads, touch nothing of theirs."""
        if self.sync is not None:
            self.sync.abandon()
        if self.outputs is not None:
            self.outputs.abandon()

    def kill(self) -> None:
        """End the container as a platform failure would (no grace, no upload)."""
        if self.container_id is not None:
            self.ctx.runtime.remove(self.container_id)

    # -- after ----------------------------------------------------------------------------

    def drain(self) -> None:
        """Wait for the log to be read to its end, however long a flood takes, as long as it
        makes progress; a stream stuck for 30 s is given up (and said so)."""
        pump = self.pump
        if pump is None:
            return
        while pump.alive():
            before = pump.lines
            pump.join(timeout=30)
            if pump.alive() and pump.lines == before:
                log.warning("log of %s/%s stopped making progress", self.spec.name, self.host)
                break
        if pump.error is not None:
            log.warning("log of %s/%s is incomplete: %s", self.spec.name, self.host, pump.error)

    def close(self) -> None:
        """Remove the container, then drain the log, then remove the workspace. The container
        goes first: one still running (a failed attempt) would keep a drain waiting; one that
        exited was drained before its artifacts were uploaded."""
        if self.container_id is not None:
            try:
                self.ctx.runtime.remove(self.container_id)
            except RuntimeFailure:
                log.warning("could not remove container %s", self.container_id)
        self.drain()
        self._revoke_access()
        for feeder in self.feeders.values():
            feeder.stop()
            feeder.remove()
        for syncs in (self.sync, self.outputs):
            if syncs is None:
                continue
            try:
                syncs.finish()
            except Exception:  # a failed final sync must not keep the workspace forever
                log.exception("last sync of %s failed", self.spec.name)
        if self.outputs is not None:
            self.outputs.remove()
        self.workspace.remove()
        shutil.rmtree(self.workspace.checkpoint_dir, ignore_errors=True)
        self._nvidia_smi_path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # the attempt's folder, once its last host is gone
            self.workspace.root.parent.rmdir()
