"""A cluster of nodes (Docker Swarm): each host of a job on a node, GPUs assigned per node."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from orchestrator.capacity import Demand, cluster_capacity, never_placed, place
from orchestrator.instances import GIB
from orchestrator.runtime.fake import FakeRuntime
from orchestrator.runtime.protocol import Node
from orchestrator.store.capacity import CapacityLedger
from orchestrator.store.db import Database
from orchestrator.store.jobs import JobStore
from tests.unit.harness import Harness, request

A = Node("node-a", "a", 2, 8 * GIB)
B = Node("node-b", "b", 2, 8 * GIB)
GPU_NODE = Node("node-g", "g", 8, 64 * GIB, gpus=("GPU-1", "GPU-2"))
SMALL = "ml.m5.large"  # 2 vCPUs, 8 GiB
ONE_GPU = "ml.g4dn.xlarge"  # 4 vCPUs, 16 GiB, 1 GPU


def _nodes(*nodes: Node) -> Any:
    return cluster_capacity(nodes, overcommit=1.0).nodes


def test_hosts_of_a_job_spread_over_the_nodes() -> None:
    placement = place([("algo-1", SMALL), ("algo-2", SMALL)], _nodes(A, B), {}, set())
    assert placement is not None
    assert {placement["algo-1"].node, placement["algo-2"].node} == {"node-a", "node-b"}


def test_a_job_waits_while_another_holds_the_nodes() -> None:
    busy = {"node-a": Demand(2, 8 * GIB), "node-b": Demand(2, 8 * GIB)}
    assert place([("algo-1", SMALL)], _nodes(A, B), busy, set()) is None
    half = {"node-a": Demand(2, 8 * GIB)}
    placement = place([("algo-1", SMALL)], _nodes(A, B), half, set())
    assert placement is not None and placement["algo-1"].node == "node-b"


def test_a_job_bigger_than_the_cluster_runs_alone_on_it() -> None:
    """As on one machine: three hosts on one idle 2-CPU node share it, limits kept."""
    placement = place([(f"algo-{i}", SMALL) for i in (1, 2, 3)], _nodes(A), {}, set())
    assert placement is not None and {p.node for p in placement.values()} == {"node-a"}
    assert place([("algo-1", SMALL)], _nodes(A), {"node-a": Demand(0.5, GIB)}, set()) is None


def test_gpus_are_assigned_on_the_node_that_has_them() -> None:
    hosts = [("algo-1", ONE_GPU), ("algo-2", ONE_GPU)]
    placement = place(hosts, _nodes(A, GPU_NODE), {}, set())
    assert placement is not None
    assert {p.node for p in placement.values()} == {"node-g"}
    assert sorted(g for p in placement.values() for g in p.gpus) == ["GPU-1", "GPU-2"]
    # GPU-1 held by another job: one host fits now, not two (gang placement waits).
    assert place(hosts, _nodes(A, GPU_NODE), {}, {"GPU-1"}) is None
    alone = place([("algo-1", ONE_GPU)], _nodes(A, GPU_NODE), {}, {"GPU-1"})
    assert alone is not None and alone["algo-1"].gpus == ("GPU-2",)


def test_strict_gpus_refuse_a_job_no_node_can_hold() -> None:
    hosts = [("algo-1", "ml.p3.8xlarge")]  # 4 GPUs
    assert never_placed(hosts, _nodes(A, GPU_NODE), strict_gpus=False) is None
    reason = never_placed(hosts, _nodes(A, GPU_NODE), strict_gpus=True)
    assert reason is not None and "needs 4 GPUs" in reason and "orchestrator.gpus" in reason


def test_the_ledger_records_each_host_on_its_node(tmp_path: Path) -> None:
    jobs = JobStore(Database(tmp_path / "db.sqlite"))
    ledger = CapacityLedger(jobs.db)
    capacity = cluster_capacity((A, B), overcommit=1.0)
    for name in ("first", "second"):
        jobs.insert(name, f"arn:{name}", {"TrainingJobName": name}, 0.0, "engine-1", 1000.0)
    two = Demand(4, 16 * GIB)
    hosts = [("algo-1", SMALL), ("algo-2", SMALL)]
    assert ledger.request("first", two, capacity, 1.0, hosts) is not None
    placed = ledger.placement_of("first")
    assert {p.node for p in placed.values()} == {"node-a", "node-b"}
    assert ledger.held_by_node() == {"node-a": Demand(2, 8 * GIB), "node-b": Demand(2, 8 * GIB)}
    assert ledger.request("second", Demand(2, 8 * GIB), capacity, 1.0, hosts[:1]) is None
    ledger.release("first")
    assert ledger.placement_of("first") == {} and ledger.held_by_node() == {}
    assert ledger.request("second", Demand(2, 8 * GIB), capacity, 2.0, hosts[:1]) is not None


@pytest.fixture
def h(tmp_path: Path) -> Harness:
    harness = Harness(tmp_path)
    harness.runtime = FakeRuntime(harness.clock, nodes=(A, B))
    object.__setattr__(harness.ctx, "runtime", harness.runtime)
    harness.program("fake/ok:latest", duration=5)
    return harness


def test_each_host_container_is_pinned_to_its_node(h: Harness) -> None:
    two = {"InstanceType": SMALL, "InstanceCount": 2, "VolumeSizeInGB": 1}
    h.run(request(ResourceConfig=two))
    assert h.store.require("job-1").status == "Completed"
    nodes = {c.spec.hostname: c.spec.node for c in h.runtime.containers.values()}
    assert sorted(nodes) == ["algo-1", "algo-2"] and set(nodes.values()) == {"node-a", "node-b"}
    assert h.ctx.ledger.placement_of("job-1") == {}  # released with the job


def test_pipe_mode_is_refused_on_a_node_of_another_machine(h: Harness) -> None:
    channel = {
        "ChannelName": "train",
        "InputMode": "Pipe",
        "DataSource": {
            "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://bucket/data/train"}
        },
    }
    h.run(request(InputDataConfig=[channel]))
    described = h.store.require("job-1")
    assert described.status == "Failed"
    assert "Pipe mode" in (described.failure_reason or "")
