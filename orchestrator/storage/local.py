"""s3://bucket/key as files under a root directory, and file:// as plain paths.

Every path is resolved and checked to stay inside its root: a key with '..' or a symlink that
points out of a channel's directory is refused, never followed.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from orchestrator.errors import StorageFailure, StorageUnavailable
from orchestrator.sharding import shard as shard_of
from orchestrator.storage.keys import relative_to_prefix

_PLATFORM_ERRNOS = frozenset({errno.ENOSPC, errno.EIO, errno.EDQUOT, errno.EROFS})


def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


class LocalObjectStore:
    """Objects are files: s3://bucket/a/b.csv lives at <root>/bucket/a/b.csv."""

    def __init__(self, root: Path) -> None:
        self.root = root

    # -- addressing ------------------------------------------------------------------------

    def _s3_path(self, uri: str) -> tuple[Path, str]:
        """The bucket directory and the key of an s3:// or https:// URI."""
        rest = uri.split("://", 1)[1]
        bucket, _, key = rest.partition("/")
        if not bucket or bucket in (".", ".."):
            raise StorageFailure(f"not a valid bucket in {uri!r}")
        return self.root / bucket, key

    def _file_path(self, uri: str) -> Path:
        path = Path(uri[len("file://") :])
        if not path.is_absolute():
            raise StorageFailure(f"file:// URIs need an absolute path: {uri!r}")
        return path

    @staticmethod
    def _checked(path: Path, root: Path, uri: str) -> Path:
        resolved = path.resolve()
        if not _within(resolved, root.resolve()):
            raise StorageFailure(f"{uri!r} resolves outside its store ({resolved})")
        return resolved

    # -- reading ---------------------------------------------------------------------------

    def local_directory(self, uri: str) -> Path | None:
        if uri.startswith("file://"):
            path = self._file_path(uri)
            return path if path.is_dir() else None
        bucket, key = self._s3_path(uri)
        path = self._checked(bucket / key, bucket, uri)
        return path if path.is_dir() else None

    def download_prefix(
        self, uri: str, destination: Path, shard: tuple[int, int] | None = None
    ) -> int:
        copied = 0
        objects = list(self._objects(uri))
        if shard is not None:
            objects = shard_of(sorted(objects, key=lambda found: found[1]), *shard)
        for source, relative in objects:
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target, follow_symlinks=False)
            copied += 1
        return copied

    def list_objects(self, uri: str) -> list[tuple[str, str]]:
        if uri.startswith("file://"):
            return [(relative, f"file://{path}") for path, relative in self._file_objects(uri)]
        bucket, _ = self._s3_path(uri)
        found = [
            (path.relative_to(bucket).as_posix(), relative)
            for path, relative in self._s3_objects(uri)
        ]
        return [(relative, f"s3://{bucket.name}/{key}") for key, relative in sorted(found)]

    @contextlib.contextmanager
    def open_object(self, uri: str) -> Iterator[BinaryIO]:
        source = self._writable_path(uri)
        if not source.is_file() or source.is_symlink():
            raise StorageFailure(f"{uri!r} is not an object")
        try:
            stream = source.open("rb")
        except OSError as exc:
            raise StorageFailure(f"could not read {uri!r}: {exc}") from exc
        with stream:
            yield stream

    def _objects(self, uri: str) -> Iterator[tuple[Path, str]]:
        """(file, path relative to the channel) for each object under `uri`."""
        if uri.startswith("file://"):
            yield from self._file_objects(uri)
        else:
            yield from self._s3_objects(uri)

    def _file_objects(self, uri: str) -> Iterator[tuple[Path, str]]:
        path = self._file_path(uri)
        if path.is_file() and not path.is_symlink():
            yield path, path.name
            return
        if not path.is_dir():
            raise StorageFailure(f"channel source {uri!r} does not exist")
        yield from _walk(path, path.resolve(), uri)

    def _s3_objects(self, uri: str) -> Iterator[tuple[Path, str]]:
        bucket, prefix = self._s3_path(uri)
        if not bucket.is_dir():
            raise StorageFailure(f"bucket of {uri!r} does not exist ({bucket})")
        found = False
        for path, key in _walk(bucket, bucket.resolve(), uri):
            if key.startswith(prefix):
                found = True
                yield path, relative_to_prefix(key, prefix)
        if not found:
            raise StorageFailure(f"no objects found under {uri!r}")

    # -- writing ---------------------------------------------------------------------------

    def _writable_path(self, uri: str) -> Path:
        if uri.startswith("file://"):
            return self._file_path(uri)
        bucket, key = self._s3_path(uri)
        if not key:
            raise StorageFailure(f"{uri!r} names a bucket, not an object")
        target = bucket / key
        self._checked(target.parent if target.parent.exists() else bucket, self.root, uri)
        if ".." in Path(key).parts:
            raise StorageFailure(f"{uri!r} must not contain '..'")
        return target

    def local_path(self, uri: str) -> Path | None:
        try:
            return self._writable_path(uri)
        except StorageFailure:
            return None

    def upload_file(self, source: Path, uri: str) -> None:
        target = self._writable_path(uri)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.partial")
            shutil.copyfile(source, tmp, follow_symlinks=False)
            os.replace(tmp, target)  # readers never see half an artifact
        except OSError as exc:
            if exc.errno in _PLATFORM_ERRNOS:  # the store's disk, not the request, failed
                raise StorageUnavailable(f"could not write {uri!r}: {exc}") from exc
            raise StorageFailure(f"could not write {uri!r}: {exc}") from exc

    def upload_tree(self, source: Path, uri: str) -> int:
        count = 0
        base = uri.rstrip("/")
        for path, relative in walk_files(source):
            self.upload_file(path, f"{base}/{relative}")
            count += 1
        return count

    def list_prefix(self, uri: str) -> dict[str, tuple[int, float]]:
        folder = self._folder(uri)
        if not folder.is_dir():
            return {}
        found: dict[str, tuple[int, float]] = {}
        for path, relative in _walk(folder, folder.resolve(), uri, skip_links=True):
            if not path.name.endswith(".partial"):
                stat = path.stat()
                found[relative] = (stat.st_size, stat.st_mtime)
        return found

    def _folder(self, uri: str) -> Path:
        if uri.startswith("file://"):
            return self._file_path(uri)
        bucket, key = self._s3_path(uri)
        return self._checked(bucket / key, bucket, uri) if key else bucket

    def download_file(self, uri: str, target: Path) -> None:
        source = self._writable_path(uri)
        if not source.is_file() or source.is_symlink():
            raise StorageFailure(f"{uri!r} is not an object")
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.partial")
        try:
            shutil.copyfile(source, tmp, follow_symlinks=False)
            os.replace(tmp, target)
        except OSError as exc:
            raise StorageFailure(f"could not read {uri!r} into {target}: {exc}") from exc

    def delete(self, uri: str) -> None:
        path = self._writable_path(uri)
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            raise StorageUnavailable(f"could not delete {uri!r}: {exc}") from exc


def walk_files(source: Path) -> Iterator[tuple[Path, str]]:
    """Every regular file below `source` (symlinks skipped), with its relative path."""
    yield from _walk(source, source.resolve(), f"file://{source}", skip_links=True)


def _walk(
    directory: Path, root: Path, uri: str, skip_links: bool = False
) -> Iterator[tuple[Path, str]]:
    """Regular files below `directory`, sorted; symlinks leaving `root` are refused."""
    for current, dirs, files in os.walk(directory, followlinks=False):
        dirs.sort()
        for name in sorted(files):
            path = Path(current) / name
            relative = path.relative_to(directory).as_posix()
            if path.is_symlink():
                if skip_links:
                    continue
                target = path.resolve()
                if not _within(target, root):
                    raise StorageFailure(f"{uri!r}: symlink {path} points outside the source")
                path = target  # copy the linked file's content, never the link itself
            if path.is_file():
                yield path, relative
