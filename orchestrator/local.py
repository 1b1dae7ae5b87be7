"""The Python API: the same operations as the SageMaker client, run on this machine."""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from orchestrator.clock import Clock, SystemClock
from orchestrator.config import Settings, settings_from_env
from orchestrator.engine.context import EngineContext
from orchestrator.engine.engine import Engine
from orchestrator.engine.logs import HostLineCallback, read_log
from orchestrator.errors import HostMisconfigured, ValidationError, training_job_not_found
from orchestrator.gpus import GpuInventory, inventory
from orchestrator.lifecycle import is_terminal
from orchestrator.metrics import operations
from orchestrator.metrics.operations import trial_component_arn
from orchestrator.operations import training_jobs as service
from orchestrator.operations.resources import update_keep_alive
from orchestrator.operations.trial_components import TrialComponents
from orchestrator.operations.trial_components import search as search_components
from orchestrator.runtime.protocol import Runtime
from orchestrator.search import service as search_service
from orchestrator.search.records import SearchPage, TrainingJobRecord
from orchestrator.spec import host_names
from orchestrator.storage.factory import object_store
from orchestrator.storage.protocol import ObjectStore
from orchestrator.store.capacity import Allocation, CapacityLedger
from orchestrator.store.db import Database
from orchestrator.store.jobs import JobStore
from orchestrator.store.metrics import MetricStore, MetricSummary, StoredPoint
from orchestrator.store.pools import WarmPool, WarmPoolStore
from orchestrator.store.search_index import SearchIndex

if TYPE_CHECKING:
    from orchestrator.store.monitoring import MonitoringStore, ScheduleStore
from orchestrator.validation.model import use_cache_dir, validate_shape


class Orchestrator:
    """Create, describe, list, stop and follow training jobs on the local Docker engine.

    Jobs created here run on threads of this process; describe/list/stop/logs work on any job
    of the same store, whichever process runs it.
    """

    def __init__(
        self,
        settings: Settings | None = None,
        runtime: Runtime | None = None,
        objects: ObjectStore | None = None,
        clock: Clock | None = None,
        adopt_orphans: bool = True,
    ) -> None:
        """`adopt_orphans=False` for short-lived processes (`orchestrator run`, `stop`): they
        exit when their own job ends, so they must not take on other jobs."""
        self.settings = settings or settings_from_env()
        self.adopt_orphans = adopt_orphans
        use_cache_dir(self.settings.home / "cache")
        database = Database(self.settings.database_path)
        self.store = JobStore(database)
        self.metrics = MetricStore(database)
        self.search_index = SearchIndex(database)
        self.clock = clock or SystemClock()
        self.objects = objects or object_store(self.settings)
        self._runtime = runtime
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        """Created on first use, so read-only calls never need a Docker daemon."""
        if self._engine is None:
            if self._runtime is None:
                self._runtime = make_runtime(self.settings, self.objects)
            ctx = EngineContext(
                self.settings, self.store, self._runtime, self.objects, self.clock, self.metrics
            )
            self._engine = Engine(ctx, self.adopt_orphans)
            if self.adopt_orphans:  # a process that takes on work runs monitoring schedules
                self._engine.tick_hooks.append(self._run_schedules_if_any)
            self._engine.start_loop()
        return self._engine

    def create_training_job(
        self, request: dict[str, Any], on_line: HostLineCallback | None = None
    ) -> dict[str, str]:
        """Validate and store the job, then run it on this process's engine."""
        engine = self.engine
        spec = service.create(self.store, self.settings, self.clock, engine.owner, request)
        engine.submit(spec, on_line)
        return {"TrainingJobArn": spec.arn}

    def describe_training_job(self, name: str) -> dict[str, Any]:
        return service.describe(self.store, name, self.metrics, self.clock.now())

    def list_training_jobs(self, **request: Any) -> dict[str, Any]:
        return service.list_jobs(self.store, request, self.clock.now())

    def stop_training_job(self, name: str, wait: bool = False) -> bool:
        """StopTrainingJob. A job whose owner died is adopted here so the stop happens; with
        `wait`, block until it is Stopped (a CLI must not exit with the job half-stopped).
        True if this process took the job over."""
        service.request_stop(self.store, name, self.clock)
        record = self.store.require(name)
        name = record.name  # as created: the engine and files use it
        if self._engine is None and record.has_live_owner(self.clock.now()):
            return False  # its live supervisor will act on the stop
        adopted = self.engine.take_over_if_orphan(name)
        if adopted and wait:
            self.engine.wait(name)
        return adopted

    # -- processing jobs and monitoring (imported when first used: off `run`'s start path) --

    @functools.cached_property
    def monitoring(self) -> MonitoringStore:
        from orchestrator.store.monitoring import MonitoringStore

        return MonitoringStore(self.store.db)

    @functools.cached_property
    def schedules(self) -> ScheduleStore:
        from orchestrator.store.monitoring import ScheduleStore

        return ScheduleStore(self.store.db)

    def monitoring_schedule(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        """Create, Describe, List, Delete, Start or Stop monitoring schedules, or list their
        executions (`Executions`)."""
        from orchestrator.operations import monitoring_schedules as schedules

        if operation == "Create":
            created = schedules.create(
                self.schedules, self.monitoring, self.settings, self.clock, request
            )
            _ = self.engine  # its loop runs the schedule
            return created
        if operation in ("Start", "Stop"):
            return schedules.set_status(self.schedules, self.clock, request, operation)
        reports = schedules.Reports(self.schedules, self.objects)
        if operation == "Describe":
            return schedules.describe(self.schedules, self.store, reports, request)
        if operation == "Executions":
            return schedules.list_executions(self.schedules, self.store, reports, request)
        if operation == "List":
            return schedules.list_schedules(self.schedules, request)
        return schedules.delete(self.schedules, request)

    def run_monitoring_schedules(self) -> int:
        """Start the monitoring executions that are due (the engine loop calls this)."""
        from orchestrator.operations.monitoring_runs import run_due

        return run_due(
            self.schedules, self.monitoring, self.objects, self._submit_execution, self.clock.now()
        )

    def _run_schedules_if_any(self) -> None:
        if self.schedules.any_scheduled():
            self.run_monitoring_schedules()

    def _submit_execution(self, request: dict[str, Any], extra: dict[str, Any]) -> str:
        from orchestrator.operations import processing_jobs as processing

        engine = self.engine
        spec = processing.create(
            self.store, self.settings, self.clock, engine.owner, request, extra
        )
        engine.submit(spec)
        return spec.name

    def model_quality(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        """Create, describe, list or delete model-quality job definitions."""
        from orchestrator.operations import model_quality as definitions

        if operation == "create":
            return definitions.create(self.monitoring, self.settings, self.clock, request)
        if operation == "delete":
            return definitions.delete(self.monitoring, request, self.schedules)
        actions = {
            "describe": definitions.describe,
            "list": definitions.list_definitions,
        }
        return actions[operation](self.monitoring, request)

    def create_processing_job(
        self, request: dict[str, Any], on_line: HostLineCallback | None = None
    ) -> dict[str, str]:
        from orchestrator.operations import processing_jobs as processing

        engine = self.engine
        spec = processing.create(self.store, self.settings, self.clock, engine.owner, request)
        engine.submit(spec, on_line)
        return {"ProcessingJobArn": spec.arn}

    def describe_processing_job(self, name: str) -> dict[str, Any]:
        from orchestrator.operations import processing_jobs as processing

        return processing.describe(self.store, name)

    def list_processing_jobs(self, **request: Any) -> dict[str, Any]:
        from orchestrator.operations import processing_jobs as processing

        return processing.list_jobs(self.store, request)

    def stop_processing_job(self, name: str) -> bool:
        """StopProcessingJob; a job whose owner died is adopted here so the stop happens."""
        from orchestrator.operations import processing_jobs as processing

        stored = processing.stop(self.store, name, self.clock)
        record = self.store.require(stored)
        if self._engine is None and record.has_live_owner(self.clock.now()):
            return False
        return self.engine.take_over_if_orphan(stored)

    def wait_processing_job(self, name: str, timeout: float | None = None) -> dict[str, Any]:
        """Block until the processing job ends and its supervisor is done; its description."""
        from orchestrator.operations import processing_jobs as processing

        self._until_settled(processing.find(self.store, name).name, timeout)
        return self.describe_processing_job(name)

    def delete_training_job(self, name: str) -> None:
        """DeleteTrainingJob: a job that has ended (and keeps no Available warm pool) and
        everything recorded of it; its name is free again. Its artifacts stay."""
        service.delete(self.store, self.settings, name, self.clock.now())

    def inject_fault(self, name: str, kind: str, after: float | None = None) -> dict[str, Any]:
        """Make the job's current attempt fail as a platform fault would (an internal error),
        now or `after` seconds from now: exercises RetryStrategy and recovery on purpose."""
        return service.inject_fault(self.store, self.clock, name, kind, after)

    def wait(self, name: str, timeout: float | None = None, poll: float = 0.2) -> dict[str, Any]:
        """Block until the job ends (whichever process runs it); return its description."""
        self._until_settled(name, timeout, poll)
        return self.describe_training_job(name)

    def _until_settled(self, stored: str, timeout: float | None, poll: float = 0.2) -> None:
        """Until the job (by its stored name) has ended and its supervisor is done, or the
        timeout has passed."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.settled(stored):
            if deadline is not None and time.monotonic() > deadline:
                return
            time.sleep(poll)

    def log_events(
        self, name: str, follow: bool = False, poll: float = 0.2
    ) -> Iterator[tuple[float, str]]:
        """(timestamp, line) of the job's container output, every host's; with follow, until
        it ends."""
        for stamp, _host, text in self.host_log_events(name, follow, poll):
            yield stamp, text

    def host_log_events(
        self, name: str, follow: bool = False, poll: float = 0.2
    ) -> Iterator[tuple[float, str, str]]:
        """(timestamp, host, line) of every host's output, in time order as it is read."""
        record = self.store.require(name)  # a missing job is an error, not an empty log
        hosts = host_names(record.request)
        paths = {host: EngineContext.log_file(self.settings, record.name, host) for host in hosts}
        offsets = dict.fromkeys(hosts, 0)
        while True:
            # Ask before reading: once it has ended, every line is already in the files.
            ended = follow and self.settled(record.name)
            batch: list[tuple[float, str, str]] = []
            for host, path in paths.items():
                events, offsets[host] = read_log(path, offsets[host])
                batch.extend((stamp, host, text) for stamp, text in events)
            batch.sort(key=lambda event: event[0])  # stable: a host's lines keep their order
            yield from batch
            if not follow or (ended and not batch):
                return
            if not batch:
                time.sleep(poll)

    def upload(self, source: Path, uri: str) -> int:
        """Copy a local file or folder to an object URI (s3:// is the local store by default)."""
        if source.is_dir():
            return self.objects.upload_tree(source, uri)
        if not source.is_file():
            raise ValidationError(f"upload source {str(source)!r} is not a file or folder")
        target = uri + source.name if uri.endswith("/") else uri
        self.objects.upload_file(source, target)
        return 1

    def local_path(self, uri: str) -> Path | None:
        """Where an artifact URI is on this machine (s3:// resolves to the local store)."""
        return self.objects.local_path(uri)

    def settled(self, name: str) -> bool:
        """Ended, and its supervisor is done with it (artifacts uploaded, logs drained)."""
        record = self.store.require(name)
        return is_terminal(record.secondary) and not record.has_live_owner(self.clock.now())

    def batch_put_metrics(self, **request: Any) -> dict[str, Any]:
        """BatchPutMetrics: points for a trial component; refused items come back in Errors."""
        name = request.get("TrialComponentName")
        resource = trial_component_arn(self.settings.region, self.settings.account_id, str(name))
        return operations.batch_put_metrics(self.metrics, resource, request)

    def batch_get_metrics(self, **request: Any) -> dict[str, Any]:
        """BatchGetMetrics over trial components and training jobs (by ARN)."""
        return operations.batch_get_metrics(self.metrics, self.store, request)

    def metric_summaries(self, name: str) -> list[MetricSummary]:
        """Last, min, max and count of each metric a training job has reported."""
        record = self.store.get(name)
        if record is None:
            raise training_job_not_found(name)
        return self.metrics.summaries(record.arn)

    def metric_series(self, name: str, metric: str) -> list[StoredPoint]:
        return self.metrics.series(self.store.require(name).arn, metric)

    def search(self, **request: Any) -> dict[str, Any]:
        """Search (Resource TrainingJob by default, or ExperimentTrialComponent): the API's
        request and response."""
        request.setdefault("Resource", "TrainingJob")
        if request["Resource"] == "ExperimentTrialComponent":
            validate_shape(request, "SearchRequest")
            return search_components(self.trial_components, request)
        return search_service.search(
            self.store, self.metrics, self.search_index, request, self.clock.now()
        )

    @property
    def trial_components(self) -> TrialComponents:
        """The trial component of every training job (and of BatchPutMetrics names)."""
        return TrialComponents(self.store, self.metrics, self.settings)

    def describe_trial_component(self, name: str) -> dict[str, Any]:
        return self.trial_components.describe(name)

    def search_training_jobs(self, **request: Any) -> SearchPage:
        """Search, with typed records: name, status, hyperparameters, metrics, tags."""
        response = self.search(**request)
        records = [TrainingJobRecord.of(r["TrainingJob"]) for r in response["Results"]]
        return SearchPage(records, response.get("NextToken"), response["TotalHits"]["Value"])

    def recover(self) -> list[str]:
        """Adopt jobs whose supervising process died; reap leftover containers."""
        return self.engine.recover()

    def warm_pools(self) -> list[WarmPool]:
        """Every warm pool of this store (expired ones settled first), oldest first."""
        service.settle_warm_pools(self.store, self.clock.now())
        return WarmPoolStore(self.store.db).all()

    def release_warm_pool(self, name: str) -> None:
        """End the Available warm pool job `name` left (UpdateTrainingJob, KeepAlive 0)."""
        record = self.store.get(name)
        if record is None:
            raise training_job_not_found(name)
        update_keep_alive(self.store, self.clock, record, 0)

    def gpus(self) -> tuple[GpuInventory, list[Allocation]]:
        """The GPUs jobs may use here (ORCHESTRATOR_GPUS or what nvidia-smi lists) and every
        share of the ledger, granted or waiting, in queue order (shares say their GPUs)."""
        setting = self.settings.gpus
        detected = None
        if setting.needs_detection:
            if self._runtime is not None:
                detected = self._runtime.gpus()
            else:  # no Docker daemon needed to ask the driver
                from orchestrator.runtime.nvidia import detect_gpus

                detected = detect_gpus()
        found = inventory(setting, detected)
        service.settle_warm_pools(self.store, self.clock.now())
        ledger = CapacityLedger(self.store.db)
        ledger.reap()  # shares of jobs that ended while nobody cleaned up: not held
        return found, ledger.allocations()

    def close(self) -> None:
        """Stop the engine loop (running jobs are left to their supervisors)."""
        if self._engine is not None:
            self._engine.close()


def make_runtime(settings: Settings, objects: ObjectStore) -> Runtime:
    """Docker imported only here, on first need (read-only calls never load it)."""
    if settings.runtime != "swarm":
        from orchestrator.runtime.docker import DockerRuntime

        return DockerRuntime()
    from orchestrator.runtime.staging import Staging
    from orchestrator.runtime.swarm import SwarmRuntime

    staging = None
    if settings.object_store == "s3" and settings.swarm_staging is not None:
        client = getattr(objects, "client", None)
        staging = Staging(client, settings.swarm_staging, settings.swarm_node_dir)
    runtime = SwarmRuntime(staging=staging)
    remote = [node.name for node in runtime.nodes() if not node.local]
    if remote and staging is None:
        raise HostMisconfigured(
            f"the swarm has nodes other than this machine ({', '.join(remote)}), which cannot"
            " read this machine's folders: set ORCHESTRATOR_OBJECT_STORE=s3 and"
            " ORCHESTRATOR_SWARM_STAGING=s3://bucket/prefix (a bucket every node reaches);"
            " the local directory store works only on a swarm of this machine alone"
        )
    return runtime
