"""CheckpointConfig: restore S3Uri into LocalPath before training, then mirror LocalPath to
S3Uri while the container writes it.

SageMaker's contract (developer guide, "Use checkpoints in Amazon SageMaker"): what is at S3Uri
is copied to LocalPath before training starts; during training, new and changed files are
uploaded as they appear, deletions are mirrored, files are not archived. Here:

- A file is uploaded when the container closes it after writing (watchdog's `closed` event,
  from inotify's IN_CLOSE_WRITE on the bind-mounted directory), so a file being written is not
  uploaded mid-write. Bursts are coalesced: a path dirtied many times in `settle_seconds` is
  uploaded once. (A process killed mid-write closes its files too, so a torn file can be
  uploaded then, as on SageMaker; files written to a temporary name and renamed never are.)
- A reconciling scan every `scan_seconds` compares each file's size and mtime with what was
  uploaded, and uploads a changed file once it has stayed the same across two scans: it catches
  missed events, an engine restarted mid-training, and filesystems without inotify (Docker
  Desktop, network mounts), where it is the only mechanism. Deleted files are deleted remotely.
- When the attempt ends (completed, stopped, failed, interrupted), the watcher stops and a final
  reconcile uploads every change before the workspace is removed: beyond what AWS documents,
  which promises no upload after SIGTERM's grace period, nothing written is lost. If that final
  reconcile cannot upload or delete something, `error` says so and the attempt fails.
- A sync whose job was taken over by another engine is abandoned: its threads stop and it
  touches S3Uri no more. Deletions are never mirrored while LocalPath itself is missing.
- Symlinks are skipped with a warning; only regular files under LocalPath are read, and restore
  writes only below LocalPath.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileDeletedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer

from orchestrator.errors import StorageFailure, StorageUnavailable
from orchestrator.storage.protocol import ObjectStore

log = logging.getLogger(__name__)

FAILURES_BEFORE_ERROR = 3
# A file in a folder created just now (whose close inotify may have missed) is uploaded once it
# has not changed for this long.
STILL_SECONDS = 1.0
Signature = tuple[int, int]  # (size, mtime in ns)


class CheckpointSync:
    def __init__(
        self,
        local_dir: Path,
        uri: str,
        objects: ObjectStore,
        scan_seconds: float = 5.0,
        settle_seconds: float = 0.1,
        mirror_deletes: bool = True,
        what: str = "checkpoints",
    ) -> None:
        """`mirror_deletes=False` where several hosts share S3Uri (a distributed job): a file
        one host never had, or deleted, may be another host's checkpoint. `what` names the
        files in errors (checkpoints, TensorBoard output, intermediate output)."""
        self.local_dir = local_dir
        self.mirror_deletes = mirror_deletes
        self.prefix = uri.rstrip("/")
        self.objects = objects
        self.scan_seconds = scan_seconds
        self.settle_seconds = settle_seconds
        self.uploaded: dict[str, Signature] = {}
        self.uploads = 0
        self.deletes = 0
        self.what = what
        # Why syncing keeps failing, of the class that decides the job's failure: the store's
        # outage (StorageUnavailable, InternalServerError) or the request's (ClientError).
        self.failure: StorageFailure | None = None
        self._last_failure: Exception | None = None
        self._failures: dict[str, int] = {}
        self._dirty: set[str] = set()
        self._seen: dict[str, Signature] = {}  # the previous scan, for stability
        self._seen_at: dict[str, tuple[Signature, float]] = {}  # files of new folders
        self._skipped: set[str] = set()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._worker: threading.Thread | None = None
        self._observer: Any = None

    # -- before training -------------------------------------------------------------------

    def restore(self) -> int:
        """Copy everything under S3Uri into LocalPath; later additions are not copied in."""
        self.local_dir.mkdir(parents=True, exist_ok=True)
        root = self.local_dir.resolve()
        restored = 0
        for relative in sorted(self.objects.list_prefix(self.prefix)):
            target = (self.local_dir / relative).resolve()
            if root not in target.parents:
                log.warning("checkpoint restore skips %r: outside LocalPath", relative)
                continue
            self.objects.download_file(f"{self.prefix}/{relative}", target)
            self.uploaded[relative] = _signature(target)
            restored += 1
        return restored

    # -- while training --------------------------------------------------------------------

    def start(self, resume: bool = True) -> CheckpointSync:
        """Watch LocalPath. What S3Uri already holds (restored, or uploaded before an engine
        restart) counts as uploaded when its size matches; the first scan uploads the rest and
        deletes what the container deleted meanwhile. `resume=False`: a fresh upload-only
        sync, with nothing of its own in S3 yet to compare (S3 is not asked)."""
        self.local_dir.mkdir(parents=True, exist_ok=True)
        if resume and not self.uploaded:  # not restored by us: an adopter, mid-training
            local = self._local_files()
            for relative, (size, mtime) in self.objects.list_prefix(self.prefix).items():
                # Uploaded after its last write: the same size, and not written since.
                same = (
                    relative in local
                    and local[relative][0] == size
                    and local[relative][1] <= mtime * 1e9
                )
                # Known remotely: unchanged ones stay, others are re-uploaded or deleted.
                self.uploaded[relative] = local[relative] if same else (size, -1)
        self._observer = self._watch()
        self._worker = threading.Thread(target=self._run, name="checkpoint-sync", daemon=True)
        self._worker.start()
        return self

    def _watch(self) -> Any:
        """An inotify watcher on LocalPath, or None where it cannot run (the scan polls)."""
        try:
            observer = Observer()
            observer.schedule(
                _Handler(self), str(self.local_dir), recursive=True, event_filter=_EVENTS
            )
            observer.start()
            return observer
        except (OSError, RuntimeError) as exc:  # no inotify, or its watch limit reached
            log.warning("checkpoint sync of %s polls every %.1f s: %s", self.prefix, 1.0, exc)
            self.scan_seconds = min(self.scan_seconds, 1.0)
            return None

    def mark(self, path: str) -> None:
        """A file was closed, deleted or moved: sync it soon."""
        try:
            relative = Path(path).relative_to(self.local_dir).as_posix()
        except ValueError:
            return
        with self._lock:
            self._dirty.add(relative)
        self._wake.set()

    def _run(self) -> None:
        last_scan = time.monotonic()
        while not self._stop.is_set():
            due = last_scan + self.scan_seconds - time.monotonic()
            woken = self._wake.wait(max(due, 0.0))
            if self._stop.is_set():
                return
            if woken:
                self._stop.wait(self.settle_seconds)  # let a burst of writes finish
                self._wake.clear()
                self._flush()
            if time.monotonic() - last_scan >= self.scan_seconds:
                self._scan(stable_only=True)
                last_scan = time.monotonic()

    def _flush(self) -> None:
        """Sync what events named: closed files, deleted files, new folders, and what a
        deleted or moved folder held. Only those paths are looked at, never the whole tree:
        a flush costs the same with 10 files in LocalPath or 100,000."""
        with self._lock:
            dirty, self._dirty = self._dirty, set()
        if not self.local_dir.is_dir():
            return
        for relative in sorted(dirty):
            path = self.local_dir / relative
            if path.is_symlink():
                self._skip(relative)
            elif path.is_dir():
                self._settle_folder(relative, self._local_files(path))
            elif path.is_file():
                self._sync(relative, _signature_or_none(path))
            else:
                for gone in [relative, *(u for u in self.uploaded if u.startswith(relative + "/"))]:
                    if not (self.local_dir / gone).exists():
                        self._sync(gone, None)

    def _settle_folder(self, relative: str, local: dict[str, Signature]) -> None:
        """A new folder: inotify watches it only once it has seen it, so a file closed in it
        at once may have no event. Its files are uploaded once they hold still."""
        moving = False
        for path, signature in local.items():
            if not path.startswith(relative + "/") or self.uploaded.get(path) == signature:
                continue
            seen = self._seen_at.get(path)
            now = time.monotonic()
            if seen is not None and seen[0] == signature and now - seen[1] >= STILL_SECONDS:
                self._sync(path, signature)
                continue
            if seen is None or seen[0] != signature:
                self._seen_at[path] = (signature, now)
            moving = True
        if moving:  # look again shortly
            with self._lock:
                self._dirty.add(relative)
            self._wake.set()

    def _scan(self, stable_only: bool) -> None:
        """Upload what changed (and, mid-training, held still since the last scan); mirror
        deletions."""
        if not self.local_dir.is_dir():  # removed under us: never read that as deletions
            return
        local = self._local_files()
        for relative, signature in local.items():
            changed = self.uploaded.get(relative) != signature
            settled = not stable_only or self._seen.get(relative) == signature
            if changed and settled:
                self._sync(relative, signature)
        for relative in set(self.uploaded) - set(local):
            self._sync(relative, None)
        self._seen = local

    def _sync(self, relative: str, signature: Signature | None) -> None:
        uri = f"{self.prefix}/{relative}"
        try:
            if signature is None:
                if relative in self.uploaded and not self.mirror_deletes:
                    del self.uploaded[relative]  # forgotten here, kept in S3Uri for the others
                elif relative in self.uploaded:
                    self.objects.delete(uri)
                    del self.uploaded[relative]
                    self.deletes += 1
            elif self.uploaded.get(relative) != signature:
                source = self.local_dir / relative
                if not self._inside(relative):
                    self._skip(relative)
                    return
                self.objects.upload_file(source, uri)
                self.uploaded[relative] = signature
                self.uploads += 1
            self._failures.pop(relative, None)
        except (StorageFailure, OSError) as exc:
            if signature is not None and not (self.local_dir / relative).exists():
                # Written, closed, then renamed or deleted before we got to it (the usual
                # write-to-temporary-then-rename): not a failure; its new name syncs itself.
                self._sync(relative, None)
                return
            count = self._failures[relative] = self._failures.get(relative, 0) + 1
            log.warning("checkpoint sync of %s failed (%d): %s", uri, count, exc)
            self._last_failure = exc
            if count >= FAILURES_BEFORE_ERROR:
                self.failure = self._failure(f"{self.what} could not be uploaded to {uri}: {exc}")
            with self._lock:
                self._dirty.add(relative)  # try again at the next flush or scan

    def _local_files(self, below: Path | None = None) -> dict[str, Signature]:
        """Regular files under LocalPath (or a folder of it), by their path below LocalPath;
        symlinks are never followed or uploaded."""
        found: dict[str, Signature] = {}
        for current, dirs, files in os.walk(below or self.local_dir, followlinks=False):
            dirs.sort()
            for name in files:
                path = Path(current) / name
                relative = path.relative_to(self.local_dir).as_posix()
                if path.is_symlink():
                    self._skip(relative)
                    continue
                try:
                    found[relative] = _signature(path)
                except FileNotFoundError:  # deleted while we looked
                    continue
        return found

    def _inside(self, relative: str) -> bool:
        """Still a regular file below LocalPath: no folder on its way was swapped for a
        symlink since it was listed (that would lead out of LocalPath). lstat per level."""
        current = self.local_dir
        for part in Path(relative).parts:
            current = current / part
            if current.is_symlink():
                return False
        return True

    def _skip(self, relative: str) -> None:
        if relative not in self._skipped:
            self._skipped.add(relative)
            log.warning(
                "checkpoint sync skips the symlink %s: only regular files under LocalPath are"
                " uploaded",
                relative,
            )

    # -- after -----------------------------------------------------------------------------

    def finish(self) -> None:
        """Stop watching, then upload every change and mirror every deletion: the container
        has exited, so every file is complete."""
        self._stop.set()
        self._wake.set()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join()
            self._observer = None
        if self._worker is not None:
            self._worker.join()
            self._worker = None
        with self._lock:
            self._dirty.clear()
        self._failures.clear()  # the final reconcile tries everything once more
        self._scan(stable_only=False)
        if self._failures:
            failed = ", ".join(sorted(self._failures)[:5])
            self.failure = self.failure or self._failure(
                f"{self.what} could not be synced to {self.prefix}: {failed} ({self._last_failure})"
            )

    @property
    def error(self) -> str | None:
        return str(self.failure) if self.failure is not None else None

    def _failure(self, message: str) -> StorageFailure:
        """The request's error for what the store refused (a missing bucket, access denied),
        the platform's for an outage or this machine's disk."""
        cause = self._last_failure
        if isinstance(cause, StorageUnavailable | OSError) or not isinstance(cause, StorageFailure):
            return StorageUnavailable(message)
        return StorageFailure(message)

    def abandon(self) -> None:
        """Stop the threads and touch nothing more (another engine owns the job now)."""
        self._stop.set()
        self._wake.set()
        if self._observer is not None:
            self._observer.stop()
            self._observer = None
        self._worker = None


class _Handler(FileSystemEventHandler):
    """watchdog's callbacks: closed after writing, deleted, moved (both ends)."""

    def __init__(self, sync: CheckpointSync) -> None:
        self.sync = sync

    def dispatch(self, event: FileSystemEvent) -> None:
        if event.is_directory:
            if event.event_type in ("created", "deleted", "moved"):
                self.sync.mark(str(event.src_path))  # its files are settled or deleted
            if event.event_type == "moved":
                self.sync.mark(str(event.dest_path))
            return
        if event.event_type in ("closed", "deleted", "moved"):
            self.sync.mark(str(event.src_path))
        if event.event_type == "moved":
            self.sync.mark(str(event.dest_path))


# Only what the sync acts on: the container's closes after writing, deletions, moves, new
# folders. Not opens, reads or modifications (nor the sync's own reads of the files).
_EVENTS: list[type[FileSystemEvent]] = [
    FileClosedEvent,
    FileDeletedEvent,
    FileMovedEvent,
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
]


def _signature_or_none(path: Path) -> Signature | None:
    try:
        return _signature(path)
    except FileNotFoundError:
        return None


def _signature(path: Path) -> Signature:
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns
