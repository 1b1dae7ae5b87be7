"""Distributed jobs on the fake runtime: hosts, the job network, group supervision, data."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any

import pytest

from orchestrator.engine.engine import Engine
from orchestrator.engine.workspace import archive_merged, resource_config
from orchestrator.errors import ValidationError
from orchestrator.gpus import GpuSetting
from orchestrator.operations import training_jobs as service
from orchestrator.runtime.fake import FakeContainer, FakeProgram
from orchestrator.sharding import shard
from orchestrator.spec import job_spec
from orchestrator.validation.training_job import validate_create_training_job
from tests.unit.harness import Died, Harness, killed, recovered, request, until

THREE = {"InstanceType": "ml.m5.large", "InstanceCount": 3, "VolumeSizeInGB": 10}
HOSTS = ("algo-1", "algo-2", "algo-3")
LONG = {"MaxRuntimeInSeconds": 200_000}


@pytest.fixture
def h(tmp_path: Path) -> Harness:
    harness = Harness(tmp_path, cpus=64, memory_gib=512)
    harness.program("fake/ok:latest", duration=5)
    return harness


def _containers(h: Harness, attempt: int | None = None) -> dict[str, FakeContainer]:
    return {
        c.spec.hostname: c
        for c in h.runtime.containers.values()
        if attempt is None or c.spec.labels["orchestrator.attempt"] == str(attempt)
    }


def _distributed(**changes: Any) -> dict[str, Any]:
    return request(ResourceConfig=THREE, **changes)


def _algorithm(image: str) -> dict[str, str]:
    return {"TrainingImage": image, "TrainingInputMode": "File"}


# -- hosts, network, resourceconfig.json ------------------------------------------------------


def test_three_hosts_run_on_the_jobs_network_and_know_each_other(h: Harness) -> None:
    seen: dict[str, Any] = {}

    def remember(opt_ml: Path) -> None:
        config = json.loads((opt_ml / "input" / "config" / "resourceconfig.json").read_text())
        seen[config["current_host"]] = config

    h.program("fake/look:latest", duration=5, on_start=remember)
    h.run(_distributed(AlgorithmSpecification=_algorithm("fake/look:latest")))
    assert h.store.require("job-1").status == "Completed"
    containers = _containers(h)
    assert sorted(containers) == ["algo-1", "algo-2", "algo-3"]
    for host, container in containers.items():
        assert container.spec.network == f"orchestrator-job-1-1-{h.ctx.store_tag}"
        assert container.spec.network_aliases == [host]
        assert container.spec.name == f"orchestrator-job-1-1-{host}-{h.ctx.store_tag}"
    assert seen["algo-2"] == {
        "current_host": "algo-2",
        "current_instance_type": "ml.m5.large",
        "current_group_name": "homogeneousCluster",
        "hosts": ["algo-1", "algo-2", "algo-3"],
        "instance_groups": [
            {
                "instance_group_name": "homogeneousCluster",
                "instance_type": "ml.m5.large",
                "hosts": ["algo-1", "algo-2", "algo-3"],
            }
        ],
        "network_interface_name": "eth0",
    }
    assert h.runtime.networks == {}  # removed with the job's containers
    assert all(c.removed for c in containers.values())


def test_hosts_are_sorted_as_strings_in_resourceconfig() -> None:
    spec = job_spec(request(ResourceConfig={**THREE, "InstanceCount": 11}), "arn:job-1")
    config = resource_config(spec, "algo-10")
    assert config["current_host"] == "algo-10"
    assert config["hosts"][:3] == ["algo-1", "algo-10", "algo-11"]  # "sorted lexicographically"


def test_network_isolation_keeps_the_hosts_on_an_internal_network(h: Harness) -> None:
    networks: list[Any] = []
    create = h.runtime.create_network

    def remember(spec: Any) -> str:
        networks.append(spec)
        return create(spec)

    h.runtime.create_network = remember  # type: ignore[method-assign]
    h.run(_distributed(EnableNetworkIsolation=True))
    assert [n.internal for n in networks] == [True]
    container = _containers(h)["algo-1"]
    assert not container.spec.network_disabled and container.spec.network == networks[0].name
    assert networks[0].labels["orchestrator.job"] == "job-1"


def test_a_single_host_job_has_no_network_of_its_own(h: Harness) -> None:
    h.run(request())
    assert _containers(h)["algo-1"].spec.network is None


# -- supervision as a group ------------------------------------------------------------------


def test_the_first_host_that_fails_fails_the_job_and_stops_the_others(h: Harness) -> None:
    failing = FakeProgram(duration=10, exit_code=2, files={"output/failure": "rank 1 lost NCCL"})
    h.program("fake/group:latest", duration=100_000, per_host={"algo-2": failing})
    start = h.clock.now()
    h.run(
        _distributed(AlgorithmSpecification=_algorithm("fake/group:latest"), StoppingCondition=LONG)
    )
    record = h.store.require("job-1")
    assert (record.status, record.failure_reason) == ("Failed", "AlgorithmError: rank 1 lost NCCL")
    containers = _containers(h)
    assert containers["algo-1"].signals == ["SIGTERM"] and containers["algo-3"].signals == [
        "SIGTERM"
    ]
    assert containers["algo-2"].signals == []
    assert {r.host: r.exit_code for r in h.ctx.runs.of_job("job-1")} == {
        "algo-1": 143,
        "algo-2": 2,
        "algo-3": 143,
    }
    assert h.clock.now() - start < 100  # the others did not run to their end


def test_a_host_failing_without_a_failure_file_is_named(h: Harness) -> None:
    h.program("fake/group:latest", duration=100_000, per_host={"algo-3": FakeProgram(1, 5)})
    h.run(
        _distributed(AlgorithmSpecification=_algorithm("fake/group:latest"), StoppingCondition=LONG)
    )
    reason = h.store.require("job-1").failure_reason
    assert reason == "AlgorithmError: the training container of algo-3 exited with code 5"


def test_a_stop_stops_every_host(h: Harness) -> None:
    h.program("fake/long:latest", duration=100_000, sigterm_exit_code=0)
    engine = Engine(h.ctx)
    h.create(engine, _distributed(AlgorithmSpecification=_algorithm("fake/long:latest")))
    until(lambda: len([c for c in _containers(h).values() if c.started_at is not None]) == 3)
    service.request_stop(h.store, "job-1", h.clock)
    engine.join(timeout=30)
    assert h.store.require("job-1").secondary_status == "Stopped"
    assert [c.signals for c in _containers(h).values()] == [["SIGTERM"]] * 3


def test_a_retry_restarts_every_host_as_a_new_attempt(h: Harness) -> None:
    failing = FakeProgram(duration=1, exit_code=0)
    h.program("fake/group:latest", duration=5, per_host={"algo-2": failing})
    supervisor = h.supervisor(
        _distributed(
            AlgorithmSpecification=_algorithm("fake/group:latest"),
            RetryStrategy={"MaximumRetryAttempts": 1},
        )
    )
    lost: list[str] = []

    def lose_algo_3_of_attempt_1(now: float) -> None:
        group = supervisor.host
        if group is None or group.attempt != 1 or lost:
            return
        container_id = group.runners[2].container_id
        if container_id is not None:
            h.runtime.containers[container_id].removed = True
            lost.append(container_id)

    h.on_wait(lose_algo_3_of_attempt_1)
    supervisor.run()
    record = h.store.require("job-1")
    assert (record.status, record.attempt) == ("Completed", 2)
    assert sorted(_containers(h, attempt=2)) == ["algo-1", "algo-2", "algo-3"]
    assert all(c.removed for c in _containers(h, attempt=1).values())


def test_an_adopting_engine_attaches_to_every_host(h: Harness) -> None:
    h.program("fake/ok:latest", duration=50)
    supervisor = h.supervisor(_distributed())

    def die_while_training(now: float) -> None:
        if now > 10:
            raise Died

    h.on_wait(die_while_training)
    killed(h, supervisor)
    del h.runtime.wait
    before = {c.id for c in h.runtime.containers.values()}
    assert recovered(h).status == "Completed"
    assert {c.id for c in h.runtime.containers.values()} == before  # attached, not relaunched


# -- gang placement --------------------------------------------------------------------------


def test_a_job_starts_only_when_all_its_hosts_fit(tmp_path: Path) -> None:
    h = Harness(tmp_path, cpus=6, memory_gib=512)  # three ml.m5.large (2 vCPUs each)
    h.program("fake/long:latest", duration=100_000)
    h.program("fake/ok:latest", duration=5)
    engine = Engine(h.ctx)
    single = {"TrainingJobName": "single", "StoppingCondition": LONG}
    h.create(engine, request(AlgorithmSpecification=_algorithm("fake/long:latest"), **single))
    until(lambda: bool(_containers(h)))
    h.create(engine, request(TrainingJobName="three", ResourceConfig=THREE))
    until(lambda: h.store.require("three").secondary_status == "Pending")
    assert [c.spec.labels["orchestrator.job"] for c in h.runtime.containers.values()] == [
        "single"
    ]  # never half a job
    assert "needs 6 vCPUs" in h.store.transitions("three")[-1].message
    service.request_stop(h.store, "single", h.clock)
    engine.join(timeout=30)
    assert h.store.require("three").status == "Completed"


def test_gpus_are_split_between_the_hosts(tmp_path: Path) -> None:
    h = Harness(tmp_path, cpus=64, memory_gib=512, gpus=GpuSetting("simulate", count=4))
    h.program("fake/ok:latest", duration=5)
    two_gpu_hosts = {"InstanceType": "ml.g5.xlarge", "InstanceCount": 3, "VolumeSizeInGB": 10}
    h.run(request(ResourceConfig=two_gpu_hosts))
    visible = {
        host: c.spec.environment["NVIDIA_VISIBLE_DEVICES"] for host, c in _containers(h).items()
    }
    uuids = h.ctx.gpus().uuids
    assert visible == {"algo-1": uuids[0], "algo-2": uuids[1], "algo-3": uuids[2]}


# -- data ------------------------------------------------------------------------------------


def _six_objects(h: Harness) -> str:
    folder = h.settings.object_store_root / "bucket" / "data" / "six"
    folder.mkdir(parents=True)
    for i in range(6):
        (folder / f"part-{i}.csv").write_text(f"{i}\n")
    return "s3://bucket/data/six"


def _channel(name: str, uri: str, distribution: str, **s3: Any) -> dict[str, Any]:
    source = {"S3DataType": "S3Prefix", "S3Uri": uri, "S3DataDistributionType": distribution}
    return {"ChannelName": name, "DataSource": {"S3DataSource": {**source, **s3}}}


def test_sharded_by_s3_key_splits_the_objects_and_fully_replicated_copies_all(
    h: Harness,
) -> None:
    uri = _six_objects(h)
    got: dict[str, dict[str, list[str]]] = {}

    def look(opt_ml: Path) -> None:
        config = json.loads((opt_ml / "input" / "config" / "resourceconfig.json").read_text())
        data = opt_ml / "input" / "data"
        got[config["current_host"]] = {
            channel.name: sorted(p.name for p in channel.iterdir()) for channel in data.iterdir()
        }

    h.program("fake/look:latest", duration=5, on_start=look)
    channels = [_channel("shards", uri, "ShardedByS3Key"), _channel("all", uri, "FullyReplicated")]
    h.run(
        _distributed(
            AlgorithmSpecification=_algorithm("fake/look:latest"), InputDataConfig=channels
        )
    )
    shards = [got[host]["shards"] for host in ("algo-1", "algo-2", "algo-3")]
    assert shards == [["part-0.csv", "part-3.csv"], ["part-1.csv", "part-4.csv"],
                      ["part-2.csv", "part-5.csv"]]  # fmt: skip
    assert all(got[host]["all"] == [f"part-{i}.csv" for i in range(6)] for host in got)


def test_shard_is_round_robin_over_key_order() -> None:
    keys = [f"k{i}" for i in range(7)]
    assert [shard(keys, i, 3) for i in range(3)] == [
        ["k0", "k3", "k6"],
        ["k1", "k4"],
        ["k2", "k5"],
    ]
    assert shard(["only"], 1, 2) == []  # more hosts than objects: some get none
    with pytest.raises(ValueError, match="not below the host count"):
        shard(keys, 3, 3)


def test_artifacts_of_every_host_are_merged_with_algo_1_winning_a_clash(h: Harness) -> None:
    def host_files(host: str) -> FakeProgram:
        files = {f"model/{host}.txt": host, "model/model.bin": host, f"output/data/{host}": host}
        return FakeProgram(duration=5, files=files)

    per_host = {host: host_files(host) for host in ("algo-1", "algo-2", "algo-3")}
    h.program("fake/save:latest", duration=5, per_host=per_host)
    h.run(_distributed(AlgorithmSpecification=_algorithm("fake/save:latest")))
    with tarfile.open(h.artifact()) as tar:
        names = sorted(tar.getnames())
        clash = tar.extractfile("model.bin")
        assert clash is not None and clash.read() == b"algo-1"
    assert names == ["algo-1.txt", "algo-2.txt", "algo-3.txt", "model.bin"]
    with tarfile.open(h.artifact(file="output.tar.gz")) as tar:
        assert sorted(tar.getnames()) == ["algo-1", "algo-2", "algo-3"]


# -- heterogeneous clusters ------------------------------------------------------------------

GROUPS = {
    "InstanceGroups": [
        {"InstanceGroupName": "data", "InstanceType": "ml.c5.xlarge", "InstanceCount": 1},
        {"InstanceGroupName": "train", "InstanceType": "ml.m5.xlarge", "InstanceCount": 2},
    ],
    "VolumeSizeInGB": 10,
}


def test_instance_groups_name_their_hosts_and_choose_their_channels(h: Harness) -> None:
    got: dict[str, Any] = {}

    def look(opt_ml: Path) -> None:
        config = json.loads((opt_ml / "input" / "config" / "resourceconfig.json").read_text())
        channels = sorted(p.name for p in (opt_ml / "input" / "data").iterdir())
        got[config["current_host"]] = (config, channels)

    h.program("fake/look:latest", duration=5, on_start=look)
    channels = [
        _channel("raw", "s3://bucket/data/train", "FullyReplicated", InstanceGroupNames=["data"]),
        _channel("train", "s3://bucket/data/train", "FullyReplicated"),
    ]
    h.run(
        request(
            ResourceConfig=GROUPS,
            InputDataConfig=channels,
            AlgorithmSpecification=_algorithm("fake/look:latest"),
        )
    )
    assert h.store.require("job-1").status == "Completed"
    config, channels_seen = got["algo-2"]
    assert (config["current_group_name"], config["current_instance_type"]) == (
        "train",
        "ml.m5.xlarge",
    )
    assert config["instance_groups"] == [
        {"instance_group_name": "data", "instance_type": "ml.c5.xlarge", "hosts": ["algo-1"]},
        {
            "instance_group_name": "train",
            "instance_type": "ml.m5.xlarge",
            "hosts": ["algo-2", "algo-3"],
        },
    ]
    assert channels_seen == ["train"] and got["algo-1"][1] == ["raw", "train"]
    assert got["algo-1"][0]["current_instance_type"] == "ml.c5.xlarge"


@pytest.mark.parametrize(
    ("resources", "channel_groups", "message"),
    [
        ({**GROUPS, "InstanceCount": 3}, None, "InstanceCount cannot be given with"),
        (
            {**GROUPS, "InstanceGroups": GROUPS["InstanceGroups"] * 2},
            None,
            "names the group 'data' more than once",
        ),
        (GROUPS, ["nope"], "names 'nope', which is not an instance group"),
        (THREE, ["data"], "InstanceGroupNames needs ResourceConfig.InstanceGroups"),
    ],
)
def test_instance_group_rules(
    resources: dict[str, Any], channel_groups: list[str] | None, message: str
) -> None:
    channel = _channel("train", "s3://bucket/data/train", "FullyReplicated")
    if channel_groups:
        channel["DataSource"]["S3DataSource"]["InstanceGroupNames"] = channel_groups
    with pytest.raises(ValidationError, match=message):
        validate_create_training_job(request(ResourceConfig=resources, InputDataConfig=[channel]))


def test_metrics_are_scraped_from_every_host(h: Harness) -> None:
    per_host = {
        host: FakeProgram(duration=5, lines=[f"loss={i}.5"]) for i, host in enumerate(HOSTS, 1)
    }
    h.program("fake/metrics:latest", duration=5, per_host=per_host)
    algorithm = {
        **_algorithm("fake/metrics:latest"),
        "MetricDefinitions": [{"Name": "loss", "Regex": r"loss=([0-9.]+)"}],
    }
    h.run(_distributed(AlgorithmSpecification=algorithm))
    record = h.store.require("job-1")
    values = sorted(p.value for p in h.metrics.series(record.arn, "loss"))
    assert values == [1.5, 2.5, 3.5]
    assert {h_: h.ctx.runs.scraped_lines("job-1", h_) for h_ in HOSTS} == dict.fromkeys(HOSTS, 1)


def test_a_merge_keeps_a_file_of_algo_1_over_a_folder_of_another_host(tmp_path: Path) -> None:
    first, second = tmp_path / "algo-1", tmp_path / "algo-2"
    (second / "weights").mkdir(parents=True)
    (second / "weights" / "shard.bin").write_text("2")
    (second / "extra").mkdir()
    (second / "extra" / "note.txt").write_text("2")
    first.mkdir()
    (first / "weights").write_text("1")
    (first / "link").symlink_to("/etc")
    archive = archive_merged([first, second], tmp_path / "model.tar.gz")
    with tarfile.open(archive) as tar:
        assert sorted(tar.getnames()) == ["extra", "extra/note.txt", "link", "weights"]
        assert tar.getmember("link").issym() and tar.getmember("weights").isfile()


def test_an_adopter_that_finds_a_host_gone_stops_the_others_with_the_grace(h: Harness) -> None:
    h.program("fake/long:latest", duration=100_000, sigterm_exit_code=0)
    supervisor = h.supervisor(_distributed(AlgorithmSpecification=_algorithm("fake/long:latest")))

    def die_while_training(now: float) -> None:
        if len(_containers(h)) == 3:
            raise Died

    h.on_wait(die_while_training)
    killed(h, supervisor)
    del h.runtime.wait
    _containers(h)["algo-2"].removed = True  # lost while nobody watched
    record = recovered(h)
    assert record.status == "Failed" and "is gone" in (record.failure_reason or "")
    containers = _containers(h)
    assert containers["algo-1"].signals == containers["algo-3"].signals == ["SIGTERM"]
