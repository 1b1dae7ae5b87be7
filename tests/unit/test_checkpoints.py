"""The checkpoint sync on a real filesystem with real inotify events, and a local store."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from orchestrator.engine.checkpoints import CheckpointSync
from orchestrator.errors import StorageFailure, StorageUnavailable
from orchestrator.storage.local import LocalObjectStore

URI = "s3://bucket/ckpt"


def _until(condition: Callable[[], bool], what: str, bound: float = 20.0) -> None:
    deadline = time.monotonic() + bound
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


@pytest.fixture
def store(tmp_path: Path) -> LocalObjectStore:
    return LocalObjectStore(tmp_path / "s3")


@pytest.fixture
def local(tmp_path: Path) -> Path:
    return tmp_path / "local"


@pytest.fixture
def sync(local: Path, store: LocalObjectStore) -> Iterator[CheckpointSync]:
    made = CheckpointSync(local, URI, store, scan_seconds=60.0, settle_seconds=0.01)
    yield made
    made.finish()


def _remote(store: LocalObjectStore) -> dict[str, str]:
    """What S3Uri holds now (an object deleted while we read it is gone)."""
    found = {}
    for relative in store.list_prefix(URI):
        try:
            found[relative] = (store.root / "bucket" / "ckpt" / relative).read_text()
        except FileNotFoundError:
            continue
    return found


def test_restore_copies_the_prefix_into_local_path(
    sync: CheckpointSync, store: LocalObjectStore, local: Path, tmp_path: Path
) -> None:
    seed = tmp_path / "seed.txt"
    seed.write_text("epoch 3")
    store.upload_file(seed, f"{URI}/epoch-3/state.txt")
    store.upload_file(seed, "s3://bucket/ckpt-other/not-mine.txt")  # shares the prefix's text
    assert sync.restore() == 1
    assert (local / "epoch-3" / "state.txt").read_text() == "epoch 3"
    assert not (local / "not-mine.txt").exists()


def test_a_closed_file_is_uploaded_while_training_and_a_deleted_one_removed(
    sync: CheckpointSync, store: LocalObjectStore, local: Path
) -> None:
    sync.start()
    (local / "step-1").mkdir(parents=True)
    (local / "step-1" / "model.bin").write_text("weights-1")
    _until(lambda: _remote(store) == {"step-1/model.bin": "weights-1"}, "the upload")
    (local / "step-1" / "model.bin").write_text("weights-2")  # rewritten: uploaded again
    _until(lambda: _remote(store) == {"step-1/model.bin": "weights-2"}, "the new version")
    (local / "step-1" / "model.bin").unlink()
    _until(lambda: _remote(store) == {}, "the deletion")


def test_a_file_still_being_written_waits_for_a_stable_scan(
    sync: CheckpointSync, store: LocalObjectStore, local: Path
) -> None:
    local.mkdir()
    with (local / "big.bin").open("w") as handle:
        handle.write("half")
        handle.flush()
        sync._scan(stable_only=True)  # first sight: not known to be complete
        assert _remote(store) == {}
        handle.write(" and the rest")
        handle.flush()
        sync._scan(stable_only=True)  # it changed since: still not
        assert _remote(store) == {}
    sync._scan(stable_only=True)  # unchanged across two scans: uploaded
    assert _remote(store) == {"big.bin": "half and the rest"}


def test_finish_uploads_everything_and_mirrors_deletions(
    sync: CheckpointSync, store: LocalObjectStore, local: Path
) -> None:
    sync.start()
    (local / "a.txt").write_text("a")
    _until(lambda: "a.txt" in _remote(store), "the first upload")
    (local / "a.txt").unlink()
    with (local / "b.txt").open("w") as handle:  # written, then the container died: no close
        handle.write("b")
        handle.flush()
        sync.finish()
    assert _remote(store) == {"b.txt": "b"}


def test_symlinks_are_skipped(
    sync: CheckpointSync, store: LocalObjectStore, local: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("not a checkpoint")
    local.mkdir()
    (local / "escape").symlink_to(secret)
    (local / "real.txt").write_text("ok")
    sync.finish()
    assert _remote(store) == {"real.txt": "ok"}


def test_an_engine_restarted_mid_training_uploads_only_what_it_missed(
    local: Path, store: LocalObjectStore
) -> None:
    local.mkdir()
    (local / "kept.txt").write_text("same")
    (local / "new.txt").write_text("new")
    first = CheckpointSync(local, URI, store, scan_seconds=60.0)
    first.finish()  # an earlier engine uploaded both
    (local / "new.txt").write_text("newer")
    os.utime(local / "new.txt", ns=(1, 1))  # even with an older mtime: size differs
    (local / "kept.txt").unlink()
    second = CheckpointSync(local, URI, store, scan_seconds=60.0)
    second.start()
    second.finish()
    assert _remote(store) == {"new.txt": "newer"}
    assert second.uploads == 1 and second.deletes == 1


def test_hosts_sharing_s3uri_never_delete_each_others_checkpoints(
    tmp_path: Path, store: LocalObjectStore
) -> None:
    leader, worker = tmp_path / "algo-1", tmp_path / "algo-2"
    leader.mkdir()
    (leader / "ckpt-7.pt").write_text("weights")
    CheckpointSync(leader, URI, store, scan_seconds=60.0, mirror_deletes=False).finish()
    # An engine adopts the job: algo-2's sync starts on a LocalPath without algo-1's file.
    adopted = CheckpointSync(worker, URI, store, scan_seconds=60.0, mirror_deletes=False)
    adopted.start()
    (worker / "mine.pt").write_text("w")
    adopted.finish()
    (worker / "mine.pt").unlink()  # and one it wrote itself, deleted later, stays too
    again = CheckpointSync(worker, URI, store, scan_seconds=60.0, mirror_deletes=False)
    again.start()
    again.finish()
    assert _remote(store) == {"ckpt-7.pt": "weights", "mine.pt": "w"}
    assert adopted.deletes == again.deletes == 0


@pytest.mark.parametrize(
    ("raised", "kind"),
    [
        (StorageUnavailable("the store is down"), StorageUnavailable),  # InternalServerError
        (StorageFailure("the bucket does not exist"), StorageFailure),  # ClientError
    ],
)
def test_uploads_that_keep_failing_become_an_error_of_their_class(
    local: Path,
    store: LocalObjectStore,
    monkeypatch: pytest.MonkeyPatch,
    raised: StorageFailure,
    kind: type[StorageFailure],
) -> None:
    def broken(source: Path, uri: str) -> None:
        raise raised

    monkeypatch.setattr(store, "upload_file", broken)
    local.mkdir()
    (local / "x.txt").write_text("x")
    sync = CheckpointSync(local, URI, store, scan_seconds=60.0, what="TensorBoard output")
    for _ in range(3):
        sync._scan(stable_only=False)
    assert type(sync.failure) is kind
    assert sync.error is not None and str(raised) in sync.error
    assert sync.error.startswith("TensorBoard output could not be uploaded")


def test_a_temporary_file_renamed_before_its_upload_is_no_failure(
    sync: CheckpointSync, store: LocalObjectStore, local: Path
) -> None:
    local.mkdir()
    (local / "state.tmp").write_text("s")
    signature = (1, 0)
    (local / "state.tmp").rename(local / "state.npz")  # before the worker reached it
    sync._sync("state.tmp", signature)
    assert sync.error is None and sync._failures == {}
    sync.finish()
    assert _remote(store) == {"state.npz": "s"}


def test_a_final_sync_that_cannot_upload_is_an_error(
    local: Path, store: LocalObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    sync = CheckpointSync(local, URI, store, scan_seconds=60.0)
    sync.start()
    monkeypatch.setattr(store, "upload_file", _broken)
    (local / "last.txt").write_text("the last checkpoint")
    sync.finish()  # one try at the end is enough to say so
    assert sync.error is not None and "last.txt" in sync.error


def _broken(source: Path, uri: str) -> None:
    raise StorageFailure("the store is down")


def test_a_missing_local_path_is_never_read_as_deletions(
    sync: CheckpointSync, store: LocalObjectStore, local: Path
) -> None:
    sync.start()
    (local / "keep.bin").write_text("k")
    _until(lambda: "keep.bin" in _remote(store), "the upload")
    sync.abandon()  # another engine took the job over, and removes the folder
    for path in local.iterdir():
        path.unlink()
    local.rmdir()
    sync._scan(stable_only=False)
    sync._flush()
    assert _remote(store) == {"keep.bin": "k"}


def test_an_adopter_uploads_a_file_rewritten_at_the_same_size(
    local: Path, store: LocalObjectStore
) -> None:
    local.mkdir()
    (local / "weights.bin").write_text("AAAA")
    CheckpointSync(local, URI, store, scan_seconds=60.0).finish()
    (local / "weights.bin").write_text("BBBB")  # while no engine watched
    (uploaded_at,) = (mtime for _, mtime in store.list_prefix(URI).values())
    later = int((uploaded_at + 1) * 1e9)
    os.utime(local / "weights.bin", ns=(later, later))  # written after the upload
    adopter = CheckpointSync(local, URI, store, scan_seconds=60.0)
    adopter.start()
    adopter.finish()
    assert _remote(store) == {"weights.bin": "BBBB"}


def test_a_folder_swapped_for_a_symlink_is_not_followed(
    sync: CheckpointSync, store: LocalObjectStore, local: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("host secret")
    (local / "d").mkdir(parents=True)
    (local / "d" / "secret.txt").write_text("mine")
    listed = sync._local_files()
    (local / "d" / "secret.txt").unlink()
    (local / "d").rmdir()
    (local / "d").symlink_to(outside)  # swapped after the listing
    sync._sync("d/secret.txt", listed["d/secret.txt"])
    assert _remote(store) == {}


def test_tensorboard_and_intermediate_output_are_uploaded(tmp_path: Path) -> None:
    from tests.unit.harness import Harness, request

    h = Harness(tmp_path)
    files = {
        "output/tensorboard/events.out.tfevents": "scalars",
        "output/intermediate/epoch-1.txt": "partial",
    }
    h.program("fake/ok:latest", duration=5, files=files)
    h.run(request(TensorBoardOutputConfig={"S3OutputPath": "s3://bucket/tb/run-1"}))
    assert h.store.require("job-1").status == "Completed"
    root = h.settings.object_store_root / "bucket"
    assert (root / "tb" / "run-1" / "events.out.tfevents").read_text() == "scalars"
    intermediate = root / "output" / "job-1" / "output" / "intermediate" / "epoch-1.txt"
    assert intermediate.read_text() == "partial"
