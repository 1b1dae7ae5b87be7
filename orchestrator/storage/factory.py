"""The object store the settings choose: the local directory store (embedded default) or S3."""

from __future__ import annotations

from orchestrator.config import Settings
from orchestrator.storage.local import LocalObjectStore
from orchestrator.storage.protocol import ObjectStore


def object_store(settings: Settings) -> ObjectStore:
    files = LocalObjectStore(settings.object_store_root)
    if settings.object_store == "s3":
        from orchestrator.storage.s3 import S3ObjectStore  # boto3 only when S3 is used

        return S3ObjectStore(files)
    return files
