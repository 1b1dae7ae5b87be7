"""All hosts of one attempt, supervised as one: launched together on the job's network, done
when every host has exited 0, failed by the first host that fails (the others get SIGTERM and
the grace period), stopped and closed together.

A single-host job is a group of one with no network of its own, so the supervisor has one
shape for both. The network exists only for a distributed job: created before its containers,
removed after them, labelled like them so the engine loop reaps one an engine left behind.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from orchestrator.capacity import Placement
from orchestrator.engine.context import EngineContext
from orchestrator.engine.hostrun import HostRunner
from orchestrator.engine.logs import HostLineCallback
from orchestrator.engine.warmpools import cache_dir
from orchestrator.engine.workspace import Workspace
from orchestrator.errors import RuntimeFailure, StorageFailure
from orchestrator.instances import resources_of
from orchestrator.runtime.protocol import LABEL_ATTEMPT, ExitStatus, NetworkSpec
from orchestrator.spec import JobSpec
from orchestrator.store.pools import WarmPool

log = logging.getLogger(__name__)

# How often the hosts other than the one waited on are looked at (one inspect each): a failed
# host is noticed within this, without a busy daemon answering inspects every poll.
GLANCE_SECONDS = 1.0

T = TypeVar("T")


def network_name(spec: JobSpec, attempt: int, store_tag: str) -> str:
    """Per attempt and per store, as container names are."""
    return f"orchestrator-{spec.name}-{attempt}-{store_tag}"


def split_gpus(gpus: Sequence[str], wants: Sequence[int]) -> list[tuple[str, ...]]:
    """The job's GPUs, host by host in order: each takes what its instance type has, while
    there are any (a host past the last GPU gets none, as the over-ask rule says)."""
    shares, at = [], 0
    for want in wants:
        shares.append(tuple(gpus[at : at + want]))
        at += want
    return shares


def _at_once(action: Callable[[HostRunner], T], runners: list[HostRunner]) -> list[T]:
    """`action` on every host at once (one thread per host beyond the first): N hosts start,
    stop and drain in the time of one."""
    if len(runners) <= 1:
        return [action(runner) for runner in runners]
    with ThreadPoolExecutor(len(runners), thread_name_prefix="host") as pool:
        return list(pool.map(action, runners))


class HostGroup:
    def __init__(
        self,
        ctx: EngineContext,
        spec: JobSpec,
        attempt: int,
        gpus: Sequence[str] = (),
        on_line: HostLineCallback | None = None,
        pool: WarmPool | None = None,
        placement: Placement | None = None,
    ) -> None:
        self.ctx = ctx
        self.spec = spec
        self.attempt = attempt
        self.network = network_name(spec, attempt, ctx.store_tag) if spec.distributed else None
        shares = split_gpus(gpus, [resources_of(h.instance_type).gpus for h in spec.hosts])
        if placement:  # a cluster: each host's node and its GPUs there, from the ledger
            shares = [placement[h.name].gpus for h in spec.hosts]
        self.runners = [
            HostRunner(
                ctx,
                spec,
                attempt,
                host=host.name,
                on_line=on_line,
                cache=cache_dir(pool, host.name) if pool is not None else None,
                gpus=share,
                network=self.network,
                node=placement[host.name].node if placement else None,
            )
            for host, share in zip(spec.hosts, shares, strict=True)
        ]
        self.exits: dict[str, ExitStatus] = {}
        self.failed: HostRunner | None = None
        self._glanced_at = float("-inf")

    # -- together --------------------------------------------------------------------------

    def _each(self, action: Callable[[HostRunner], T]) -> list[T]:
        return _at_once(action, self.runners)

    @property
    def workspaces(self) -> list[Workspace]:
        return [runner.workspace for runner in self.runners]

    @property
    def started(self) -> bool:
        return any(runner.started for runner in self.runners)

    @property
    def sync_error(self) -> StorageFailure | None:
        return next((r.sync_error for r in self.runners if r.sync_error), None)

    @property
    def input_error(self) -> StorageFailure | None:
        return next((r.input_error for r in self.runners if r.input_error), None)

    def prepared(self) -> bool:
        return all(runner.workspace.root.exists() for runner in self.runners)

    def prepare(self) -> None:
        self._each(lambda runner: runner.prepare())

    def download(self, check: Callable[[], None]) -> None:
        self._each(lambda runner: runner.download(check))

    def launch(self, replace_leftovers: bool = False) -> None:
        if self.network is not None:
            labels = {**self.ctx.job_labels(self.spec.name), LABEL_ATTEMPT: str(self.attempt)}
            self.ctx.runtime.create_network(
                NetworkSpec(self.network, labels, internal=self.spec.network_isolation)
            )
        self._each(lambda runner: runner.launch(replace_leftovers))

    def launched(self) -> bool:
        """Every host's container was started in this attempt (the store says)."""
        for runner in self.runners:
            run = self.ctx.runs.get(self.spec.name, self.attempt, runner.host)
            if run is None or not run.started:
                return False
        return True

    def attach(self) -> bool:
        """Re-attach to every host's container after an adoption; False if one is gone. The
        attempt is over then: the hosts still there get SIGTERM and the grace period, as
        when a host fails, before the job moves on."""
        attached = [
            runner
            for runner in self.runners
            if runner.attach(self.ctx.runs.get(self.spec.name, self.attempt, runner.host))
        ]
        if len(attached) == len(self.runners):
            return True
        grace = self.ctx.settings.stop_grace_seconds
        for runner, status in zip(attached, self._stop_each(attached, grace), strict=True):
            self.exits[runner.host] = status
        return False

    # -- watching --------------------------------------------------------------------------

    def wait(self, timeout: float) -> ExitStatus | None:
        """None while hosts run and none has failed. The first host to exit non-zero ends the
        group: the others are stopped (SIGTERM, the grace period), and its status returned.
        Every host exited 0: status 0."""
        waiting = [r for r in self.runners if r.host not in self.exits]
        now = self.ctx.clock.now()
        glance = now - self._glanced_at >= GLANCE_SECONDS
        if glance:
            self._glanced_at = now
        for position, runner in enumerate(waiting):
            # The first host still running is waited on; the others are looked at (an
            # inspect) every GLANCE_SECONDS, so a host that fails anywhere is noticed soon.
            if position == 0:
                status = runner.wait(timeout)
            elif glance:
                status = runner.poll()
            else:
                break
            if status is None:
                continue
            self.exits[runner.host] = status
            if status.code != 0:
                self.failed = runner
                self._stop_the_rest(runner)
                return status
        if len(self.exits) == len(self.runners):
            return ExitStatus(0)
        return None

    def _stop_the_rest(self, failed: HostRunner) -> None:
        others = [r for r in self.runners if r is not failed and r.host not in self.exits]
        if others:
            log.info(
                "%s of %s failed: stopping %s",
                failed.host,
                self.spec.name,
                ", ".join(r.host for r in others),
            )
        grace = self.ctx.settings.stop_grace_seconds
        for runner, status in zip(others, self._stop_each(others, grace), strict=True):
            self.exits[runner.host] = status

    @staticmethod
    def _stop_each(runners: list[HostRunner], grace: float) -> list[ExitStatus]:
        return _at_once(lambda runner: runner.stop(grace), runners)

    def stop(self, grace: float) -> ExitStatus:
        """SIGTERM to every host still running, the grace period, SIGKILL; the first host's
        status (or the first failure's)."""
        running = [r for r in self.runners if r.host not in self.exits]
        for runner, status in zip(running, self._stop_each(running, grace), strict=True):
            self.exits[runner.host] = status
        failures = [self.exits[r.host] for r in self.runners if self.exits[r.host].code != 0]
        return failures[0] if failures else self.exits[self.runners[0].host]

    def failure_reason(self) -> str | None:
        """The failed host's failure file; else the first host's that wrote one."""
        if self.failed is not None:
            reason = self.failed.workspace.failure_reason()
            if reason:
                return reason
        return next((r for r in (w.failure_reason() for w in self.workspaces) if r), None)

    @property
    def failed_host(self) -> str | None:
        return self.failed.host if self.failed is not None else None

    def record_exit(self, status: ExitStatus) -> None:
        for runner in self.runners:
            runner.record_exit(self.exits.get(runner.host, status))

    # -- ending ----------------------------------------------------------------------------

    def drain(self) -> None:
        self._each(lambda runner: runner.drain())

    def finish_sync(self) -> None:
        for runner in self.runners:
            runner.finish_sync()

    def kill(self) -> None:
        for runner in self.runners:
            runner.kill()

    def abandon(self) -> None:
        for runner in self.runners:
            runner.abandon()

    def close(self) -> None:
        """Every host's container and workspace, then the network they were on."""
        self._each(lambda runner: runner.close())
        if self.network is None:
            return
        try:
            self.ctx.runtime.remove_network(self.network)
        except RuntimeFailure:  # the engine loop reaps it once its containers are gone
            log.warning("could not remove network %s", self.network)
