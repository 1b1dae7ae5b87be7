"""One contract, two object stores: the local directory store and S3 (a moto server)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator.errors import StorageFailure
from orchestrator.storage.local import LocalObjectStore
from orchestrator.storage.protocol import ObjectStore


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[ObjectStore, str]]:
    """A store and a fresh bucket in it."""
    bucket = f"contract-{uuid.uuid4().hex[:12]}"
    files = LocalObjectStore(tmp_path / "s3")
    if request.param == "local":
        (tmp_path / "s3" / bucket).mkdir(parents=True)
        yield files, bucket
        return
    request.getfixturevalue("s3_env")
    from orchestrator.storage.s3 import S3ObjectStore

    s3 = S3ObjectStore(files)
    s3.client.create_bucket(Bucket=bucket)
    yield s3, bucket


def _put(objects: ObjectStore, tmp_path: Path, uri: str, text: str) -> None:
    source = tmp_path / f"src-{uuid.uuid4().hex}"
    source.write_text(text)
    objects.upload_file(source, uri)


def _tree(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_prefix_is_a_raw_key_prefix_with_nested_keys(store: Any, tmp_path: Path) -> None:
    objects, bucket = store
    for key in ("data/train/a.csv", "data/train/deep/b.csv", "data/train-2/c.csv", "data/x.csv"):
        _put(objects, tmp_path, f"s3://{bucket}/{key}", key)
    channel = tmp_path / "channel"
    assert objects.download_prefix(f"s3://{bucket}/data/train", channel) == 3
    assert _tree(channel) == {
        "a.csv": "data/train/a.csv",
        "deep/b.csv": "data/train/deep/b.csv",
        "train-2/c.csv": "data/train-2/c.csv",  # shares the prefix's leading characters
    }
    exact = tmp_path / "exact"
    objects.download_prefix(f"s3://{bucket}/data/train/", exact)
    assert sorted(_tree(exact)) == ["a.csv", "deep/b.csv"]


def test_a_share_of_the_objects(store: Any, tmp_path: Path) -> None:
    objects, bucket = store
    for i in range(5):
        _put(objects, tmp_path, f"s3://{bucket}/six/part-{i}", str(i))
    assert objects.download_prefix(f"s3://{bucket}/six/", tmp_path / "a", (1, 2)) == 2
    assert sorted(_tree(tmp_path / "a")) == ["part-1", "part-3"]


def test_list_download_and_delete(store: Any, tmp_path: Path) -> None:
    objects, bucket = store
    _put(objects, tmp_path, f"s3://{bucket}/ckpt/one.pt", "1")
    _put(objects, tmp_path, f"s3://{bucket}/ckpt/sub/two.pt", "22")
    _put(objects, tmp_path, f"s3://{bucket}/ckpt-other/x", "x")
    listed = objects.list_prefix(f"s3://{bucket}/ckpt")
    assert {k: size for k, (size, _) in listed.items()} == {"one.pt": 1, "sub/two.pt": 2}
    objects.download_file(f"s3://{bucket}/ckpt/sub/two.pt", tmp_path / "got" / "two.pt")
    assert (tmp_path / "got" / "two.pt").read_text() == "22"
    objects.delete(f"s3://{bucket}/ckpt/one.pt")
    objects.delete(f"s3://{bucket}/ckpt/never-there")  # not an error
    assert list(objects.list_prefix(f"s3://{bucket}/ckpt")) == ["sub/two.pt"]
    assert objects.list_prefix(f"s3://{bucket}/nothing-here") == {}


def test_a_tree_goes_up_without_its_symlinks(store: Any, tmp_path: Path) -> None:
    objects, bucket = store
    source = tmp_path / "model"
    (source / "sub").mkdir(parents=True)
    (source / "sub" / "w.bin").write_text("w")
    (source / "link").symlink_to("/etc/passwd")
    assert objects.upload_tree(source, f"s3://{bucket}/out/model") == 1
    assert list(objects.list_prefix(f"s3://{bucket}/out/model")) == ["sub/w.bin"]


def test_missing_things_are_clear(store: Any, tmp_path: Path) -> None:
    objects, bucket = store
    with pytest.raises(StorageFailure, match="no objects found"):
        objects.download_prefix(f"s3://{bucket}/empty/", tmp_path / "c")
    with pytest.raises(StorageFailure):
        objects.download_prefix("s3://no-such-bucket-here/x", tmp_path / "d")
    with pytest.raises(StorageFailure):
        objects.download_file(f"s3://{bucket}/missing", tmp_path / "e")


def test_file_uris_work_whatever_the_store(store: Any, tmp_path: Path) -> None:
    objects, _ = store
    folder = tmp_path / "local-data"
    folder.mkdir()
    (folder / "f.txt").write_text("local")
    assert objects.download_prefix(f"file://{folder}", tmp_path / "ch") == 1
    assert (tmp_path / "ch" / "f.txt").read_text() == "local"


def test_a_large_object_moves_in_parts(store: Any, tmp_path: Path) -> None:
    objects, bucket = store
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(1024) * 1024 * 20)  # 20 MiB: several parts for boto3
    objects.upload_file(big, f"s3://{bucket}/big/blob.bin")
    objects.download_file(f"s3://{bucket}/big/blob.bin", tmp_path / "back.bin")
    assert (tmp_path / "back.bin").read_bytes() == big.read_bytes()


def test_s3_keys_that_would_escape_the_channel_are_refused(s3_env: str, tmp_path: Path) -> None:
    from orchestrator.storage.s3 import S3ObjectStore

    objects = S3ObjectStore(LocalObjectStore(tmp_path / "unused"))
    objects.client.create_bucket(Bucket="escape")
    objects.client.put_object(Bucket="escape", Key="data/a/../../../../outside.txt", Body=b"x")
    with pytest.raises(StorageFailure, match="outside the channel"):
        objects.download_prefix("s3://escape/data/", tmp_path / "channel")
    assert not (tmp_path / "outside.txt").exists()


def test_objects_are_listed_in_key_order_and_read_as_streams(store: Any, tmp_path: Path) -> None:
    objects, bucket = store
    for key in ("p/b.bin", "p/a/z.bin", "p/a/y.bin", "q/no.bin"):
        _put(objects, tmp_path, f"s3://{bucket}/{key}", key * 1000)
    listed = objects.list_objects(f"s3://{bucket}/p/")
    assert listed == [
        ("a/y.bin", f"s3://{bucket}/p/a/y.bin"),
        ("a/z.bin", f"s3://{bucket}/p/a/z.bin"),
        ("b.bin", f"s3://{bucket}/p/b.bin"),
    ]
    with objects.open_object(listed[2][1]) as stream:
        first, rest = stream.read(5), stream.read()
    assert first + rest == b"p/b.bin" * 1000


def test_listing_or_opening_what_is_not_there_is_a_storage_failure(
    store: Any, tmp_path: Path
) -> None:
    objects, bucket = store
    with pytest.raises(StorageFailure, match="no objects"):
        objects.list_objects(f"s3://{bucket}/nothing/")
    with (
        pytest.raises(StorageFailure, match=r"missing\.bin"),
        objects.open_object(f"s3://{bucket}/missing.bin"),
    ):
        pass
