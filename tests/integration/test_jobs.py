"""Real training jobs on the real Docker engine: complete, fail, stop, time out, clean up."""

from __future__ import annotations

import dataclasses
import json
import tarfile
import time
from pathlib import Path
from typing import Any

import pytest

from orchestrator import Orchestrator, Settings, ValidationError
from tests.integration.conftest import (
    EXAMPLE_DATA,
    RUNTIMES,
    artifact,
    job,
    leftover_containers,
    logged,
    on_runtime,
    wait_until,
)

pytestmark = pytest.mark.docker


@pytest.fixture(params=RUNTIMES)
def settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    """Every test here runs on the Docker runtime and on the Swarm runtime."""
    return on_runtime(request, settings)


def _members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {
            m.name: tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in tar.getmembers()
            if m.isfile()
        }


def _run(orch: Orchestrator, request: dict[str, Any]) -> dict[str, Any]:
    orch.create_training_job(request)
    return orch.wait(request["TrainingJobName"], timeout=120)


def _wait_for(orch: Orchestrator, name: str, secondary: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while orch.describe_training_job(name)["SecondaryStatus"] != secondary:
        assert time.monotonic() < deadline, f"{name} never reached {secondary}"
        time.sleep(0.05)


def test_example_training_job_completes(orch: Orchestrator, settings: Settings) -> None:
    orch.upload(EXAMPLE_DATA, "s3://data/linear/train")
    channel = {
        "ChannelName": "train",
        "ContentType": "text/csv",
        "DataSource": {
            "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://data/linear/train"}
        },
    }
    request = job(
        "linear",
        HyperParameters={"epochs": "60", "learning_rate": "0.1"},
        InputDataConfig=[channel],
    )
    request["AlgorithmSpecification"] = {
        "TrainingImage": "orchestrator/linear-regression:latest",
        "TrainingInputMode": "File",
    }
    described = _run(orch, request)
    assert (described["TrainingJobStatus"], described["SecondaryStatus"]) == ("Completed",) * 2
    statuses = [t["Status"] for t in described["SecondaryStatusTransitions"]]
    assert statuses == ["Starting", "Downloading", "Training", "Uploading", "Completed"]
    model = json.loads(_members(artifact(settings, "linear"))["model.json"])
    assert model["weights"] == pytest.approx([3.0, -2.0, 0.25], abs=0.05)
    assert "metrics.json" in _members(artifact(settings, "linear", "output.tar.gz"))
    lines = [text for _, text in orch.log_events("linear")]
    assert lines[0].startswith("training on 200 rows") and "epoch=60 " in lines[-2]


def test_the_container_sees_the_opt_ml_contract(
    orch: Orchestrator, settings: Settings, tmp_path: Path
) -> None:
    local = tmp_path / "local-channel"
    (local / "nested").mkdir(parents=True)
    (local / "nested" / "f.txt").write_text("local")
    orch.upload(EXAMPLE_DATA, "s3://data/c/train")
    channels = [
        {
            "ChannelName": "train",
            "ContentType": "text/csv",
            "DataSource": {
                "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://data/c/train"}
            },
        },
        {
            "ChannelName": "local",
            "InputMode": "FastFile",
            "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"file://{local}"}},
        },
    ]
    request = job(
        "contract",
        ["contract"],
        InputDataConfig=channels,
        HyperParameters={"lr": "0.1"},
        Environment={"MY_VAR": "yes"},
    )
    assert _run(orch, request)["TrainingJobStatus"] == "Completed"
    report = json.loads(_members(artifact(settings, "contract"))["contract.json"])
    assert report["argv"] == ["contract"] and report["hostname"] == "algo-1"
    assert report["hyperparameters"] == {"lr": "0.1"}
    assert report["resourceconfig"]["current_host"] == "algo-1"
    assert report["resourceconfig"]["hosts"] == ["algo-1"]
    assert report["inputdataconfig"]["train"] == {
        "ContentType": "text/csv",
        "TrainingInputMode": "File",
        "S3DistributionType": "FullyReplicated",
        "RecordWrapperType": "None",
    }
    assert report["inputdataconfig"]["local"]["TrainingInputMode"] == "FastFile"
    assert report["channels"] == {"local": ["nested/f.txt"], "train": ["train.csv"]}
    env = report["env"]
    assert env["TRAINING_JOB_NAME"] == "contract" and env["MY_VAR"] == "yes"
    assert env["TRAINING_JOB_ARN"].endswith(":training-job/contract")
    assert "eth0" in report["interfaces"]


def test_network_isolation_leaves_only_loopback(orch: Orchestrator, settings: Settings) -> None:
    assert (
        _run(orch, job("isolated", ["contract"], EnableNetworkIsolation=True))["TrainingJobStatus"]
        == "Completed"
    )
    report = json.loads(_members(artifact(settings, "isolated"))["contract.json"])
    if settings.runtime == "swarm":
        # A service cannot be on no network: its own internal overlay (eth0) reaches nothing,
        # and there is no gateway bridge interface (eth1) a Swarm task gets for a way out.
        assert sorted(report["interfaces"]) == ["eth0", "lo"]
    else:
        assert report["interfaces"] == ["lo"]


def test_algorithm_failure_with_a_failure_file(orch: Orchestrator, settings: Settings) -> None:
    described = _run(orch, job("fails", ["fail", "bad", "input:", "column", "x"]))
    assert described["TrainingJobStatus"] == "Failed"
    assert described["FailureReason"] == "AlgorithmError: bad input: column x"
    assert artifact(settings, "fails").exists()


def test_exit_code_without_a_failure_file(orch: Orchestrator) -> None:
    described = _run(orch, job("exits", ["exit", "7"]))
    assert described["FailureReason"] == "AlgorithmError: the training container exited with code 7"


def test_stop_lets_the_container_save_its_model(orch: Orchestrator, settings: Settings) -> None:
    orch.create_training_job(job("stopme", ["sleep", "120"]))
    _wait_for(orch, "stopme", "Training")
    wait_until(lambda: logged(orch, "stopme", "sleeping"), "its SIGTERM handler")
    orch.stop_training_job("stopme")
    orch.stop_training_job("stopme")  # twice is harmless
    described = orch.wait("stopme", timeout=60)
    assert (described["TrainingJobStatus"], described["SecondaryStatus"]) == ("Stopped",) * 2
    assert _members(artifact(settings, "stopme"))["saved.txt"] == b"saved during the grace period\n"
    with pytest.raises(ValidationError, match="already ended"):
        orch.stop_training_job("stopme")


def test_a_container_ignoring_sigterm_is_killed_after_the_grace(orch: Orchestrator) -> None:
    orch.create_training_job(job("stubborn", ["ignore-term", "300"]))
    _wait_for(orch, "stubborn", "Training")
    started = time.monotonic()
    orch.stop_training_job("stubborn")
    described = orch.wait("stubborn", timeout=60)
    assert described["SecondaryStatus"] == "Stopped"
    assert orch.store.require("stubborn").exit_code == 137
    assert time.monotonic() - started >= 2  # the 2 s grace period was honoured first


def test_max_runtime_exceeded(orch: Orchestrator, settings: Settings) -> None:
    described = _run(
        orch, job("overtime", ["sleep", "300"], StoppingCondition={"MaxRuntimeInSeconds": 2})
    )
    assert (described["TrainingJobStatus"], described["SecondaryStatus"]) == (
        "Stopped",
        "MaxRuntimeExceeded",
    )
    assert "saved.txt" in _members(artifact(settings, "overtime"))


def test_missing_image_fails_clearly(orch: Orchestrator, settings: Settings) -> None:
    request = job("noimage")
    request["AlgorithmSpecification"]["TrainingImage"] = "orchestrator/does-not-exist:1"
    described = _run(orch, request)
    assert described["TrainingJobStatus"] == "Failed"
    assert described["FailureReason"].startswith(
        "ClientError: image 'orchestrator/does-not-exist:1' is not on this Docker engine"
    )


def test_missing_channel_fails_clearly(orch: Orchestrator) -> None:
    channel = {
        "ChannelName": "train",
        "DataSource": {
            "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "file:///no/such/folder"}
        },
    }
    described = _run(orch, job("nochannel", InputDataConfig=[channel]))
    assert described["FailureReason"] == (
        "ClientError: channel source 'file:///no/such/folder' does not exist"
    )


def test_bad_input_is_refused_before_anything_runs(orch: Orchestrator, docker_client: Any) -> None:
    with pytest.raises(ValidationError, match="trainingJobName"):
        orch.create_training_job(job("bad_name"))
    assert orch.list_training_jobs()["TrainingJobSummaries"] == []
    assert leftover_containers(docker_client, orch.settings) == []


def test_jobs_run_side_by_side(orch: Orchestrator, settings: Settings, docker_client: Any) -> None:
    orch.create_training_job(job("first", ["sleep", "3"]))
    orch.create_training_job(job("second", ["sleep", "120"]))
    _wait_for(orch, "second", "Training")
    wait_until(lambda: logged(orch, "second", "sleeping"), "its SIGTERM handler")
    orch.stop_training_job("second")
    assert orch.wait("second", timeout=60)["SecondaryStatus"] == "Stopped"
    assert orch.wait("first", timeout=60)["SecondaryStatus"] == "Completed"
    assert leftover_containers(docker_client, settings) == []
    assert not (settings.jobs_root / "first" / "algo-1").exists()
    assert not (settings.jobs_root / "second" / "algo-1").exists()


def _example(name: str, uri: str, **hyperparameters: str) -> dict[str, Any]:
    channel = {
        "ChannelName": "train",
        "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri}},
    }
    request = job(name, InputDataConfig=[channel], HyperParameters=hyperparameters)
    request["AlgorithmSpecification"] = {
        "TrainingImage": "orchestrator/linear-regression:latest",
        "TrainingInputMode": "File",
    }
    return request


def test_example_reports_bad_data_through_its_failure_file(
    orch: Orchestrator, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("x,y\n1,two\n")
    described = _run(orch, _example("baddata", f"file://{bad}"))
    assert described["TrainingJobStatus"] == "Failed"
    assert described["FailureReason"].startswith("AlgorithmError: bad.csv: not numeric CSV")


def test_example_saves_its_model_when_stopped(orch: Orchestrator, settings: Settings) -> None:
    orch.upload(EXAMPLE_DATA, "s3://data/slow/train")
    orch.create_training_job(
        _example("slow", "s3://data/slow/train", epochs="1000", epoch_seconds="0.2")
    )
    deadline = time.monotonic() + 60
    while not any("epoch=2 " in line for _, line in orch.log_events("slow")):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    orch.stop_training_job("slow")
    assert orch.wait("slow", timeout=60)["SecondaryStatus"] == "Stopped"
    model = json.loads(_members(artifact(settings, "slow"))["model.json"])
    assert 2 <= model["epochs_trained"] < 1000


def test_two_stores_run_jobs_of_the_same_name_at_once(
    orch: Orchestrator, settings: Settings, docker_client: Any, tmp_path: Path
) -> None:
    other_settings = dataclasses.replace(settings, home=tmp_path / "other-home")
    other = Orchestrator(other_settings)
    try:
        for each in (orch, other):
            each.create_training_job(job("same-name", ["sleep", "2"]))
        for each in (orch, other):
            assert each.wait("same-name", timeout=120)["TrainingJobStatus"] == "Completed"
    finally:
        other.close()
        for container in leftover_containers(docker_client, other_settings):
            container.remove(force=True)
