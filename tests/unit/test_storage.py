"""The local object store: prefixes, file:// sources, and paths that try to escape."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from orchestrator.errors import StorageFailure
from orchestrator.storage.local import LocalObjectStore


@pytest.fixture
def objects(tmp_path: Path) -> LocalObjectStore:
    root = tmp_path / "s3"
    for key in ["data/train/a.csv", "data/train/sub/b.csv", "data/training.csv", "other/c"]:
        (root / "bucket" / key).parent.mkdir(parents=True, exist_ok=True)
        (root / "bucket" / key).write_text(key)
    return LocalObjectStore(root)


def _files(directory: Path) -> list[str]:
    return sorted(p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file())


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("s3://bucket/data/train/", ["a.csv", "sub/b.csv"]),
        ("s3://bucket/data/train", ["a.csv", "sub/b.csv", "training.csv"]),
        ("s3://bucket/data/train/a.csv", ["a.csv"]),
        ("s3://bucket/other", ["c"]),
    ],
)
def test_prefix_objects_land_below_the_channel(
    objects: LocalObjectStore, tmp_path: Path, uri: str, expected: list[str]
) -> None:
    destination = tmp_path / "channel"
    assert objects.download_prefix(uri, destination) == len(expected)
    assert _files(destination) == expected


def test_file_uris_copy_a_folder_or_a_file(objects: LocalObjectStore, tmp_path: Path) -> None:
    source = tmp_path / "local"
    (source / "x").mkdir(parents=True)
    (source / "x" / "y.txt").write_text("y")
    objects.download_prefix(f"file://{source}", tmp_path / "one")
    assert _files(tmp_path / "one") == ["x/y.txt"]
    objects.download_prefix(f"file://{source}/x/y.txt", tmp_path / "two")
    assert _files(tmp_path / "two") == ["y.txt"]


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        ("s3://bucket/missing/", "no objects found"),
        ("s3://nobucket/x", "bucket of 's3://nobucket/x' does not exist"),
        ("file:///definitely/not/here", "does not exist"),
        ("file://relative/path", "absolute path"),
    ],
)
def test_missing_sources_are_clear(
    objects: LocalObjectStore, tmp_path: Path, uri: str, message: str
) -> None:
    with pytest.raises(StorageFailure, match=message):
        objects.download_prefix(uri, tmp_path / "channel")


def test_symlinks_out_of_the_source_are_refused(objects: LocalObjectStore, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    os.symlink(secret, objects.root / "bucket" / "data" / "train" / "leak.csv")
    with pytest.raises(StorageFailure, match="points outside the source"):
        objects.download_prefix("s3://bucket/data/train/", tmp_path / "channel")


def test_symlinks_inside_are_copied_as_content(objects: LocalObjectStore, tmp_path: Path) -> None:
    train = objects.root / "bucket" / "data" / "train"
    os.symlink(train / "a.csv", train / "alias.csv")
    objects.download_prefix("s3://bucket/data/train/", tmp_path / "channel")
    alias = tmp_path / "channel" / "alias.csv"
    assert not alias.is_symlink() and alias.read_text() == "data/train/a.csv"


def test_bucket_escapes_are_refused(objects: LocalObjectStore, tmp_path: Path) -> None:
    source = tmp_path / "f"
    source.write_text("x")
    with pytest.raises(StorageFailure):
        objects.upload_file(source, "s3://bucket/../../escape")
    with pytest.raises(StorageFailure):
        objects.download_prefix("s3://../x", tmp_path / "channel")


def test_upload_tree_skips_symlinks(objects: LocalObjectStore, tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "w.bin").write_text("w")
    os.symlink("/etc/hostname", model / "host")
    assert objects.upload_tree(model, "s3://bucket/out/model") == 1
    assert _files(objects.root / "bucket" / "out" / "model") == ["w.bin"]
