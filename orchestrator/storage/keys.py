"""Object keys, decided purely: a URI's bucket and key, where a key lands in its channel, and
keys that must never be written outside it."""

from __future__ import annotations

from pathlib import PurePosixPath

from orchestrator.errors import StorageFailure


def bucket_and_key(uri: str) -> tuple[str, str]:
    """s3://bucket/a/b -> ("bucket", "a/b")."""
    rest = uri.split("://", 1)[1] if "://" in uri else uri
    bucket, _, key = rest.partition("/")
    if not bucket or bucket in (".", ".."):
        raise StorageFailure(f"not a valid bucket in {uri!r}")
    return bucket, key


def relative_to_prefix(key: str, prefix: str) -> str:
    """Where an object lands in its channel: its path below the prefix; an object that only
    shares the prefix's leading characters keeps its path below the prefix's folder
    (s3://b/data/train and the key data/train-2/x.csv: `train-2/x.csv`)."""
    rest = key[len(prefix) :]
    if not rest:
        return key.rsplit("/", 1)[-1]
    if not prefix or prefix.endswith("/"):
        return rest
    if rest.startswith("/"):
        return rest.lstrip("/")
    folder = prefix.rsplit("/", 1)[0] + "/" if "/" in prefix else ""
    return key[len(folder) :]


def safe_relative(relative: str, uri: str) -> str:
    """A path below the channel directory; a key that would escape it (`..`, absolute) is
    refused, never written."""
    path = PurePosixPath(relative)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise StorageFailure(f"{uri!r}: its key would land outside the channel directory")
    return str(path)
