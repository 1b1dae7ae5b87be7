"""The Swarm runtime: each host of a job is a Swarm service (ORCHESTRATOR_RUNTIME=swarm).

With runtime/docker.py the only module that speaks Docker. The protocol maps onto services:

- create: a service of one replica that Swarm never restarts (restart condition `none`: the
  orchestrator decides about retries), created with 0 replicas, pinned to the node the
  scheduler chose (`node.id==...`); start scales it to 1. Its container carries the labels.
- a job's network is an attachable overlay; services use DNS round-robin endpoints, so
  `algo-N` resolves to the task itself, not to a virtual IP.
- exit status: the task's container exit code. stop: scale to 0 with the grace period as
  the service's StopGracePeriod: Swarm sends SIGTERM, waits, then SIGKILL.
- logs: the service's log, followed; Swarm's follow never ends, so it is closed once the task
  has ended and a last unfollowed read has delivered every line.
- mounts: bound directly on a node whose filesystem is ours (the engine's own); on other
  nodes through the object store (staging.py), and refused without one.
- a node that leaves or a task that vanishes is ContainerGone: an internal failure, retried
  under RetryStrategy. A node without the image says how to load it there.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import docker
import docker.errors
import docker.types

from orchestrator.errors import (
    ContainerGone,
    ContainerRejected,
    HostMisconfigured,
    ImageNotFound,
    RuntimeFailure,
)
from orchestrator.gpus import Gpu
from orchestrator.runtime.docker import DockerRuntime, _stamped
from orchestrator.runtime.protocol import (
    ContainerInfo,
    ContainerSpec,
    ExitStatus,
    LogChunk,
    NetworkInfo,
    NetworkSpec,
    Node,
)
from orchestrator.runtime.staging import HELPER_IMAGE, StagedMount, Staging, staged

GPU_LABEL = "orchestrator.gpus"  # a node label: its NVIDIA GPUs' UUIDs, comma-separated
ROLE_LABEL = "orchestrator.role"  # on helper services
_RUNNING = frozenset({"new", "pending", "assigned", "accepted", "preparing", "ready", "starting"})
_ENDED = frozenset({"complete", "failed", "shutdown", "rejected", "orphaned", "remove"})
POLL_SECONDS = 0.1
HELPER_SECONDS = 300.0
NODES_TTL = 2.0
REMOVAL_SECONDS = 30.0
ISOLATED_LABEL = "orchestrator.isolates"  # on a host's own internal network
INIT_SWARM = (
    "this Docker engine is not a Swarm manager: run `docker swarm init` here (or point"
    " DOCKER_HOST at a manager), or unset ORCHESTRATOR_RUNTIME to use the local engine"
)


@dataclass
class _Service:
    """What this process knows of one host run's service."""

    name: str
    node: str
    image: str
    mounts: list[StagedMount]
    stopping: bool = False
    exit: ExitStatus | None = None


def _mapped_call(what: str, action: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return action(*args, **kwargs)
    except docker.errors.NotFound as exc:
        raise ContainerGone(f"the service is gone ({what}: {exc.explanation or exc})") from exc
    except docker.errors.DockerException as exc:
        raise RuntimeFailure(f"docker {what} failed: {exc}") from exc


class SwarmRuntime:
    """Runs host containers as services of the Swarm this engine manages."""

    def __init__(
        self, client: docker.DockerClient | None = None, staging: Staging | None = None
    ) -> None:
        self.docker = DockerRuntime(client)  # networks, and the API client
        self.api = self.docker.api
        self.staging = staging
        info = _mapped_call("info", self.api.info)
        swarm = info.get("Swarm") or {}
        if swarm.get("LocalNodeState") != "active" or not swarm.get("ControlAvailable"):
            raise HostMisconfigured(INIT_SWARM)
        # The engine's own node shares our filesystem only if the engine is on this machine.
        on_this_machine = str(self.api.base_url).startswith("http+docker://")
        self.local_node = str(swarm.get("NodeID")) if on_this_machine else None
        self._services: dict[str, _Service] = {}
        self._lock = threading.Lock()
        self._nodes: tuple[float, tuple[Node, ...]] = (float("-inf"), ())

    # -- nodes ---------------------------------------------------------------------------

    def nodes(self) -> tuple[Node, ...]:
        """Ready, active nodes (asked again after NODES_TTL: nodes come and go)."""
        asked, known = self._nodes
        if time.monotonic() - asked < NODES_TTL:
            return known
        found = tuple(
            self._node(n)
            for n in _mapped_call("node ls", self.api.nodes)
            if n.get("Status", {}).get("State") == "ready"
            and n.get("Spec", {}).get("Availability") == "active"
        )
        self._nodes = (time.monotonic(), found)
        return found

    def _node(self, raw: dict[str, Any]) -> Node:
        resources = raw.get("Description", {}).get("Resources", {})
        labels = raw.get("Spec", {}).get("Labels") or {}
        gpus = tuple(g.strip() for g in labels.get(GPU_LABEL, "").split(",") if g.strip())
        return Node(
            id=raw["ID"],
            name=raw.get("Description", {}).get("Hostname", raw["ID"]),
            cpus=int(resources.get("NanoCPUs", 0)) // 1_000_000_000,
            memory_bytes=int(resources.get("MemoryBytes", 0)),
            gpus=gpus,
            local=raw["ID"] == self.local_node,
        )

    def _node_named(self, node_id: str) -> Node | None:
        return next((n for n in self.nodes() if n.id == node_id), None)

    def capacity(self) -> tuple[int, int]:
        """The largest node: a host's limits are capped at a node, never at the sum."""
        nodes = self.nodes()
        if not nodes:
            raise HostMisconfigured("the swarm has no node that is ready and active")
        return max(n.cpus for n in nodes), max(n.memory_bytes for n in nodes)

    def gpus(self) -> tuple[Gpu, ...] | None:
        uuids = [g for n in self.nodes() for g in n.gpus]
        return tuple(Gpu(i, uuid, "labelled on its node", None) for i, uuid in enumerate(uuids))

    # -- services ------------------------------------------------------------------------

    def create(self, spec: ContainerSpec) -> str:
        nodes = self.nodes()
        node_id = spec.node or (nodes[0].id if len(nodes) == 1 else None)
        node = self._node_named(node_id) if node_id else None
        if node is None:
            raise ContainerGone(f"node {node_id} is not a ready node of the swarm")
        if node.local:
            self._check_image(spec.image)
        mounts = staged(spec.mounts)
        record = _Service(spec.name, node.id, spec.image, mounts if not node.local else [])
        if record.mounts:
            self._fill(record, node)
        template = self._template(spec, node, record)
        try:
            _mapped_call(
                "service create",
                self.api.create_service,
                template,
                name=spec.name,
                labels=spec.labels,
                mode=docker.types.ServiceMode("replicated", replicas=0),
                endpoint_spec=docker.types.EndpointSpec(mode="dnsrr"),
            )
        except RuntimeFailure as exc:
            self._clear(record)
            if (
                isinstance(exc.__cause__, docker.errors.APIError)
                and (exc.__cause__.status_code or 500) < 500
            ):
                raise ContainerRejected(f"the swarm refused the service: {exc}") from exc
            raise
        with self._lock:
            self._services[spec.name] = record
        return spec.name

    def _isolated_network(self, spec: ContainerSpec) -> str:
        name = f"{spec.name}-isolated"
        self.create_network(NetworkSpec(name, {**spec.labels, ISOLATED_LABEL: spec.name}, True))
        return name

    def _check_image(self, image: str) -> None:
        """On this machine's node the image can be asked for before anything is made (on
        another node, its task says so: `_ended`)."""
        try:
            _inspect_image(self.api, image)
        except docker.errors.ImageNotFound as exc:
            raise ImageNotFound(
                f"image {image!r} is not on this Docker engine: build or load it first"
            ) from exc
        except docker.errors.DockerException as exc:
            raise RuntimeFailure(f"docker image inspect failed: {exc}") from exc

    def _template(self, spec: ContainerSpec, node: Node, record: _Service) -> Any:
        if record.mounts:
            assert self.staging is not None
            folder = self.staging.folder(spec.name)
            mounts = [
                docker.types.Mount(
                    m.mount.target, m.node_path(folder), type="bind", read_only=m.mount.read_only
                )
                for m in record.mounts
            ]
        else:
            mounts = [
                docker.types.Mount(m.target, str(m.source), type="bind", read_only=m.read_only)
                for m in spec.mounts
            ]
        container = docker.types.ContainerSpec(
            spec.image,
            command=spec.entrypoint,  # Swarm's Command replaces the image's ENTRYPOINT
            args=spec.command,
            hostname=spec.hostname,
            env=dict[str, str | bytes | None](spec.environment),
            labels=spec.labels,
            mounts=mounts,
            hosts=dict(spec.extra_hosts) or None,
            init=False,
            stop_grace_period=(
                int(spec.stop_grace_seconds * 1_000_000_000)
                if spec.stop_grace_seconds is not None
                else None
            ),
        )
        attach = docker.types.NetworkAttachmentConfig
        networks: list[str | docker.types.NetworkAttachmentConfig] = []
        if spec.network is not None:
            networks.append(attach(spec.network, aliases=spec.network_aliases))
        networks += [attach(n) for n in spec.extra_networks]
        if spec.network_disabled and not networks:
            # Swarm has no `none` network for services: an internal overlay of the host's
            # own reaches nothing but itself (no gateway bridge, no other container).
            networks = [attach(self._isolated_network(spec))]
        return docker.types.TaskTemplate(
            container,
            resources=docker.types.Resources(cpu_limit=spec.nano_cpus, mem_limit=spec.memory_bytes),
            restart_policy=docker.types.RestartPolicy("none"),
            placement=docker.types.Placement(constraints=[f"node.id=={node.id}"]),
            networks=networks or None,
        )

    def start(self, container_id: str) -> None:
        """Scale to 1, and return once the task's container runs (or has already ended), as
        `docker start` does: the job says Training only when its code runs."""
        record = self._record(container_id)
        self._scale(container_id, 1)
        deadline = time.monotonic() + HELPER_SECONDS
        while time.monotonic() < deadline:
            task = self._task(container_id)
            state = (task or {}).get("Status", {}).get("State", "")
            if state == "running" or state in _ENDED:
                return
            self._check_node(record)
            time.sleep(POLL_SECONDS / 2)

    def _scale(self, name: str, replicas: int) -> None:
        info = _mapped_call("service inspect", self.api.inspect_service, name)
        spec = info["Spec"]
        template = spec["TaskTemplate"]  # unchanged: a changed one would make a new task
        _mapped_call(
            "service update",
            self.api.update_service,
            name,
            info["Version"]["Index"],
            task_template=template,
            name=spec["Name"],
            labels=spec.get("Labels"),
            mode=docker.types.ServiceMode("replicated", replicas=replicas),
            endpoint_spec=spec.get("EndpointSpec"),
        )

    def _record(self, name: str) -> _Service:
        """What we know of the service; rebuilt from Docker after an adoption."""
        with self._lock:
            known = self._services.get(name)
        if known is not None:
            return known
        info = _mapped_call("service inspect", self.api.inspect_service, name)
        constraints = info["Spec"]["TaskTemplate"].get("Placement", {}).get("Constraints", [])
        node = next((c.split("==", 1)[1] for c in constraints if c.startswith("node.id==")), "")
        image = info["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"]
        # An adopted service on another node keeps its files there: what it wrote comes back
        # only through a process that staged it (the docs say so).
        record = _Service(name, node, image.split("@")[0], [])
        with self._lock:
            self._services.setdefault(name, record)
            return self._services[name]

    def _task(self, name: str) -> dict[str, Any] | None:
        tasks: list[dict[str, Any]] = _mapped_call(
            "service ps", self.api.tasks, filters={"service": name}
        )
        if not tasks:
            return None
        return max(tasks, key=lambda t: str(t.get("CreatedAt", "")))

    def poll(self, container_id: str) -> ExitStatus | None:
        record = self._record(container_id)
        if record.exit is not None:
            return record.exit
        task = self._task(container_id)
        if task is None and record.stopping:
            # Stopped, and Swarm removed the task before its exit code was read: a kill.
            record.exit = ExitStatus(137)
            return record.exit
        if task is None:
            self._check_node(record)
            return None
        status = task.get("Status", {})
        state = status.get("State", "")
        if state in _RUNNING or state == "running":
            if state in _RUNNING:
                self._check_node(record)
            return None
        exit_status = self._ended(record, task)
        if record.mounts:
            self._drain(record)
        record.exit = exit_status
        return exit_status

    def _check_node(self, record: _Service) -> None:
        """A task waiting for a node that left never starts: that is a lost instance."""
        if record.node and self._node_named(record.node) is None:
            self._nodes = (float("-inf"), ())  # ask again before deciding
            if self._node_named(record.node) is None:
                raise ContainerGone(f"node {record.node} left the swarm (or is drained)")

    def _ended(self, record: _Service, task: dict[str, Any]) -> ExitStatus:
        status = task.get("Status", {})
        state = status.get("State", "")
        error = str(status.get("Err") or status.get("Message") or state)
        container = status.get("ContainerStatus") or {}
        code = container.get("ExitCode")
        if state == "complete":
            return ExitStatus(0)
        if state in ("failed", "shutdown") and container.get("ContainerID") and (code or 0) >= 0:
            return ExitStatus(int(code or 0))
        if record.stopping and state not in ("rejected",):
            # Stopped before its container ran (or before Docker had its code): as a kill.
            return ExitStatus(137)
        node = self._node_named(record.node)
        where = node.name if node is not None else record.node
        if "No such image" in error or "image not found" in error.lower():
            raise ImageNotFound(
                f"image {record.image!r} is not on swarm node {where}: load it there (`docker"
                f" save {record.image} | docker -H <node> load`) or push it to a registry the"
                " nodes can pull from"
            )
        if "bind source path does not exist" in error:
            raise HostMisconfigured(f"swarm node {where} cannot run the container: {error}")
        if state == "rejected":
            raise ContainerRejected(f"swarm node {where} refused the container: {error}")
        raise ContainerGone(f"the task on swarm node {where} ended without an exit ({error})")

    def wait(self, container_id: str, timeout: float) -> ExitStatus | None:
        deadline = time.monotonic() + timeout
        while True:
            found = self.poll(container_id)
            if found is not None or time.monotonic() >= deadline:
                return found
            time.sleep(min(POLL_SECONDS, max(deadline - time.monotonic(), 0)))

    def stop(self, container_id: str, grace_seconds: float) -> None:
        """Scale to 0: Swarm sends SIGTERM and kills after the StopGracePeriod the service was
        made with. Waits for the end, as `docker stop` does, so the exit code is read before
        Swarm forgets the task (a scaled-down task is removed soon after it stops)."""
        record = self._record(container_id)
        if record.exit is not None:
            return
        record.stopping = True
        task = self._task(container_id)
        container = ((task or {}).get("Status", {}).get("ContainerStatus") or {}).get("ContainerID")
        if container and record.node == self.local_node:
            # On this machine's node the container itself is stopped: the task then stays
            # listed, with its exit code, as Failed (a scaled-down task is forgotten).
            with contextlib.suppress(RuntimeFailure):
                self.docker.stop(container, grace_seconds)
            if self.wait(container_id, REMOVAL_SECONDS) is not None:
                return  # ended with its code read; restart `none` starts nothing new
        self._scale(container_id, 0)
        self.wait(container_id, grace_seconds + REMOVAL_SECONDS)

    def remove(self, container_id: str) -> None:
        with self._lock:
            record = self._services.pop(container_id, None)
        with contextlib.suppress(docker.errors.NotFound):
            try:
                _remove_service(self.api, container_id)
            except docker.errors.DockerException as exc:
                if not isinstance(exc, docker.errors.NotFound):
                    raise RuntimeFailure(f"docker service rm failed: {exc}") from exc
        if record is not None and record.mounts and record.exit is None:
            self._clear(record)  # never drained: the node's folder still holds its files
        self._until_gone_here(container_id)
        for network in self.find_networks({ISOLATED_LABEL: container_id}):
            with contextlib.suppress(RuntimeFailure):  # still in use: the engine reaps it
                self.remove_network(network.id)

    def _until_gone_here(self, name: str) -> None:
        """Swarm removes a service's container after the service, in the background: on this
        machine's node, wait for it (as `docker rm` does), so nothing of ours outlives remove.
        On another node its agent removes it; nothing here can watch that."""
        if self.local_node is None:
            return
        selector = {"label": [f"com.docker.swarm.service.name={name}"]}
        deadline = time.monotonic() + REMOVAL_SECONDS
        while time.monotonic() < deadline:
            if not _mapped_call("ps", self.api.containers, all=True, filters=selector):
                return
            time.sleep(POLL_SECONDS)

    def find(self, labels: dict[str, str]) -> list[ContainerInfo]:
        selectors = [f"{key}={value}" for key, value in labels.items()]
        found = _mapped_call("service ls", self.api.services, filters={"label": selectors})
        infos = []
        for service in found:
            name = service["Spec"]["Name"]
            task = self._task(name)
            state = (task or {}).get("Status", {}).get("State", "")
            running = task is not None and state not in _ENDED
            infos.append(ContainerInfo(name, dict(service["Spec"].get("Labels") or {}), running))
        return infos

    # -- logs ----------------------------------------------------------------------------

    def logs(self, container_id: str) -> Iterator[LogChunk]:
        """The service's log, followed; once the task has ended, a last unfollowed read
        supplies what the follow had not yet delivered. A follow that ends early (asked
        before Swarm made the task) is opened again, past the lines already given."""
        delivered = 0
        while True:
            frames: queue.Queue[bytes | None] = queue.Queue()
            stream = self._follow(container_id)
            threading.Thread(
                target=_pump, args=(stream, frames), name="swarm-logs", daemon=True
            ).start()
            seen, ended = 0, False
            try:
                while True:
                    try:
                        frame = frames.get(timeout=0.25)
                    except queue.Empty:
                        ended = self._ended_quietly(container_id)
                        if ended:
                            break
                        continue
                    if frame is None:
                        ended = self._ended_quietly(container_id)
                        break
                    seen += 1
                    if seen > delivered:
                        delivered += 1
                        yield _stamped(frame)
            finally:
                with contextlib.suppress(Exception):
                    stream.close()  # type: ignore[attr-defined]
            if ended:
                break
            time.sleep(POLL_SECONDS)
        for index, frame in enumerate(self._all_logs(container_id)):
            if index >= delivered:
                yield _stamped(frame)

    def _follow(self, name: str) -> Iterator[bytes]:
        try:
            stream: Iterator[bytes] = self.api.service_logs(
                name, follow=True, stdout=True, stderr=True, timestamps=True
            )
        except docker.errors.DockerException as exc:
            raise RuntimeFailure(f"docker service logs failed: {exc}") from exc
        return stream

    def _ended_quietly(self, name: str) -> bool:
        try:
            task = self._task(name)
        except ContainerGone:
            return True
        return task is None or task.get("Status", {}).get("State") in _ENDED

    def _all_logs(self, name: str) -> list[bytes]:
        try:
            return list(
                self.api.service_logs(name, follow=False, stdout=True, stderr=True, timestamps=True)
            )
        except docker.errors.DockerException:
            return []

    # -- staging through the object store -------------------------------------------------

    def _fill(self, record: _Service, node: Node) -> None:
        if self.staging is None:
            raise HostMisconfigured(
                f"swarm node {node.name} is not this machine, so the job's files must travel"
                " through the object store: set ORCHESTRATOR_OBJECT_STORE=s3 and"
                " ORCHESTRATOR_SWARM_STAGING=s3://bucket/prefix (a bucket every node reaches)"
            )
        try:
            self.staging.upload(record.name, record.mounts)
        except Exception as exc:
            raise RuntimeFailure(f"could not stage the job's files for {node.name}: {exc}") from exc
        self._helper(record, node, "fill", self.staging.fill_plan(record.name, record.mounts))

    def _drain(self, record: _Service) -> None:
        assert self.staging is not None
        node = self._node_named(record.node)
        if node is None:
            raise ContainerGone(f"node {record.node} left the swarm before /opt/ml came back")
        plan = self.staging.drain_plan(record.name, record.mounts)
        self._helper(record, node, "drain", plan)
        try:
            self.staging.collect(record.name, record.mounts)
        except Exception as exc:
            raise ContainerGone(f"what the container wrote on {node.name} is lost: {exc}") from exc
        finally:
            self.staging.forget(record.name)

    def _clear(self, record: _Service) -> None:
        node = self._node_named(record.node)
        if node is None or self.staging is None:
            return
        with contextlib.suppress(RuntimeFailure):
            self._helper(record, node, "clear", self.staging.clear_plan(record.name))
        self.staging.forget(record.name)

    def _helper(self, record: _Service, node: Node, role: str, plan: str) -> None:
        """Run the helper on the node with `plan`, to its end; remove it."""
        assert self.staging is not None
        parent = self.staging.parent
        name = f"{record.name}-{role}"
        container = docker.types.ContainerSpec(
            HELPER_IMAGE,
            env={"ORCHESTRATOR_PLAN": plan},
            mounts=[docker.types.Mount("/parent", parent, type="bind")],
            labels={ROLE_LABEL: role},
        )
        template = docker.types.TaskTemplate(
            container,
            restart_policy=docker.types.RestartPolicy("none"),
            placement=docker.types.Placement(constraints=[f"node.id=={node.id}"]),
        )
        helper = _Service(name, node.id, HELPER_IMAGE, [])
        with contextlib.suppress(docker.errors.NotFound):
            _remove_service(self.api, name)  # left by a process that died mid-way
        _mapped_call(
            "service create",
            self.api.create_service,
            template,
            name=name,
            labels={ROLE_LABEL: role},
        )
        try:
            status = self._helper_exit(helper)
        finally:
            with contextlib.suppress(docker.errors.DockerException):
                _remove_service(self.api, name)
        if status.code != 0:
            lines = b"".join(self._all_logs(name)).decode(errors="replace").strip()
            raise RuntimeFailure(
                f"the {role} helper on swarm node {node.name} exited {status.code}:"
                f" {lines.splitlines()[-1] if lines else 'no output'}"
            )

    def _helper_exit(self, helper: _Service) -> ExitStatus:
        deadline = time.monotonic() + HELPER_SECONDS
        while time.monotonic() < deadline:
            task = self._task(helper.name)
            state = (task or {}).get("Status", {}).get("State", "")
            if task is not None and state in _ENDED:
                return self._ended(helper, task)
            if task is None or state in _RUNNING:
                self._check_node(helper)
            time.sleep(POLL_SECONDS)
        raise ContainerGone(f"the helper {helper.name} did not finish in {HELPER_SECONDS:.0f} s")

    # -- networks ------------------------------------------------------------------------

    def create_network(self, spec: NetworkSpec) -> str:
        """An attachable overlay (an existing one of that name is reused)."""
        found = [n for n in self.api.networks(names=[spec.name]) if n.get("Name") == spec.name]
        if found:
            return str(found[0]["Id"])
        created = _mapped_call(
            "network create",
            self.api.create_network,
            spec.name,
            driver="overlay",
            attachable=True,
            internal=spec.internal,
            labels=spec.labels,
        )
        return str(created["Id"])

    def remove_network(self, network_id: str) -> None:
        self.docker.remove_network(network_id)

    def find_networks(self, labels: dict[str, str]) -> list[NetworkInfo]:
        return self.docker.find_networks(labels)


def _inspect_image(api: Any, image: str) -> None:
    api.inspect_image(image)


def _remove_service(api: Any, name: str) -> None:
    api.remove_service(name)


def _pump(stream: Iterator[bytes], frames: queue.Queue[bytes | None]) -> None:
    """Follow the log into a queue; None when the stream ends (or is closed under us)."""
    try:
        for frame in stream:
            frames.put(frame)
    except Exception:  # closed by the reader, or the manager dropped it: the last read mends
        pass
    finally:
        frames.put(None)
