"""The interface the engine uses for object storage; real S3 will implement it too."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol


class Readable(Protocol):
    """An object's bytes, read front to back (a file, or an S3 response body)."""

    def read(self, size: int = -1, /) -> bytes: ...


class ObjectStore(Protocol):
    def download_prefix(
        self, uri: str, destination: Path, shard: tuple[int, int] | None = None
    ) -> int:
        """Copy every object under `uri` (an S3 key prefix or a file:// path) into
        `destination`; return how many files were copied. Raises StorageFailure. `shard`
        (position, count): only that host's share (ShardedByS3Key, see sharding.py)."""

    def list_objects(self, uri: str) -> list[tuple[str, str]]:
        """S3Prefix: (path relative to the channel, object URI) of every object under `uri`,
        in key order. Raises StorageFailure when there is none."""

    def open_object(self, uri: str) -> AbstractContextManager[Readable]:
        """One object's bytes as a stream, for Pipe mode (never the whole object in memory).
        Raises StorageFailure, also for a read that fails half way."""

    def local_directory(self, uri: str) -> Path | None:
        """A directory on this machine holding exactly the objects under `uri`, if there is
        one (lets FastFile mount instead of copy)."""

    def local_path(self, uri: str) -> Path | None:
        """Where an object lives on this machine, for showing users; None for remote stores."""

    def upload_file(self, source: Path, uri: str) -> None:
        """Store one local file as the object `uri`. Raises StorageFailure."""

    def upload_tree(self, source: Path, uri: str) -> int:
        """Store every regular file under `source` below the prefix `uri`."""

    def list_prefix(self, uri: str) -> dict[str, tuple[int, float]]:
        """Every object below the folder `uri` (a trailing / is implied): relative path ->
        (size, modification time). Nothing there is an empty answer, not an error."""

    def download_file(self, uri: str, target: Path) -> None:
        """Copy one object to a local file (written whole, then renamed into place)."""

    def delete(self, uri: str) -> None:
        """Remove one object; a missing one is not an error."""
