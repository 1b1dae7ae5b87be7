"""s3:// on real S3 or any S3-compatible endpoint, through boto3 (ORCHESTRATOR_OBJECT_STORE=s3).

boto3's own configuration chain decides everything about the connection: credentials,
region, profiles, `AWS_ENDPOINT_URL_S3` (or `AWS_ENDPOINT_URL`). An endpoint on this machine
is addressed path-style (`http://127.0.0.1:9000/bucket/key`), as S3-compatible servers expect.
Objects move through boto3's managed transfers: multipart uploads and ranged downloads, in
bounded memory whatever their size; listings page through any number of keys. `file://` keeps
working (plain paths, as in the local store).

Errors, as a training job reports them: a missing bucket or key, access denied, an endpoint
that does not answer are the request's (ClientError, with the URI and the cause); a 5xx,
throttling or a timeout is retried briefly (tenacity) and then the platform's
(InternalServerError, under RetryStrategy).
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from orchestrator.errors import StorageFailure, StorageUnavailable
from orchestrator.sharding import shard as shard_of
from orchestrator.storage.keys import bucket_and_key, relative_to_prefix, safe_relative
from orchestrator.storage.local import LocalObjectStore, walk_files
from orchestrator.storage.protocol import Readable

P = ParamSpec("P")
T = TypeVar("T")

ATTEMPTS = 4
TRANSFERS = 10  # objects in flight at once, as `aws s3 sync` has
SMALL_OBJECT_BYTES = 8 * 1024 * 1024  # boto3's multipart threshold: below, one GET will do
CHUNK_BYTES = 1024 * 1024
_TRANSIENT_CODES = frozenset(
    {"SlowDown", "Throttling", "ThrottlingException", "RequestTimeout", "InternalError",
     "ServiceUnavailable", "RequestTimeTooSkewed"}
)  # fmt: skip


def _says_transient(text: str) -> bool:
    """A wrapped error's message naming a transient code: `An error occurred (SlowDown)`."""
    return any(f"({code})" in text for code in _TRANSIENT_CODES) or bool(
        re.search(r"\(5\d\d\)", text)
    )


def _transient(exc: BaseException | None) -> bool:
    """Worth another try. boto3's managed transfers wrap the cause (S3UploadFailedError,
    RetriesExceededError): it is looked for along the chain."""
    from botocore.exceptions import (
        ClientError,
        ConnectionClosedError,
        IncompleteReadError,
        ReadTimeoutError,
        ResponseStreamingError,
    )

    seen = 0
    while exc is not None and seen < 5:
        if isinstance(
            exc,
            ReadTimeoutError | ConnectionClosedError | IncompleteReadError | ResponseStreamingError,
        ):
            return True
        if isinstance(exc, ClientError):
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            code = exc.response.get("Error", {}).get("Code")
            return code in _TRANSIENT_CODES or status >= 500
        wrapper = type(exc).__name__ in ("S3UploadFailedError", "RetriesExceededError")
        if wrapper and _says_transient(str(exc)):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def _explained(uri: str, exc: BaseException) -> StorageFailure:
    """Our error for a boto3 one: the platform's after retries, else the request's."""
    from botocore.exceptions import ClientError, EndpointConnectionError

    if _transient(exc):
        return StorageUnavailable(f"{uri}: the object store kept failing ({exc})")
    if isinstance(exc, EndpointConnectionError):
        return StorageFailure(
            f"{uri}: no S3 endpoint answers at {exc.kwargs.get('endpoint_url')}"
            " (AWS_ENDPOINT_URL_S3, or unset ORCHESTRATOR_OBJECT_STORE for the local store)"
        )
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code, message = error.get("Code", "?"), error.get("Message", "")
        what = {
            "NoSuchBucket": "the bucket does not exist",
            "NoSuchKey": "no such object",
            "404": "no such object",
            "AccessDenied": "access denied",
            "403": "access denied",
        }.get(str(code), f"{code}: {message}")
        return StorageFailure(f"{uri}: {what}")
    return StorageFailure(f"{uri}: {exc}")


def _parallel(action: Callable[[Any], None], items: list[Any]) -> None:
    """`action` on every item, TRANSFERS at a time: many small objects move as fast as the
    server answers, not one round trip after another (boto3's clients are thread-safe). The
    first failure stops what has not started yet."""
    if len(items) <= 1:
        for item in items:
            action(item)
        return
    pool = ThreadPoolExecutor(min(TRANSFERS, len(items)), thread_name_prefix="s3")
    try:
        for _ in pool.map(action, items):
            pass
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


class _Body:
    """An object's response body whose failures are ours: a read that breaks half way is the
    platform's (retried under RetryStrategy), never a silently shorter object."""

    def __init__(self, uri: str, body: Any) -> None:
        self.uri = uri
        self.body = body

    def read(self, size: int = -1, /) -> bytes:
        try:
            return bytes(self.body.read(None if size < 0 else size))
        except Exception as exc:
            raise StorageUnavailable(f"{self.uri}: reading the object broke off ({exc})") from exc

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.body.close()


class S3ObjectStore:
    def __init__(self, files: LocalObjectStore, client: Any = None) -> None:
        self.files = files  # file:// URIs
        self._client = client

    @property
    def client(self) -> Any:
        """boto3's S3 client, made on first use (boto3 costs ~0.3 s to import)."""
        if self._client is None:
            import boto3
            from botocore.config import Config

            local = bool(
                os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
            )
            config = Config(
                retries={"max_attempts": 1, "mode": "standard"},  # tenacity retries, here
                s3={"addressing_style": "path" if local else "auto"},
            )
            self._client = boto3.client("s3", config=config)
        return self._client

    def _call(self, uri: str, action: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """`action` with brief retries of transient failures; our error if it still fails."""
        import tenacity

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(_transient),
            stop=tenacity.stop_after_attempt(ATTEMPTS),
            wait=tenacity.wait_exponential(multiplier=0.2, max=2.0),
            reraise=True,
        )
        try:
            return retrying(action, *args, **kwargs)
        except StorageFailure:
            raise
        except Exception as exc:
            raise _explained(uri, exc) from exc

    # -- reading ---------------------------------------------------------------------------

    def _keys(self, uri: str, prefix: str) -> Iterator[dict[str, Any]]:
        """Every object under the prefix, page by page; a page that fails is asked again
        (never the listing silently cut short)."""
        bucket, _ = bucket_and_key(uri)
        asked: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
        while True:
            page = self._call(uri, self.client.list_objects_v2, **asked)
            yield from page.get("Contents") or []
            if not page.get("IsTruncated"):
                return
            asked["ContinuationToken"] = page["NextContinuationToken"]

    def download_prefix(
        self, uri: str, destination: Path, shard: tuple[int, int] | None = None
    ) -> int:
        """S3Prefix: every object whose key starts with the key prefix (SageMaker's
        S3DataSource.S3Uri: "a key name prefix"), named below the channel by its key relative
        to the prefix (see keys.relative_to_prefix)."""
        if uri.startswith("file://"):
            return self.files.download_prefix(uri, destination, shard)
        bucket, prefix = bucket_and_key(uri)
        objects = sorted(
            (relative_to_prefix(item["Key"], prefix), item["Key"], int(item.get("Size", -1)))
            for item in self._keys(uri, prefix)
            if not item["Key"].endswith("/")  # a "folder" marker holds no data
        )
        if not objects:
            raise StorageFailure(f"no objects found under {uri!r}")
        if shard is not None:
            objects = shard_of(objects, *shard)
        targets = [
            (destination / safe_relative(relative, f"s3://{bucket}/{key}"), key, size)
            for relative, key, size in objects
        ]  # every key checked before anything is written

        def fetch(item: tuple[Path, str, int]) -> None:
            target, key, size = item
            self._fetch(f"s3://{bucket}/{key}", bucket, key, target, size)

        _parallel(fetch, targets)
        return len(objects)

    def _fetch(self, uri: str, bucket: str, key: str, target: Path, size: int = -1) -> None:
        """One object into `target` (whole, then renamed into place). A small object, its size
        known from the listing, is one GET streamed to disk; others go through boto3's managed
        download (a HEAD, then ranged GETs in parallel)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.partial")
        try:
            if 0 <= size < SMALL_OBJECT_BYTES:
                self._call(uri, self._get, bucket, key, partial)
            else:
                self._call(uri, self.client.download_file, bucket, key, str(partial))
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)

    def _get(self, bucket: str, key: str, target: Path) -> None:
        body = self.client.get_object(Bucket=bucket, Key=key)["Body"]
        with target.open("wb") as out:
            for chunk in body.iter_chunks(CHUNK_BYTES):
                out.write(chunk)

    def list_objects(self, uri: str) -> list[tuple[str, str]]:
        if uri.startswith("file://"):
            return self.files.list_objects(uri)
        bucket, prefix = bucket_and_key(uri)
        found = [
            (relative_to_prefix(item["Key"], prefix), f"s3://{bucket}/{item['Key']}")
            for item in self._keys(uri, prefix)
            if not item["Key"].endswith("/")
        ]
        if not found:
            raise StorageFailure(f"no objects found under {uri!r}")
        return sorted(found, key=lambda entry: entry[1])

    @contextlib.contextmanager
    def open_object(self, uri: str) -> Iterator[Readable]:
        if uri.startswith("file://"):
            with self.files.open_object(uri) as stream:
                yield stream
            return
        bucket, key = bucket_and_key(uri)
        response = self._call(uri, self.client.get_object, Bucket=bucket, Key=key)
        body = _Body(uri, response["Body"])
        try:
            yield body
        finally:
            body.close()

    def local_directory(self, uri: str) -> Path | None:
        return self.files.local_directory(uri) if uri.startswith("file://") else None

    def local_path(self, uri: str) -> Path | None:
        return self.files.local_path(uri) if uri.startswith("file://") else None

    def list_prefix(self, uri: str) -> dict[str, tuple[int, float]]:
        if uri.startswith("file://"):
            return self.files.list_prefix(uri)
        _, key = bucket_and_key(uri)
        folder = key.rstrip("/") + "/" if key else ""
        return {
            item["Key"][len(folder) :]: (int(item["Size"]), item["LastModified"].timestamp())
            for item in self._keys(uri, folder)
            if not item["Key"].endswith("/")
        }

    def download_file(self, uri: str, target: Path) -> None:
        if uri.startswith("file://"):
            self.files.download_file(uri, target)
            return
        bucket, key = bucket_and_key(uri)
        self._fetch(uri, bucket, key, target)

    # -- writing ---------------------------------------------------------------------------

    def upload_file(self, source: Path, uri: str) -> None:
        if uri.startswith("file://"):
            self.files.upload_file(source, uri)
            return
        bucket, key = bucket_and_key(uri)
        if not key:
            raise StorageFailure(f"{uri!r} names a bucket, not an object")
        self._call(uri, self.client.upload_file, str(source), bucket, key)

    def upload_tree(self, source: Path, uri: str) -> int:
        if uri.startswith("file://"):
            return self.files.upload_tree(source, uri)
        files = list(walk_files(source))
        base = uri.rstrip("/")
        _ = self.client  # made here, not by several workers at once
        _parallel(lambda item: self.upload_file(item[0], f"{base}/{item[1]}"), files)
        return len(files)

    def delete(self, uri: str) -> None:
        if uri.startswith("file://"):
            self.files.delete(uri)
            return
        bucket, key = bucket_and_key(uri)
        self._call(uri, self.client.delete_object, Bucket=bucket, Key=key)
