"""The orchestrator's pytest plugin: SageMaker training containers tested on the local Docker.

Registered as a `pytest11` entry point, so a suite needs no conftest. Fixtures:

- `orchestrator`: the in-process Python API on a private store, per test.
- `run_training_job`: `run_training_job(request, timeout=600)` runs a CreateTrainingJob request to
  its end and returns a TrainingJobResult (`assert_completed()`, `assert_failed(...)`,
  `assert_metric(...)`, `assert_logged(...)`, whose failures show the status history, the failure
  reason and the last log lines).
- `training_image`: `training_image(directory, tag=None)` builds an image from a directory once
  per session (BASE_IMAGE from the environment, if set, as a build argument) and returns its tag.
- `channel`: `channel(source, name="train")` puts a local file, a folder or {name: content}
  into the test's store and returns the InputDataConfig entry that reads it.
- `sagemaker_endpoint`: an `orchestrator serve` on a free loopback port with a private store for
  the session (`--orchestrator-endpoint-scope module|function` for one per module or test); for
  the test's duration AWS_ENDPOINT_URL_SAGEMAKER, ..._SAGEMAKER_METRICS,
  ..._CLOUDWATCH_LOGS, a region and dummy credentials point unmodified boto3 and SageMaker SDK
  code at it (restored afterwards).

Everything a session creates (stores, containers, networks, images it built) is removed when its
scope ends, also after a failure; a killed run's leftovers are reaped by the next run. Options:
`--orchestrator-home DIR` (where session folders go), `--orchestrator-keep` (keep the stores),
`--orchestrator-endpoint-scope` (how long one sagemaker_endpoint lives).
Marker `sagemaker_container`: the test needs a Docker daemon; where none answers it is skipped
with the reason (with CI=true it fails instead, so a broken CI never passes by skipping).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from orchestrator.testing.results import TrainingJobResult
from orchestrator.testing.sessions import (
    LABEL_SESSION,
    TestSession,
    default_base,
    reap_dead_sessions,
    reap_store,
)

if TYPE_CHECKING:
    from orchestrator.api.server import ApiServer
    from orchestrator.local import Orchestrator
    from orchestrator.runtime.docker import DockerRuntime

MARKER = "sagemaker_container"
_SESSION = pytest.StashKey[TestSession]()
_RUNTIME = pytest.StashKey["tuple[DockerRuntime | None, str]"]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("orchestrator", "SageMaker training containers (orchestrator)")
    group.addoption(
        "--orchestrator-home",
        default=None,
        help="folder for the session's private stores (default: <tmp>/orchestrator-pytest)",
    )
    group.addoption(
        "--orchestrator-endpoint-scope",
        choices=("session", "module", "function"),
        default="session",
        help="how long one sagemaker_endpoint (its server and store) lives (default: session)",
    )
    group.addoption(
        "--orchestrator-keep",
        action="store_true",
        help="keep the session's stores (jobs, logs, artifacts) for debugging",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}: needs a Docker daemon; skipped with the reason where none answers",
    )


def _docker(config: pytest.Config) -> tuple[DockerRuntime | None, str]:
    """The Docker runtime, or None and why not (asked once per session)."""
    if _RUNTIME not in config.stash:
        try:
            from orchestrator.runtime.docker import DockerRuntime

            runtime = DockerRuntime()
            runtime.capacity()  # answers, or raises
            config.stash[_RUNTIME] = (runtime, "")
        except Exception as exc:  # any failure to reach the daemon means: no Docker here
            config.stash[_RUNTIME] = (None, f"no Docker daemon answers ({type(exc).__name__})")
    return config.stash[_RUNTIME]


def _require_docker(config: pytest.Config) -> DockerRuntime:
    runtime, why = _docker(config)
    if runtime is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {why}", pytrace=False)
        pytest.skip(why)
    return runtime


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker(MARKER) is not None:
        _require_docker(item.config)


def _session(config: pytest.Config) -> TestSession:
    if _SESSION not in config.stash:
        option = config.getoption("--orchestrator-home")
        base = Path(option) if option else default_base()
        runtime, _ = _docker(config)
        reap_dead_sessions(base, runtime)
        config.stash[_SESSION] = TestSession(base)
    return config.stash[_SESSION]


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Last resort, also after a KeyboardInterrupt: nothing of the session stays. Last, so
    session fixtures (the endpoint's store) are torn down before their folder goes."""
    config = session.config
    if _SESSION in config.stash:
        runtime, _ = _docker(config)
        config.stash[_SESSION].clean(runtime, config.getoption("--orchestrator-keep"))


def _open(config: pytest.Config, label: str) -> Orchestrator:
    from orchestrator import Orchestrator, Settings

    home = _session(config).new_home(label)
    return Orchestrator(Settings(home=home, stop_grace_seconds=5))


def _close(config: pytest.Config, orch: Orchestrator) -> None:
    """The store's containers and networks go with it (its files at the session's end)."""
    orch.close()
    runtime, _ = _docker(config)
    if runtime is not None:
        reap_store(runtime, orch.settings.database_path)


@pytest.fixture
def orchestrator(request: pytest.FixtureRequest) -> Iterator[Orchestrator]:
    """The in-process Python API on a private store, for this test."""
    _require_docker(request.config)
    orch = _open(request.config, request.node.name)
    yield orch
    _close(request.config, orch)


@pytest.fixture
def run_training_job(orchestrator: Orchestrator) -> Callable[..., TrainingJobResult]:
    """`run_training_job(request, timeout=600)`: create, wait for the end, return the result."""

    def run(request: dict[str, Any], timeout: float = 600) -> TrainingJobResult:
        name = str(request["TrainingJobName"])
        orchestrator.create_training_job(request)
        description = orchestrator.wait(name, timeout=timeout)
        hosts = {host for _, host, _ in orchestrator.host_log_events(name)}
        lines = [
            f"{host} | {text}" if len(hosts) > 1 else text
            for _, host, text in orchestrator.host_log_events(name)
        ]
        return TrainingJobResult(name, description, lines)

    return run


@pytest.fixture
def channel(orchestrator: Orchestrator, request: pytest.FixtureRequest) -> Callable[..., Any]:
    """`channel(source, name="train")`: a file, a folder or {file name: content} put into the
    test's store; returns the InputDataConfig entry (S3Prefix, File mode) that reads it."""
    return lambda source, name="train": _channel(orchestrator, request.node.name, source, name)


def _channel(orch: Orchestrator, test: str, source: Any, name: str) -> dict[str, Any]:
    safe = "".join(c if c.isalnum() or c == "-" else "-" for c in test)[:60].strip("-")
    uri = f"s3://pytest-channels/{safe or 'test'}/{name}"
    if isinstance(source, dict):
        folder = orch.settings.home / "channel-sources" / name
        folder.mkdir(parents=True, exist_ok=True)
        for file_name, content in source.items():
            target = folder / file_name
            target.parent.mkdir(parents=True, exist_ok=True)
            data = content.encode() if isinstance(content, str) else bytes(content)
            target.write_bytes(data)
        source = folder
    orch.upload(Path(source), uri if Path(source).is_dir() else f"{uri}/")
    s3 = {"S3DataType": "S3Prefix", "S3Uri": f"{uri}/", "S3DataDistributionType": "FullyReplicated"}
    return {"ChannelName": name, "DataSource": {"S3DataSource": s3}}


@pytest.fixture(scope="session")
def training_image(request: pytest.FixtureRequest) -> Callable[..., str]:
    """`training_image(directory, tag=None)`: the image built from `directory`, once per
    session; removed at the session's end."""
    runtime = _require_docker(request.config)
    session = _session(request.config)
    built: dict[Path, str] = {}

    def build(directory: str | Path, tag: str | None = None) -> str:
        folder = Path(directory).resolve()
        if folder not in built:
            name = tag or f"orchestrator-pytest/{folder.name.lower()}:{session.name}"
            base = os.environ.get("BASE_IMAGE")
            arguments = {"BASE_IMAGE": base} if base else {}
            runtime.build_image(str(folder), name, arguments, {LABEL_SESSION: session.name})
            built[folder] = name
        return built[folder]

    return build


class SageMakerEndpoint:
    """A served store: its URL, its orchestrator, and clients and channels for it."""

    def __init__(self, server: ApiServer, orch: Orchestrator) -> None:
        self.server = server
        self.orchestrator = orch
        self.url = server.url

    def client(self, service: str = "sagemaker") -> Any:
        import boto3

        return boto3.client(service, endpoint_url=self.url)

    def channel(self, source: Any, name: str = "train", test: str = "endpoint") -> dict[str, Any]:
        return _channel(self.orchestrator, test, source, name)


def _endpoint_scope(fixture_name: str, config: pytest.Config) -> Any:
    return config.getoption("--orchestrator-endpoint-scope")


@pytest.fixture(scope=_endpoint_scope)
def _sagemaker_server(request: pytest.FixtureRequest) -> Iterator[SageMakerEndpoint]:
    from orchestrator.api.server import ApiServer

    _require_docker(request.config)
    orch = _open(request.config, "endpoint")
    server = ApiServer(orch, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    yield SageMakerEndpoint(server, orch)
    server.shutdown()
    server.server_close()
    _close(request.config, orch)


@pytest.fixture
def sagemaker_endpoint(
    _sagemaker_server: SageMakerEndpoint, monkeypatch: pytest.MonkeyPatch
) -> SageMakerEndpoint:
    """The session's `orchestrator serve`, with this test's AWS environment pointed at it."""
    url = _sagemaker_server.url
    for variable in ("SAGEMAKER", "SAGEMAKER_METRICS", "CLOUDWATCH_LOGS"):
        monkeypatch.setenv(f"AWS_ENDPOINT_URL_{variable}", url)
    for variable, value in (
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
    ):
        monkeypatch.setenv(variable, value)
    monkeypatch.setenv("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    return _sagemaker_server
