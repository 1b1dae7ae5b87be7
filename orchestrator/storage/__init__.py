"""Object storage for channels and artifacts: s3:// (local directory store) and file://."""

from orchestrator.storage.local import LocalObjectStore
from orchestrator.storage.protocol import ObjectStore

__all__ = ["LocalObjectStore", "ObjectStore"]
