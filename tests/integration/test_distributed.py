"""Distributed jobs on the real Docker engine: hosts on the job's network, as a group."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest

from orchestrator import Orchestrator, Settings
from tests.integration.conftest import (
    RUNTIMES,
    job,
    leftover_containers,
    leftover_networks,
    logged,
    on_runtime,
    orphaned,
    secondary,
    wait_until,
)
from tests.integration.test_cli import cli, start, write_job

pytestmark = pytest.mark.docker

HOSTS = ("algo-1", "algo-2", "algo-3")
THREE = {"InstanceType": "ml.m5.large", "InstanceCount": 3, "VolumeSizeInGB": 1}


@pytest.fixture(params=RUNTIMES)
def settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    """Every test here runs on the Docker runtime and on the Swarm runtime."""
    return on_runtime(request, settings)


def _host_lines(orch: Orchestrator, name: str) -> dict[str, list[str]]:
    lines: dict[str, list[str]] = {host: [] for host in HOSTS}
    for _, host, text in orch.host_log_events(name):
        lines[host].append(text)
    return lines


def _all_logged(orch: Orchestrator, name: str, text: str) -> bool:
    return all(any(text in line for line in lines) for lines in _host_lines(orch, name).values())


def _nothing_left(client: Any, settings: Settings) -> bool:
    return not leftover_containers(client, settings) and not leftover_networks(client, settings)


def test_three_hosts_find_each_other_by_name(
    orch: Orchestrator, docker_client: Any, settings: Settings
) -> None:
    orch.create_training_job(job("mesh", ["mesh", "0"], ResourceConfig=THREE))
    described = orch.wait("mesh", timeout=180)
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    lines = _host_lines(orch, "mesh")
    for host in HOSTS:
        peers = sorted(f"connected to {p} (answered {p})" for p in HOSTS if p != host)
        assert sorted(line for line in lines[host] if line.startswith("connected")) == peers
        assert f"mesh complete on {host}" in lines[host]
    wait_until(lambda: _nothing_left(docker_client, settings), "containers and network to go")


def test_a_failing_host_fails_the_job_and_stops_the_others(
    orch: Orchestrator, docker_client: Any, settings: Settings
) -> None:
    request = job("one-fails", ["fail-on", "algo-2", "rank 1 diverged"], ResourceConfig=THREE)
    orch.create_training_job(request)
    described = orch.wait("one-fails", timeout=180)
    assert described["TrainingJobStatus"] == "Failed"
    assert described["FailureReason"] == "AlgorithmError: rank 1 diverged"
    lines = _host_lines(orch, "one-fails")
    for host in ("algo-1", "algo-3"):  # SIGTERM reached them: their handler ran
        assert "got SIGTERM, saving" in lines[host]
    wait_until(lambda: _nothing_left(docker_client, settings), "containers and network to go")


def test_a_stop_stops_every_host(orch: Orchestrator) -> None:
    orch.create_training_job(job("stopped", ["mesh", "600"], ResourceConfig=THREE))
    wait_until(lambda: _all_logged(orch, "stopped", "mesh complete"), "the mesh", 120)
    orch.stop_training_job("stopped")
    described = orch.wait("stopped", timeout=120)
    assert described["SecondaryStatus"] == "Stopped"
    assert _all_logged(orch, "stopped", "got SIGTERM, saving")


def test_sharded_by_s3_key_splits_six_files_two_two_two(orch: Orchestrator, tmp_path: Path) -> None:
    data = tmp_path / "six"
    data.mkdir()
    for i in range(6):
        (data / f"part-{i}.csv").write_text(f"{i}\n")
    orch.upload(data, "s3://data/six")
    source = {
        "S3DataType": "S3Prefix",
        "S3Uri": "s3://data/six",
        "S3DataDistributionType": "ShardedByS3Key",
    }
    channel = {"ChannelName": "train", "DataSource": {"S3DataSource": source}}
    request = job("sharded", ["channels"], ResourceConfig=THREE, InputDataConfig=[channel])
    orch.create_training_job(request)
    assert orch.wait("sharded", timeout=180)["TrainingJobStatus"] == "Completed"
    shares = {}
    for host, lines in _host_lines(orch, "sharded").items():
        listed = next(line for line in lines if line.startswith("channel train: "))
        shares[host] = listed.removeprefix("channel train: ").split(",")
    assert [len(share) for share in shares.values()] == [2, 2, 2]
    assert sorted(name for share in shares.values() for name in share) == [
        f"part-{i}.csv" for i in range(6)
    ]


def test_every_host_survives_kill_9_of_its_engine_and_is_adopted(
    env: dict[str, str], tmp_path: Path, orch: Orchestrator, docker_client: Any,
    settings: Settings,
) -> None:  # fmt: skip
    request = job("adopted", ["mesh", "6"], ResourceConfig=THREE)
    runner = start(env, "run", write_job(tmp_path, request))
    try:
        wait_until(lambda: orch.store.get("adopted") is not None, "the job to be created")
        wait_until(lambda: _all_logged(orch, "adopted", "mesh complete"), "the mesh", 120)
        runner.send_signal(signal.SIGKILL)
        runner.communicate(timeout=30)
        assert secondary(orch, "adopted") == "Training"
        wait_until(lambda: orphaned(orch, "adopted"), "the lease to run out")
        recovered = cli(env, "recover")
        assert recovered.returncode == 0, recovered.stderr
        assert "adopted: Completed" in recovered.stdout, recovered.stdout
    finally:
        runner.kill()
    # Adopted, not restarted: each host met the others once, and its log holds no duplicate.
    for lines in _host_lines(orch, "adopted").values():
        assert sum("mesh complete" in line for line in lines) == 1
    assert logged(orch, "adopted", "sleeping", times=3)
    wait_until(lambda: _nothing_left(docker_client, settings), "containers and network to go")


def test_network_isolation_keeps_the_hosts_together_on_an_internal_network(
    orch: Orchestrator, docker_client: Any, settings: Settings
) -> None:
    request = job("isolated", ["mesh", "600"], ResourceConfig=THREE, EnableNetworkIsolation=True)
    orch.create_training_job(request)
    wait_until(lambda: _all_logged(orch, "isolated", "mesh complete"), "the mesh", 120)
    networks = leftover_networks(docker_client, settings)
    assert [n.attrs["Internal"] for n in networks] == [True]
    assert networks[0].name.startswith("orchestrator-isolated-1-")
    orch.stop_training_job("isolated")
    assert orch.wait("isolated", timeout=120)["SecondaryStatus"] == "Stopped"
