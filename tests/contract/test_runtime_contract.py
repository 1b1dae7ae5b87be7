"""One contract, two runtimes: every test here runs on FakeRuntime and on real Docker.

The engine is written against the Runtime protocol and unit-tested on the fake; these tests are
what entitles it to believe the fake. A behaviour the engine relies on and the two disagree
about fails here, on one parameter, with the other passing.

The programs are the testbox image's behaviours (containers/testbox/testbox.py). On Docker the
image runs with them as arguments; on the fake, each behaviour is a scripted FakeProgram that
does the same, on a FakeClock that moves only when the runtime sleeps on it. Nothing here
sleeps for real: Docker is polled through `wait` with a bound, never waited out with time.sleep.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator.clock import FakeClock
from orchestrator.errors import ContainerGone, GpuRuntimeMissing, ImageNotFound
from orchestrator.runtime.fake import FakeProgram, FakeRuntime
from orchestrator.runtime.protocol import (
    LABEL_JOB,
    LABEL_STORE,
    ContainerSpec,
    ExitStatus,
    Mount,
    Runtime,
)

TEST_IMAGE = "orchestrator/testbox:latest"
MISSING_IMAGE = "orchestrator/does-not-exist:1"
POLL_SECONDS = 0.5
POLL_ROUNDS = 120  # 60 s of waiting on Docker; 60 s of fake time on the fake
GRACE_SECONDS = 1.0
OK_LINES = ["hello from the training container", "done"]  # stdout, then stderr


def fake_program(args: list[str]) -> FakeProgram:
    """The testbox behaviour `args` as a scripted program: same output, same exits."""
    mode, rest = args[0], args[1:]
    if mode == "ok":
        files = {"model/ok.txt": "trained\n", "output/data/extra.txt": "output data\n"}
        return FakeProgram(duration=0.1, lines=list(OK_LINES), files=files)
    if mode == "exit":
        return FakeProgram(duration=0.1, exit_code=int(rest[0]))
    if mode == "sleep":  # handles SIGTERM, exits 0 (saved.txt, written then, is not modelled)
        return FakeProgram(duration=float(rest[0]), lines=["sleeping"], sigterm_exit_code=0)
    if mode == "ignore-term":
        return FakeProgram(
            duration=float(rest[0]), lines=["ignoring SIGTERM"], ignores_sigterm=True
        )
    raise ValueError(f"no fake for testbox behaviour {args!r}")


@dataclasses.dataclass
class Backend:
    """A runtime under test, and specs for testbox behaviours it can run."""

    name: str
    runtime: Runtime
    image_for: Callable[[list[str]], str]
    store: str = dataclasses.field(default_factory=lambda: f"contract-{uuid.uuid4().hex}")
    _names: Iterator[int] = dataclasses.field(default_factory=itertools.count)

    def spec(self, args: list[str], workdir: Path, job: str = "contract-job") -> ContainerSpec:
        """A container running testbox `args`, with `workdir` mounted at /opt/ml."""
        workdir.mkdir(parents=True, exist_ok=True)
        return ContainerSpec(
            name=f"{self.store}-{next(self._names)}",
            image=self.image_for(args),
            hostname="algo-1",
            entrypoint=None,
            command=list(args),
            environment={},
            mounts=[Mount(workdir, "/opt/ml")],
            labels={LABEL_STORE: self.store, LABEL_JOB: job},
            stop_grace_seconds=GRACE_SECONDS,
        )

    def run(self, args: list[str], workdir: Path, job: str = "contract-job") -> str:
        """Create and start a container; its id."""
        container_id = self.runtime.create(self.spec(args, workdir, job))
        self.runtime.start(container_id)
        return container_id

    def cleanup(self) -> None:
        """Remove everything this test created, found by its store label."""
        for container in self.runtime.find({LABEL_STORE: self.store}):
            self.runtime.remove(container.id)


def _fake_backend() -> Backend:
    runtime = FakeRuntime(FakeClock())

    def image_for(args: list[str]) -> str:
        image = "fake/testbox:" + "-".join(args)
        runtime.programs[image] = fake_program(args)
        return image

    return Backend("fake", runtime, image_for)


def _docker_backend(client: Any) -> Backend:
    from orchestrator.runtime.docker import DockerRuntime

    return Backend("docker", DockerRuntime(client), lambda _args: TEST_IMAGE)


def _swarm_backend(client: Any) -> Backend:
    from orchestrator.runtime.swarm import SwarmRuntime

    return Backend("swarm", SwarmRuntime(client), lambda _args: TEST_IMAGE)


@pytest.fixture(
    params=[
        "fake",
        pytest.param("docker", marks=pytest.mark.docker),
        pytest.param("swarm", marks=pytest.mark.docker),
    ]
)
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    client: Any = None
    if request.param == "docker":
        client = request.getfixturevalue("docker_client")
        made = _docker_backend(client)
    elif request.param == "swarm":
        client = request.getfixturevalue("swarm")
        made = _swarm_backend(client)
    else:
        made = _fake_backend()
    yield made
    made.cleanup()
    assert made.runtime.find({LABEL_STORE: made.store}) == []
    if client is not None:
        left = client.containers.list(all=True, filters={"label": f"{LABEL_STORE}={made.store}"})
        assert left == [], f"containers left behind: {[c.name for c in left]}"


def wait_for_exit(runtime: Runtime, container_id: str) -> ExitStatus:
    """Poll `wait` until the container exits; fail after POLL_ROUNDS polls."""
    for _ in range(POLL_ROUNDS):
        status = runtime.wait(container_id, timeout=POLL_SECONDS)
        if status is not None:
            return status
    pytest.fail(f"container {container_id} still running after {POLL_ROUNDS} polls")


class Follow:
    """A container's output, followed line by line as it comes."""

    def __init__(self, runtime: Runtime, container_id: str) -> None:
        self.container_id = container_id
        self.chunks = iter(runtime.logs(container_id))
        self.seen = b""

    def until(self, line: str) -> None:
        """Read until `line` has been printed: the program is past its set-up (for `sleep`, its
        SIGTERM handler is installed). Bounded by the program's own run time."""
        for _, chunk in self.chunks:
            self.seen += chunk
            if line in self.seen.decode(errors="replace").splitlines():
                return
        pytest.fail(f"{self.container_id} ended without printing {line!r}: {self.seen!r}")

    def to_the_end(self) -> None:
        """Read on until the stream ends, as it must once the container has exited (leaving a
        Docker follow half read would leak its connection)."""
        for _, chunk in self.chunks:
            self.seen += chunk


def output_lines(runtime: Runtime, container_id: str) -> list[str]:
    return b"".join(chunk for _, chunk in runtime.logs(container_id)).decode().splitlines()


# -- exit statuses -------------------------------------------------------------------------


def test_a_program_that_succeeds_exits_0_and_writes_to_its_workspace(
    backend: Backend, tmp_path: Path
) -> None:
    container_id = backend.run(["ok"], tmp_path)
    assert wait_for_exit(backend.runtime, container_id) == ExitStatus(0)
    assert (tmp_path / "model" / "ok.txt").read_text() == "trained\n"


def test_a_program_that_exits_3_reports_3(backend: Backend, tmp_path: Path) -> None:
    container_id = backend.run(["exit", "3"], tmp_path)
    assert wait_for_exit(backend.runtime, container_id) == ExitStatus(3)


def test_wait_returns_none_while_the_program_runs(backend: Backend, tmp_path: Path) -> None:
    container_id = backend.run(["sleep", "30"], tmp_path)
    assert backend.runtime.wait(container_id, timeout=POLL_SECONDS) is None
    assert backend.runtime.wait(container_id, timeout=POLL_SECONDS) is None


def test_poll_answers_at_once_none_while_running_then_the_exit(
    backend: Backend, tmp_path: Path
) -> None:
    running = backend.run(["sleep", "30"], tmp_path / "a")
    assert backend.runtime.poll(running) is None
    exiting = backend.run(["exit", "3"], tmp_path / "b")
    assert wait_for_exit(backend.runtime, exiting) == ExitStatus(3)
    assert backend.runtime.poll(exiting) == ExitStatus(3)
    backend.runtime.remove(running)
    with pytest.raises(ContainerGone):
        backend.runtime.poll(running)


# -- stopping ------------------------------------------------------------------------------


def test_stop_lets_a_program_that_handles_sigterm_exit_on_its_own(
    backend: Backend, tmp_path: Path
) -> None:
    container_id = backend.run(["sleep", "30"], tmp_path)
    output = Follow(backend.runtime, container_id)
    output.until("sleeping")
    backend.runtime.stop(container_id, GRACE_SECONDS)
    assert wait_for_exit(backend.runtime, container_id) == ExitStatus(0)
    output.to_the_end()


def test_stop_kills_a_program_that_ignores_sigterm_after_the_grace(
    backend: Backend, tmp_path: Path
) -> None:
    container_id = backend.run(["ignore-term", "30"], tmp_path)
    output = Follow(backend.runtime, container_id)
    output.until("ignoring SIGTERM")
    backend.runtime.stop(container_id, GRACE_SECONDS)
    assert wait_for_exit(backend.runtime, container_id).code == 137
    output.to_the_end()


def test_stop_of_an_exited_container_keeps_its_exit_status(
    backend: Backend, tmp_path: Path
) -> None:
    container_id = backend.run(["exit", "3"], tmp_path)
    wait_for_exit(backend.runtime, container_id)
    backend.runtime.stop(container_id, GRACE_SECONDS)
    assert wait_for_exit(backend.runtime, container_id) == ExitStatus(3)


# -- output --------------------------------------------------------------------------------


def test_logs_yield_stdout_and_stderr_lines(backend: Backend, tmp_path: Path) -> None:
    container_id = backend.run(["ok"], tmp_path)
    wait_for_exit(backend.runtime, container_id)
    # Both streams arrive in one byte stream; their relative order is not part of the contract.
    assert sorted(output_lines(backend.runtime, container_id)) == sorted(OK_LINES)


def test_log_chunks_carry_when_they_were_written(backend: Backend, tmp_path: Path) -> None:
    clock = backend.runtime.clock if isinstance(backend.runtime, FakeRuntime) else None
    now = clock.now if clock is not None else time.time
    before = now()
    container_id = backend.run(["ok"], tmp_path)
    wait_for_exit(backend.runtime, container_id)
    after = now()
    stamps = [stamp for stamp, chunk in backend.runtime.logs(container_id) if chunk.strip()]
    assert stamps and all(s is not None and before - 1 <= s <= after + 1 for s in stamps)


# -- finding and removing ------------------------------------------------------------------


def test_find_returns_the_containers_with_all_the_labels(backend: Backend, tmp_path: Path) -> None:
    wanted = backend.run(["sleep", "30"], tmp_path / "wanted", job="wanted")
    other = backend.runtime.create(backend.spec(["ok"], tmp_path / "other", job="other"))
    found = backend.runtime.find({LABEL_STORE: backend.store, LABEL_JOB: "wanted"})
    assert [(c.id, c.running) for c in found] == [(wanted, True)]
    assert found[0].labels.items() >= {LABEL_STORE: backend.store, LABEL_JOB: "wanted"}.items()
    everything = backend.runtime.find({LABEL_STORE: backend.store})
    assert sorted(c.id for c in everything) == sorted([wanted, other])
    assert backend.runtime.find({LABEL_STORE: f"{backend.store}-elsewhere"}) == []


def test_find_says_an_exited_container_is_not_running(backend: Backend, tmp_path: Path) -> None:
    container_id = backend.run(["exit", "3"], tmp_path)
    wait_for_exit(backend.runtime, container_id)
    found = backend.runtime.find({LABEL_STORE: backend.store})
    assert [(c.id, c.running) for c in found] == [(container_id, False)]


def test_remove_of_a_missing_container_is_not_an_error(backend: Backend, tmp_path: Path) -> None:
    container_id = backend.run(["exit", "0"], tmp_path)
    wait_for_exit(backend.runtime, container_id)
    backend.runtime.remove(container_id)
    backend.runtime.remove(container_id)
    backend.runtime.remove("0123456789ab-never-existed")
    assert backend.runtime.find({LABEL_STORE: backend.store}) == []


def test_wait_on_a_container_removed_while_running_raises_container_gone(
    backend: Backend, tmp_path: Path
) -> None:
    container_id = backend.run(["sleep", "30"], tmp_path)
    backend.runtime.remove(container_id)  # as `docker rm -f` from outside would
    assert backend.runtime.find({LABEL_STORE: backend.store}) == []
    with pytest.raises(ContainerGone):
        backend.runtime.wait(container_id, timeout=POLL_SECONDS)


def test_a_container_removed_during_a_wait_is_gone_not_exited(
    backend: Backend, tmp_path: Path
) -> None:
    """`docker rm -f` while the engine waits: Docker ends the wait with 137 as the container
    is being removed; that is a lost instance, never an exit status to blame on the code."""
    container_id = backend.run(["sleep", "100000"], tmp_path)
    outcome: list[object] = []
    waiting = threading.Event()

    def watch() -> None:
        deadline = time.monotonic() + 60  # real time: the fake's clock runs far faster
        try:
            while time.monotonic() < deadline:
                waiting.set()
                status = backend.runtime.wait(container_id, timeout=POLL_SECONDS)
                if status is not None:
                    outcome.append(status)
                    return
        except ContainerGone as exc:
            outcome.append(exc)

    watcher = threading.Thread(target=watch)
    watcher.start()
    assert waiting.wait(30)
    backend.runtime.remove(container_id)
    watcher.join(90)
    assert len(outcome) == 1 and isinstance(outcome[0], ContainerGone), outcome


# -- the engine ----------------------------------------------------------------------------


def test_create_of_a_missing_image_raises_image_not_found(backend: Backend, tmp_path: Path) -> None:
    spec = dataclasses.replace(backend.spec(["ok"], tmp_path), image=MISSING_IMAGE)
    with pytest.raises(ImageNotFound):
        backend.runtime.create(spec)
    assert backend.runtime.find({LABEL_STORE: backend.store}) == []


def test_capacity_is_positive(backend: Backend) -> None:
    cpus, memory_bytes = backend.runtime.capacity()
    assert cpus > 0
    assert memory_bytes > 0


# -- GPUs ----------------------------------------------------------------------------------


def test_gpus_are_a_tuple_of_gpus_or_none(backend: Backend) -> None:
    found = backend.runtime.gpus()
    assert found is None or all(gpu.uuid.startswith(("GPU-", "MIG-")) for gpu in found)


def test_a_gpu_container_without_the_nvidia_runtime_is_refused_at_start(
    backend: Backend, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Created with its device request (Docker records it), refused at start with the reason,
    and removable: the engine then fails the job and leaves no container."""
    if backend.name == "swarm":
        pytest.skip("a Swarm service carries no device request: GPUs go by NVIDIA_VISIBLE_DEVICES")
    if isinstance(backend.runtime, FakeRuntime):
        backend.runtime.nvidia_runtime = False
    else:
        client = request.getfixturevalue("docker_client")
        if "nvidia" in (client.info().get("Runtimes") or {}):
            pytest.skip("this Docker has the NVIDIA runtime: the refusal cannot happen here")
    spec = dataclasses.replace(backend.spec(["ok"], tmp_path), gpu_device_ids=["GPU-0000"])
    container_id = backend.runtime.create(spec)
    with pytest.raises(GpuRuntimeMissing, match='could not select device driver "nvidia"'):
        backend.runtime.start(container_id)
    backend.runtime.remove(container_id)
    assert backend.runtime.find({LABEL_STORE: backend.store}) == []
