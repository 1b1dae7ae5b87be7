"""S3DataType ManifestFile: the channel's S3Uri names a manifest listing its objects.

The API reference (S3DataSource.S3DataType): "A manifest file containing a list of object keys
that you want SageMaker to use for model training", in the form
`[{"prefix": "s3://customer_bucket/some/prefix/"}, "relative/path/to/custdata-1", ...]`; each
object is the prefix joined with a relative path, and lands in the channel at that relative
path. ShardedByS3Key deals the listed objects, in the manifest's order, to the hosts.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from orchestrator.errors import StorageFailure
from orchestrator.sharding import shard as shard_of
from orchestrator.storage.keys import bucket_and_key, safe_relative
from orchestrator.storage.protocol import ObjectStore


def parse_manifest(text: str, uri: str) -> list[tuple[str, str]]:
    """(object URI, relative path) of every entry; StorageFailure for anything else."""
    try:
        document: Any = json.loads(text)
    except ValueError as exc:
        raise StorageFailure(f"{uri}: the manifest is not JSON ({exc})") from None
    shaped = (
        isinstance(document, list)
        and document
        and isinstance(document[0], dict)
        and isinstance(document[0].get("prefix"), str)
        and all(isinstance(entry, str) and entry for entry in document[1:])
    )
    if not shaped:
        raise StorageFailure(
            f'{uri}: a manifest is [{{"prefix": "s3://bucket/prefix/"}}, "relative/key", ...]'
        )
    prefix = document[0]["prefix"]
    if not prefix.startswith("s3://"):
        raise StorageFailure(f"{uri}: the manifest's prefix {prefix!r} is not an s3:// URI")
    if uri.startswith("s3://") and bucket_and_key(prefix)[0] != bucket_and_key(uri)[0]:
        raise StorageFailure(
            f"{uri}: the manifest names objects in another bucket ({prefix}); list objects of"
            " the manifest's own bucket"
        )
    return [(prefix + entry, safe_relative(entry, prefix + entry)) for entry in document[1:]]


def manifest_entries(objects: ObjectStore, uri: str) -> list[tuple[str, str]]:
    """(object URI, relative path) of each entry of the manifest at `uri`."""
    with tempfile.TemporaryDirectory(prefix="orchestrator-manifest-") as scratch:
        local = Path(scratch) / "manifest.json"
        objects.download_file(uri, local)
        return parse_manifest(local.read_text(errors="replace"), uri)


def download_manifest(
    objects: ObjectStore, uri: str, destination: Path, shard: tuple[int, int] | None = None
) -> int:
    entries = manifest_entries(objects, uri)
    if shard is not None:
        entries = shard_of(entries, *shard)
    for source, relative in entries:
        objects.download_file(source, destination / relative)
    return len(entries)
