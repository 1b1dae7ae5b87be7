"""Pipe mode's feeder on real FIFOs, fed from the local object store."""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator import recordio
from orchestrator.engine import pipes
from orchestrator.engine.pipes import PipeFeeder, epoch_chunks, pieces_of
from orchestrator.errors import StorageFailure
from orchestrator.spec import ChannelSpec
from orchestrator.storage.local import LocalObjectStore

BOUND = 30.0


def _wait_for(condition: object, what: str) -> None:
    """Wait for an event (a file, a flag) with a generous bound; never a fixed sleep."""
    deadline = time.monotonic() + BOUND
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


@pytest.fixture
def store(tmp_path: Path) -> LocalObjectStore:
    (tmp_path / "s3" / "bucket").mkdir(parents=True)
    return LocalObjectStore(tmp_path / "s3")


def _put(store: LocalObjectStore, key: str, data: bytes) -> None:
    path = store.root / "bucket" / key
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _channel(**fields: object) -> ChannelSpec:
    base: dict[str, object] = {"name": "train", "uri": "s3://bucket/data/", "input_mode": "Pipe"}
    return ChannelSpec(**{**base, **fields})  # type: ignore[arg-type]


def _read_epoch(directory: Path, name: str, size: int = -1) -> bytes:
    path = directory / name
    _wait_for(path.exists, f"the FIFO {name}")
    with path.open("rb") as fifo:
        return fifo.read(size)


@pytest.fixture
def feed(store: LocalObjectStore, tmp_path: Path) -> Iterator[object]:
    feeders: list[PipeFeeder] = []

    def start(channel: ChannelSpec, shard: tuple[int, int] | None = None) -> PipeFeeder:
        directory = tmp_path / "data"
        feeder = PipeFeeder(store, directory, channel, pieces_of(store, channel, shard))
        feeders.append(feeder.start())
        return feeder

    yield start
    for feeder in feeders:
        feeder.stop()
        feeder.remove()


def test_each_epoch_streams_every_object_in_key_order(
    store: LocalObjectStore, feed: object, tmp_path: Path
) -> None:
    for key, data in (("data/b.bin", b"B" * 3), ("data/a/x.bin", b"X"), ("other/c", b"no")):
        _put(store, key, data)
    feeder = feed(_channel())  # type: ignore[operator]
    epochs = [_read_epoch(tmp_path / "data", f"train_{n}") for n in range(3)]
    assert epochs == [b"XBBB"] * 3
    _wait_for(lambda: feeder.epoch == 3, "the fourth epoch")
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["train_3"]


def test_gzip_objects_are_decompressed_and_each_wrapped_as_a_record(
    store: LocalObjectStore, feed: object, tmp_path: Path
) -> None:
    _put(store, "data/1.gz", gzip.compress(b"first object"))
    _put(store, "data/2.gz", gzip.compress(b"xxxx" + recordio.MAGIC_BYTES + b"second"))
    feed(_channel(compression="Gzip", record_wrapper="RecordIO"))  # type: ignore[operator]
    stream = _read_epoch(tmp_path / "data", "train_0")
    assert list(recordio.records(stream)) == [
        b"first object",
        b"xxxx" + recordio.MAGIC_BYTES + b"second",
    ]


def test_a_magic_across_read_chunks_is_still_cut(
    store: LocalObjectStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = b"abcdefgh" + recordio.MAGIC_BYTES + b"tail" * 3
    _put(store, "data/one", record)
    monkeypatch.setattr(pipes, "CHUNK_BYTES", 5)  # the magic straddles two reads
    pieces = pieces_of(store, _channel(), None)
    assert b"".join(epoch_chunks(store, pieces, False, True)) == recordio.frame(record)


def test_an_augmented_manifest_streams_its_attributes_line_by_line(
    store: LocalObjectStore, feed: object, tmp_path: Path
) -> None:
    _put(store, "images/1.jpg", b"JPEG-1")
    lines = [
        {"source-ref": "s3://bucket/images/1.jpg", "is-a-cat": 1, "other": "ignored"},
        {"is-a-cat": 0, "source-ref": "s3://bucket/images/1.jpg", "box": {"w": 2}},
    ]
    _put(store, "manifest.jsonl", "\n".join(json.dumps(line) for line in lines).encode())
    channel = _channel(
        uri="s3://bucket/manifest.jsonl",
        data_type="AugmentedManifestFile",
        attribute_names=("source-ref", "is-a-cat"),
        record_wrapper="RecordIO",
    )
    feed(channel)  # type: ignore[operator]
    stream = _read_epoch(tmp_path / "data", "train_0")
    assert list(recordio.records(stream)) == [b"JPEG-1", b"1", b"JPEG-1", b"0"]


def test_an_augmented_manifest_line_without_an_attribute_is_the_requests_error(
    store: LocalObjectStore,
) -> None:
    _put(store, "m.jsonl", b'{"a": 1}\n{"b": 2}\n')
    channel = _channel(
        uri="s3://bucket/m.jsonl", data_type="AugmentedManifestFile", attribute_names=("a",)
    )
    with pytest.raises(StorageFailure, match="line 2: has no attribute 'a'"):
        pieces_of(store, channel, None)


def test_a_sharded_channel_streams_each_host_its_share(store: LocalObjectStore) -> None:
    for name in "abcd":
        _put(store, f"data/{name}", name.encode())
    shares = [pieces_of(store, _channel(), (i, 2)) for i in range(2)]
    assert [b"".join(epoch_chunks(store, share, False, False)) for share in shares] == [
        b"ac",
        b"bd",
    ]


def test_a_reader_that_closes_early_ends_that_epoch_only(
    store: LocalObjectStore, feed: object, tmp_path: Path
) -> None:
    _put(store, "data/big", b"z" * (4 << 20))
    feed(_channel())  # type: ignore[operator]
    assert _read_epoch(tmp_path / "data", "train_0", 10) == b"z" * 10
    assert len(_read_epoch(tmp_path / "data", "train_1")) == 4 << 20


def test_a_store_failure_fails_the_feed_and_never_ends_the_epoch_short(
    store: LocalObjectStore, feed: object, tmp_path: Path
) -> None:
    _put(store, "data/a", b"first")
    _put(store, "data/b", b"second")
    feeder = feed(_channel())  # type: ignore[operator]
    (store.root / "bucket" / "data" / "b").unlink()  # listed, then gone
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(_read_epoch(tmp_path / "data", "train_0")))
    reader.start()
    _wait_for(lambda: feeder.error is not None, "the feeder's error")
    assert "data/b" in str(feeder.error)
    assert reader.is_alive()  # still waiting: no end of file after a partial epoch
    feeder.stop()
    reader.join(BOUND)
    assert got == [b"first"]


def test_a_fifo_swapped_for_a_symlink_is_never_written_through(
    store: LocalObjectStore, feed: object, tmp_path: Path
) -> None:
    _put(store, "data/a", b"payload")
    victim = tmp_path / "victim.txt"
    victim.write_text("the host's file")
    feeder = feed(_channel())  # type: ignore[operator]
    directory = tmp_path / "data"
    assert _read_epoch(directory, "train_0") == b"payload"
    _wait_for((directory / "train_1").exists, "the next epoch's FIFO")
    (directory / "train_1").unlink()
    (directory / "train_1").symlink_to(victim)  # a hostile container's move
    feeder.stop()  # whether it was already waiting on the old FIFO or found the link
    assert victim.read_text() == "the host's file"
