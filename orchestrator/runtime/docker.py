"""The only module that imports docker: Docker Engine API calls, errors mapped to ours.

Idempotent calls (start, stop, inspect, list, remove, info) are retried a few times, briefly,
when the daemon hiccups (a dropped connection, a 5xx); tenacity keeps that bounded. A container
that disappears under us (`docker rm -f` from outside) is ContainerGone: a lost instance.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

import docker
import docker.errors
import docker.types
import requests.exceptions

from orchestrator.errors import (
    ContainerGone,
    ContainerRejected,
    GpuRuntimeMissing,
    ImageNotFound,
    RuntimeFailure,
)
from orchestrator.gpus import Gpu
from orchestrator.runtime.nvidia import detect_gpus
from orchestrator.runtime.protocol import (
    ContainerInfo,
    ContainerSpec,
    ExitStatus,
    LogChunk,
    NetworkInfo,
    NetworkSpec,
    Node,
)

P = ParamSpec("P")
T = TypeVar("T")

RETRY_ATTEMPTS = 4


# What Docker answers (HTTP 500) when a container asks for GPUs and no NVIDIA container
# runtime (nvidia-container-toolkit) is set up: `could not select device driver "nvidia"`.
_NO_DEVICE_DRIVER = "could not select device driver"
INSTALL_NVIDIA_TOOLKIT = (
    "install the NVIDIA Container Toolkit"
    " (https://docs.nvidia.com/datacenter/cloud-native/container-toolkit/latest/install-guide.html),"
    " run `sudo nvidia-ctk runtime configure --runtime=docker` and restart Docker; or set"
    " ORCHESTRATOR_GPUS=none to run GPU instance types on CPUs"
)


def _no_device_driver(exc: BaseException) -> bool:
    return isinstance(exc, docker.errors.APIError) and _NO_DEVICE_DRIVER in str(
        exc.explanation or exc
    )


def _transient(exc: BaseException) -> bool:
    """Worth another try: the daemon dropped the connection, or answered 5xx (except for a
    missing GPU runtime, which no retry fixes)."""
    if isinstance(exc, requests.exceptions.ConnectionError):
        return True
    status = getattr(exc, "status_code", None)
    return (
        isinstance(exc, docker.errors.APIError)
        and isinstance(status, int)
        and status >= 500
        and not _no_device_driver(exc)
    )


def _retried(func: Callable[P, T]) -> Callable[P, T]:
    """`func` with bounded retries of transient errors (tenacity, imported only when the
    daemon first hiccups: it costs ~20 ms, and `orchestrator run` start-up is benchmarked)."""
    import tenacity

    retrying: Callable[[Callable[P, T]], Callable[P, T]] = tenacity.retry(
        retry=tenacity.retry_if_exception(_transient),
        stop=tenacity.stop_after_attempt(RETRY_ATTEMPTS - 1),
        wait=tenacity.wait_exponential(multiplier=0.1, max=1.0),
        reraise=True,
    )
    return retrying(func)


def _mapped(func: Callable[P, T]) -> Callable[P, T]:
    """Turn docker-py and transport errors into ours, keeping the cause."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return func(*args, **kwargs)
        except docker.errors.NotFound as exc:
            if func.__name__ in _ON_A_CONTAINER:
                when = "before it started" if func.__name__ == "start" else "while it ran"
                raise ContainerGone(
                    f"the container was removed {when} (docker {func.__name__}: no such container)"
                ) from exc
            raise RuntimeFailure(f"docker {func.__name__} failed: {exc}") from exc
        except docker.errors.APIError as exc:
            status = exc.status_code
            if func.__name__ in _MAKING_A_CONTAINER and isinstance(status, int) and status < 500:
                raise ContainerRejected(
                    f"the Docker engine refused to {func.__name__} the training container:"
                    f" {exc.explanation or exc}"
                ) from exc
            raise RuntimeFailure(f"docker {func.__name__} failed: {exc}") from exc
        except docker.errors.DockerException as exc:
            raise RuntimeFailure(f"docker {func.__name__} failed: {exc}") from exc
        except requests.exceptions.ConnectionError as exc:
            raise RuntimeFailure(f"docker {func.__name__}: the daemon did not answer") from exc

    return wrapper


def _idempotent(func: Callable[P, T]) -> Callable[P, T]:
    """Mapped errors, after brief retries of transient ones."""

    @functools.wraps(func)
    def first_try(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            if not _transient(exc):
                raise
        return _retried(func)(*args, **kwargs)

    return _mapped(first_try)


_BEING_REMOVED = frozenset({"removing", "dead"})

# Calls on one container: a 404 there means the container vanished.
_ON_A_CONTAINER = frozenset({"start", "wait", "poll", "stop"})
# A 4xx here (a bad entrypoint, an impossible mount or limit) is the request's fault.
_MAKING_A_CONTAINER = frozenset({"create", "start"})


def _stamped(frame: bytes) -> LogChunk:
    """A frame of `docker logs --timestamps`: `2026-12-02T01:02:03.123456789Z text...`."""
    stamp, space, rest = frame.partition(b" ")
    if space:
        try:
            # Python reads at most microseconds: cut Docker's nanoseconds to six digits.
            text = stamp.decode("ascii").rstrip("Z")
            whole, _, fraction = text.partition(".")
            moment = datetime.fromisoformat(f"{whole}.{fraction[:6] or '0'}+00:00")
            return moment.timestamp(), rest
        except (UnicodeDecodeError, ValueError):
            pass
    return None, frame


class DockerRuntime:
    """Runs containers on the local Docker Engine (or DOCKER_HOST)."""

    def __init__(self, client: docker.DockerClient | None = None) -> None:
        try:
            self.client = client or docker.from_env()
        except docker.errors.DockerException as exc:
            raise RuntimeFailure(f"no Docker daemon answers: {exc}") from exc
        self.api = self.client.api

    @_mapped
    def create(self, spec: ContainerSpec) -> str:
        try:
            return self._create(spec)
        except docker.errors.ImageNotFound:
            self._pull_or_explain(spec.image)
            return self._create(spec)

    def _create(self, spec: ContainerSpec) -> str:
        host_config = self.api.create_host_config(**self._host_config(spec))
        created: dict[str, Any] = self.api.create_container(
            image=spec.image,
            name=spec.name,
            hostname=spec.hostname,
            entrypoint=spec.entrypoint,
            command=spec.command,
            environment=spec.environment,
            labels=spec.labels,
            host_config=host_config,
            network_disabled=spec.network_disabled,
            networking_config=self._networking(spec),
        )
        for network in spec.extra_networks:
            self.api.connect_container_to_network(created["Id"], network)
        return str(created["Id"])

    def _networking(self, spec: ContainerSpec) -> dict[str, Any] | None:
        """The job network's endpoint: its host names resolve to this container there."""
        if spec.network is None:
            return None
        endpoint = self.api.create_endpoint_config(aliases=spec.network_aliases or None)
        return {"EndpointsConfig": {spec.network: endpoint}}  # what NetworkingConfig holds

    @staticmethod
    def _host_config(spec: ContainerSpec) -> dict[str, Any]:
        config: dict[str, Any] = {
            "binds": {
                str(m.source): {"bind": m.target, "mode": "ro" if m.read_only else "rw"}
                for m in spec.mounts
            },
            "nano_cpus": spec.nano_cpus,
            "mem_limit": spec.memory_bytes,
            "init": False,
            # Docker loses lines when a followed json-file log rotates (daemons often set
            # max-size 10m). The container's own log is never rotated: we copy every line into
            # the job's log file, and the container and its log go when the job ends.
            "log_config": docker.types.LogConfig(
                type="json-file", config={"max-size": "100g", "max-file": "1"}
            ),
        }
        if spec.network_disabled:
            config["network_mode"] = "none"
        elif spec.network is not None:
            config["network_mode"] = spec.network
        if spec.extra_hosts:
            config["extra_hosts"] = dict(spec.extra_hosts)
        if spec.gpu_device_ids:
            config["device_requests"] = [
                docker.types.DeviceRequest(
                    driver="nvidia", device_ids=spec.gpu_device_ids, capabilities=[["gpu"]]
                )
            ]
        return config

    def _pull_or_explain(self, image: str) -> None:
        try:
            self.client.images.pull(image)
        except docker.errors.DockerException as exc:
            raise ImageNotFound(
                f"image {image!r} is not on this Docker engine and could not be pulled"
                f" ({str(exc).splitlines()[0][:200]}); build or load it first"
            ) from exc

    @_idempotent
    def start(self, container_id: str) -> None:
        try:
            self.api.start(container_id)
        except docker.errors.APIError as exc:
            if not _no_device_driver(exc):
                raise
            raise GpuRuntimeMissing(
                f"this host's Docker has no NVIDIA container runtime, so it cannot give the"
                f" container its GPUs ({exc.explanation or exc}; the container was created with"
                f" {self._device_requests(container_id)}): {INSTALL_NVIDIA_TOOLKIT}"
            ) from exc

    def _device_requests(self, container_id: str) -> str:
        """What Docker recorded on the container, as `docker inspect` shows it."""
        try:
            host_config = self.api.inspect_container(container_id)["HostConfig"]
        except Exception:  # only a detail of the message: never let it mask the failure
            return "a device request"
        requests_ = [
            f"driver {r.get('Driver')} devices {','.join(r.get('DeviceIDs') or [])}"
            f" capabilities {r.get('Capabilities')}"
            for r in host_config.get("DeviceRequests") or []
        ]
        return "the device request " + "; ".join(requests_) if requests_ else "no device request"

    @_idempotent
    def wait(self, container_id: str, timeout: float) -> ExitStatus | None:
        try:
            # docker-py hands the timeout to requests, which takes fractions of a second.
            result = self.api.wait(container_id, timeout=max(timeout, 0.01))  # type: ignore[arg-type]
        except (requests.exceptions.ReadTimeout, requests.exceptions.ConnectionError):
            # docker-py reports a wait that outlived its timeout as a transport error.
            return None
        state = self.api.inspect_container(container_id)["State"]
        if state.get("Status") in _BEING_REMOVED:
            # `docker rm -f` ends the wait with 137 while the container is still being
            # removed: a lost instance, not a training process killed by signal 9.
            raise ContainerGone(f"the container was removed while it ran ({state['Status']})")
        return ExitStatus(int(result["StatusCode"]), bool(state.get("OOMKilled")))

    @_idempotent
    def poll(self, container_id: str) -> ExitStatus | None:
        state = self.api.inspect_container(container_id)["State"]
        if state.get("Status") in _BEING_REMOVED:
            raise ContainerGone(f"the container was removed while it ran ({state['Status']})")
        if state.get("Status") != "exited":
            return None
        return ExitStatus(int(state.get("ExitCode", 0)), bool(state.get("OOMKilled")))

    @_idempotent
    def stop(self, container_id: str, grace_seconds: float) -> None:
        self.api.stop(container_id, timeout=round(grace_seconds))

    def logs(self, container_id: str) -> Iterator[LogChunk]:
        try:
            stream = self.api.logs(
                container_id, stream=True, follow=True, stdout=True, stderr=True, timestamps=True
            )
            for frame in stream:
                yield _stamped(frame)
        except docker.errors.DockerException as exc:
            raise RuntimeFailure(f"docker logs failed: {exc}") from exc

    @_idempotent
    def remove(self, container_id: str) -> None:
        with contextlib.suppress(docker.errors.NotFound):
            self.api.remove_container(container_id, force=True)

    @_idempotent
    def find(self, labels: dict[str, str]) -> list[ContainerInfo]:
        selectors = [f"{key}={value}" for key, value in labels.items()]
        found = self.api.containers(all=True, filters={"label": selectors})
        return [
            ContainerInfo(c["Id"], dict(c.get("Labels") or {}), c.get("State") == "running")
            for c in found
        ]

    @_mapped
    def create_network(self, spec: NetworkSpec) -> str:
        """Made, or the one of that name (left by an engine that died after creating it, or
        the host bridge another process made first)."""
        found = self._network_named(spec.name)
        if found is not None:
            return found
        ipam = None
        if spec.subnet is not None:
            pool = docker.types.IPAMPool(subnet=spec.subnet, gateway=spec.gateway)
            ipam = docker.types.IPAMConfig(pool_configs=[pool])
        try:
            created = self.api.create_network(
                spec.name, driver="bridge", internal=spec.internal, labels=spec.labels, ipam=ipam
            )
        except docker.errors.APIError:
            found = self._network_named(spec.name)  # made by another process meanwhile
            if found is None:
                raise
            return found
        return str(created["Id"])

    def _network_named(self, name: str) -> str | None:
        exact = [n for n in self.api.networks(names=[name]) if n.get("Name") == name]
        return str(exact[0]["Id"]) if exact else None

    @_idempotent
    def remove_network(self, network_id: str) -> None:
        with contextlib.suppress(docker.errors.NotFound):
            self.api.remove_network(network_id)

    @_idempotent
    def find_networks(self, labels: dict[str, str]) -> list[NetworkInfo]:
        selectors = [f"{key}={value}" for key, value in labels.items()]
        found = self.api.networks(filters={"label": selectors})
        return [NetworkInfo(n["Id"], n["Name"], dict(n.get("Labels") or {})) for n in found]

    # -- images (the pytest plugin builds a suite's training image) --------------------------

    @_mapped
    def build_image(
        self, context: str, tag: str, build_args: dict[str, str], labels: dict[str, str]
    ) -> None:
        """`docker build` of a directory; ContainerRejected with the build's last lines."""
        try:
            self.client.images.build(
                path=context, tag=tag, buildargs=build_args, labels=labels, rm=True
            )
        except docker.errors.BuildError as exc:
            tail = (
                "".join(
                    str(line.get("stream") or line.get("error") or "") for line in exc.build_log
                )
                .strip()
                .splitlines()[-5:]
            )
            raise ContainerRejected(
                f"docker build of {context} failed: {' / '.join(tail)}"
            ) from exc

    @_idempotent
    def remove_images(self, labels: dict[str, str]) -> int:
        """Remove every image carrying these labels; how many went."""
        selectors = [f"{key}={value}" for key, value in labels.items()]
        removed = 0
        for image in self.api.images(filters={"label": selectors}):
            with contextlib.suppress(docker.errors.NotFound):
                self.api.remove_image(image["Id"], force=True)
                removed += 1
        return removed

    def gpus(self) -> tuple[Gpu, ...] | None:
        """The local machine's GPUs: the engine this client reaches is assumed to run here
        (a remote DOCKER_HOST's GPUs are set with ORCHESTRATOR_GPUS)."""
        return detect_gpus()

    def nodes(self) -> tuple[Node, ...]:
        return ()  # one engine: the host `capacity` describes

    @_idempotent
    def capacity(self) -> tuple[int, int]:
        info = self.api.info()
        return int(info["NCPU"]), int(info["MemTotal"])
