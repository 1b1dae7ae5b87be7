"""CheckpointConfig on real containers: restore before training, sync while training, and
nothing lost on a stop or when the engine is killed mid-sync."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest

from orchestrator import Orchestrator, Settings
from tests.integration.conftest import (
    job,
    leftover_containers,
    logged,
    orphaned,
    secondary,
    wait_until,
)
from tests.integration.test_cli import cli, start, write_job

pytestmark = pytest.mark.docker

S3URI = "s3://ckpt/run"


def _checkpointed(name: str, args: list[str], **changes: Any) -> dict[str, Any]:
    changes.setdefault("CheckpointConfig", {"S3Uri": f"{S3URI}/{name}"})
    return job(name, args, **changes)


def _remote(settings: Settings, name: str) -> dict[str, str]:
    folder = settings.object_store_root / "ckpt" / "run" / name
    if not folder.is_dir():
        return {}
    found = {}
    for path in folder.rglob("*"):
        if path.is_file() and not path.name.endswith(".partial"):
            try:
                found[path.relative_to(folder).as_posix()] = path.read_text()
            except FileNotFoundError:  # deleted while we read: gone
                continue
    return found


def test_a_checkpoint_appears_at_s3uri_while_the_job_trains_and_deletions_follow(
    orch: Orchestrator, settings: Settings, docker_client: Any
) -> None:
    orch.create_training_job(
        _checkpointed("live", ["checkpoint", "2", "0.2", "300", "--delete-first"])
    )
    wait_until(lambda: logged(orch, "live", "wrote ckpt-0"), "the first checkpoint")
    wait_until(lambda: "ckpt-1.txt" in _remote(settings, "live"), "ckpt-1 at S3Uri")
    wait_until(lambda: logged(orch, "live", "deleted ckpt-0"), "the deletion")
    wait_until(lambda: "ckpt-0.txt" not in _remote(settings, "live"), "ckpt-0 deleted at S3Uri")
    assert secondary(orch, "live") == "Training"  # all of it while the job still trains
    assert _remote(settings, "live") == {"ckpt-1.txt": "step 1\n"}
    orch.stop_training_job("live")
    assert orch.wait("live", timeout=120)["SecondaryStatus"] == "Stopped"
    assert leftover_containers(docker_client, settings) == []


def test_a_seeded_checkpoint_is_in_local_path_before_train_starts(
    orch: Orchestrator, settings: Settings, tmp_path: Path
) -> None:
    seed = tmp_path / "seed.txt"
    seed.write_text("from an earlier run\n")
    orch.upload(seed, f"{S3URI}/seeded/ckpt-old.txt")
    described_request = _checkpointed(
        "seeded",
        ["checkpoint", "1", "0", "0"],
        CheckpointConfig={"S3Uri": f"{S3URI}/seeded", "LocalPath": "/ckpt"},
    )
    orch.create_training_job(described_request)
    assert orch.wait("seeded", timeout=120)["SecondaryStatus"] == "Completed"
    assert logged(orch, "seeded", "checkpoints at start: ckpt-old.txt")
    assert _remote(settings, "seeded") == {
        "ckpt-old.txt": "from an earlier run\n",
        "ckpt-0.txt": "step 0\n",
    }


def test_a_checkpoint_written_just_before_a_stop_is_not_lost(
    orch: Orchestrator, settings: Settings
) -> None:
    orch.create_training_job(_checkpointed("stopped", ["checkpoint", "3", "0", "300"]))
    wait_until(lambda: logged(orch, "stopped", "holding"), "the last checkpoint")
    orch.stop_training_job("stopped")  # at once: the sync may not have seen them yet
    assert orch.wait("stopped", timeout=120)["SecondaryStatus"] == "Stopped"
    assert _remote(settings, "stopped") == {f"ckpt-{i}.txt": f"step {i}\n" for i in range(3)}


def test_kill_9_of_the_engine_mid_sync_loses_no_file(
    env: dict[str, str], tmp_path: Path, orch: Orchestrator, settings: Settings
) -> None:
    request = _checkpointed("killed", ["checkpoint", "40", "0.05", "3"])
    runner = start(env, "run", write_job(tmp_path, request))
    try:
        wait_until(lambda: orch.store.get("killed") is not None, "the job to be created")
        wait_until(lambda: logged(orch, "killed", "wrote ckpt-10"), "checkpoints being written")
        runner.send_signal(signal.SIGKILL)  # the container keeps writing; nobody syncs
        runner.communicate(timeout=30)
        wait_until(lambda: orphaned(orch, "killed"), "the lease to run out")
        recovered = cli(env, "recover")
        assert "killed: Completed" in recovered.stdout, recovered.stderr
        assert _remote(settings, "killed") == {f"ckpt-{i}.txt": f"step {i}\n" for i in range(40)}
    finally:
        runner.kill()
