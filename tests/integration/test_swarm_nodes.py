"""A swarm of two machines, on this one: Docker-in-Docker nodes built from Debian's packages
(containers/swarm-node), joined to a swarm this module creates, with the orchestrator talking
to the manager over their private network (DOCKER_HOST) and an S3 server (moto) on that
network's gateway. Neither node is this machine, so every file of a host run travels through
the object store (runtime/staging.py). Everything is removed afterwards, by label.

The nodes run without --privileged, which this machine's Docker refuses (its root lacks
CAP_SYS_RESOURCE): every other capability, private cgroup namespace, no seccomp/AppArmor.
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import tarfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from orchestrator import Orchestrator, Settings
from orchestrator.runtime.protocol import LABEL_JOB
from tests.integration.conftest import job, logged, wait_until

NODE_IMAGE = "orchestrator/swarm-node:latest"
IMAGES = ["orchestrator/testbox:latest", "orchestrator/swarm-helper:latest"]
LABEL = "orchestrator.test=swarm-nodes"
TWO_SMALL = {"InstanceType": "ml.m5.large", "InstanceCount": 2, "VolumeSizeInGB": 1}

pytestmark = pytest.mark.swarm


@dataclass
class Cluster:
    manager: str  # tcp://IP:2375 of node 1
    gateway: str  # this machine's address on the nodes' network
    client: Any  # docker-py on the manager


def _docker(*args: str, **kwargs: Any) -> str:
    done = subprocess.run(["docker", *args], check=True, capture_output=True, text=True, **kwargs)
    return done.stdout.strip()


def _start_node(network: str, index: int) -> str:
    name = f"{network}-node-{index}"
    _docker(
        "run", "-d", "--name", name, "--hostname", f"swarm-node-{index}",
        "--label", LABEL, "--network", network, "--cgroupns", "private",
        "--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE",
        "--security-opt", "seccomp=unconfined", "--security-opt", "apparmor=unconfined",
        "--security-opt", "systempaths=unconfined",
        "--mount", f"type=volume,target=/var/lib/docker,volume-label={LABEL}",
        NODE_IMAGE,
    )  # fmt: skip
    return name


def _until_dockerd(node: str) -> None:
    deadline = time.monotonic() + 120
    while subprocess.run(
        ["docker", "exec", node, "docker", "version"], capture_output=True
    ).returncode:
        assert time.monotonic() < deadline, f"dockerd in {node} never answered"
        time.sleep(0.2)


def _load_images(nodes: list[str], scratch: Path) -> None:
    archive = scratch / "images.tar"
    _docker("save", "-o", str(archive), *IMAGES)
    for node in nodes:
        with archive.open("rb") as images:
            _docker("exec", "-i", node, "docker", "load", stdin=images)


def _remove_everything(network: str) -> None:
    for container in _docker("ps", "-aq", "--filter", f"label={LABEL}").split():
        subprocess.run(["docker", "rm", "-fv", container], capture_output=True)
    subprocess.run(["docker", "network", "rm", network], capture_output=True)
    for volume in _docker("volume", "ls", "-q", "--filter", f"label={LABEL}").split():
        subprocess.run(["docker", "volume", "rm", volume], capture_output=True)


@pytest.fixture(scope="module")
def cluster(docker_client: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    import docker

    try:
        docker_client.images.get(NODE_IMAGE)
    except Exception:
        pytest.fail(f"image {NODE_IMAGE} is missing: run `make images`", pytrace=False)
    network = f"orch-swarmtest-{uuid.uuid4().hex[:6]}"
    _docker(
        "network", "create", "--label", LABEL, "-o", "com.docker.network.driver.mtu=1500", network
    )
    try:
        nodes = [_start_node(network, i) for i in (1, 2)]
        for node in nodes:
            _until_dockerd(node)
        ips = [
            _docker("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", n)
            for n in nodes
        ]
        gateway = _docker("network", "inspect", "-f", "{{(index .IPAM.Config 0).Gateway}}", network)
        _docker("exec", nodes[0], "docker", "swarm", "init", "--advertise-addr", ips[0])
        token = _docker("exec", nodes[0], "docker", "swarm", "join-token", "-q", "worker")
        _docker("exec", nodes[1], "docker", "swarm", "join", "--token", token, f"{ips[0]}:2377")
        _load_images(nodes, tmp_path_factory.mktemp("images"))
        manager = f"tcp://{ips[0]}:2375"
        client = docker.DockerClient(base_url=manager)
        wait_until(lambda: _ready_nodes(client) == 2, "both nodes to be ready", 60)
        yield Cluster(manager, gateway, client)
        client.close()
    finally:
        _remove_everything(network)


def _ready_nodes(client: Any) -> int:
    return sum(n.attrs["Status"]["State"] == "ready" for n in client.nodes.list())


@pytest.fixture
def on_cluster(
    cluster: Cluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Orchestrator]:
    """An orchestrator on the cluster's manager, with S3 on the nodes' network."""
    from moto.server import ThreadedMotoServer

    # On the nodes' private network's gateway (this machine), where their tasks reach it.
    server = ThreadedMotoServer(ip_address=cluster.gateway, port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    for key, value in {
        "DOCKER_HOST": cluster.manager,
        "AWS_ENDPOINT_URL_S3": f"http://{host}:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }.items():
        monkeypatch.setenv(key, value)
    settings = Settings(
        home=tmp_path / "home", stop_grace_seconds=2, poll_seconds=0.1, lease_seconds=2,
        object_store="s3", runtime="swarm", swarm_staging="s3://staging/swarm",
    )  # fmt: skip
    orch = Orchestrator(settings)
    client = orch.objects.client  # type: ignore[attr-defined]
    for bucket in ("staging", "data", "artifacts"):
        client.create_bucket(Bucket=bucket)
    yield orch
    orch.close()
    for service in cluster.client.services.list(filters={"label": LABEL_JOB}):
        with contextlib.suppress(Exception):
            service.remove()
    server.stop()


def _nodes_of(cluster: Cluster, name: str) -> set[str]:
    """The nodes the job's running tasks are on, as the manager says."""
    found = set()
    for service in cluster.client.services.list(filters={"label": f"{LABEL_JOB}={name}"}):
        for task in service.tasks():
            if task["Status"]["State"] == "running":
                found.add(task["NodeID"])
    return found


def test_hosts_of_one_job_run_on_two_nodes_and_reach_each_other(
    cluster: Cluster, on_cluster: Orchestrator
) -> None:
    on_cluster.create_training_job(job("spread", ["mesh", "5"], ResourceConfig=TWO_SMALL))

    def meshed() -> bool:
        status = on_cluster.describe_training_job("spread")
        assert status["TrainingJobStatus"] == "InProgress", status.get("FailureReason")
        return logged(on_cluster, "spread", "mesh complete", times=2)

    wait_until(meshed, "the mesh", 180)
    assert len(_nodes_of(cluster, "spread")) == 2  # one host on each node
    described = on_cluster.wait("spread", timeout=120)
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    assert logged(on_cluster, "spread", "connected to algo-1")
    assert logged(on_cluster, "spread", "connected to algo-2")


def test_channels_go_in_and_the_model_comes_back_through_the_object_store(
    cluster: Cluster, on_cluster: Orchestrator
) -> None:
    client = on_cluster.objects.client  # type: ignore[attr-defined]
    for key in ("train/a.csv", "train/b.csv"):
        client.put_object(Bucket="data", Key=key, Body=b"x,y\n1,2\n")
    channel = {
        "ChannelName": "train",
        "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://data/train"}},
    }
    on_cluster.create_training_job(
        job("files", ["channels"], ResourceConfig=TWO_SMALL, InputDataConfig=[channel])
    )
    described = on_cluster.wait("files", timeout=180)
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    assert logged(on_cluster, "files", "channel train: a.csv,b.csv", times=2)

    on_cluster.create_training_job(job("model", ["ok"]))
    described = on_cluster.wait("model", timeout=180)
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    body = client.get_object(Bucket="artifacts", Key="out/model/output/model.tar.gz")["Body"]
    with tarfile.open(fileobj=io.BytesIO(body.read())) as model:
        assert model.extractfile("ok.txt").read() == b"trained\n"  # type: ignore[union-attr]
    # Nothing staged is left behind, on the nodes' side or in the bucket.
    assert client.list_objects_v2(Bucket="staging").get("KeyCount", 0) == 0
