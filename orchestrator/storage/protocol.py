"""The interface the engine uses for object storage; real S3 will implement it too."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class ObjectStore(Protocol):
    def download_prefix(self, uri: str, destination: Path) -> int:
        """Copy every object under `uri` (an S3 key prefix or a file:// path) into
        `destination`; return how many files were copied. Raises StorageFailure."""

    def local_directory(self, uri: str) -> Path | None:
        """A directory on this machine holding exactly the objects under `uri`, if there is
        one (lets FastFile mount instead of copy)."""

    def local_path(self, uri: str) -> Path | None:
        """Where an object lives on this machine, for showing users; None for remote stores."""

    def upload_file(self, source: Path, uri: str) -> None:
        """Store one local file as the object `uri`. Raises StorageFailure."""

    def upload_tree(self, source: Path, uri: str) -> int:
        """Store every regular file under `source` below the prefix `uri`."""
