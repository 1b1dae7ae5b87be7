"""Pipe input mode: a channel streamed from the object store through named pipes.

The developer guide ("How Amazon SageMaker AI Provides Training Information", Input Data
Configuration; and "Access a training dataset", Pipe mode): a Pipe-mode channel is not a
directory but FIFOs `/opt/ml/input/data/<channel>_<epoch>`, epochs from 0; the container reads
`train_0` to its end for the first pass over the data, then opens `train_1` for the next, and
so on for as many epochs as it wants. Each epoch streams the channel's objects in key order
(S3Prefix), in the manifest's order (ManifestFile), or an augmented manifest's attributes line
by line (AugmentedManifestFile, "Augmented Manifest File Format for Pipe Mode Training");
`CompressionType: Gzip` objects are decompressed and `RecordWrapperType: RecordIO` frames each
object (each attribute) as one record (recordio.py).

Ours: a thread per channel and host creates the epoch's FIFO in the host's /opt/ml before the
container starts, blocks until the container opens it, writes the epoch, closes it (the reader
sees end of file), removes it and creates the next: `train_1` exists once `train_0` has been
read to its end. The FIFO lives in the bind-mounted /opt/ml, so this needs a Docker engine on
this machine's kernel (Linux), as every other part of the engine does. A reader that closes an
epoch early ends that epoch. A failing store fails the job (never a silently short epoch).
"""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import json
import logging
import os
import re
import stat
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

from orchestrator import recordio
from orchestrator.engine.manifests import manifest_entries
from orchestrator.errors import StorageFailure, StorageUnavailable
from orchestrator.sharding import shard as shard_of
from orchestrator.spec import ChannelSpec
from orchestrator.storage.protocol import ObjectStore, Readable

log = logging.getLogger(__name__)

CHUNK_BYTES = 1024 * 1024
PIPE_BYTES = 1024 * 1024
F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)  # Linux; Python has the name from 3.10
SPOOL_BYTES = 32 * 1024 * 1024  # a RecordIO record larger than this waits on disk, not in memory


@dataclass(frozen=True)
class Piece:
    """One thing an epoch streams: an object (`uri`) or an attribute's value (`data`)."""

    uri: str | None = None
    data: bytes | None = None


def fifo_name(channel: str, epoch: int) -> str:
    return f"{channel}_{epoch}"


def pieces_of(
    objects: ObjectStore, channel: ChannelSpec, shard: tuple[int, int] | None
) -> list[Piece]:
    """What one epoch of this host streams, in order; the listing is made once per attempt."""
    if channel.data_type == "AugmentedManifestFile":
        lines = augmented_lines(objects, channel)
        mine = shard_of(lines, *shard) if shard is not None else lines
        return [piece for line in mine for piece in line]
    if channel.data_type == "ManifestFile":
        uris = [uri for uri, _ in manifest_entries(objects, channel.uri)]
    else:
        uris = [uri for _, uri in objects.list_objects(channel.uri)]
    chosen = shard_of(uris, *shard) if shard is not None else uris
    return [Piece(uri=uri) for uri in chosen]


def augmented_lines(objects: ObjectStore, channel: ChannelSpec) -> list[list[Piece]]:
    """Each JSON line's attributes, in AttributeNames order: `-ref` attributes name an object
    streamed as it is, others are streamed as their value (a string's text, else its JSON).
    Attributes not named are ignored; a line lacking one is the request's error."""
    with objects.open_object(channel.uri) as stream:
        text = stream.read().decode("utf-8", errors="replace")
    lines: list[list[Piece]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            lines.append(_attributes(line, number, channel))
    return lines


def _attributes(line: str, number: int, channel: ChannelSpec) -> list[Piece]:
    where = f"{channel.uri} line {number}"
    try:
        document: Any = json.loads(line)
    except ValueError as exc:
        raise StorageFailure(f"{where}: not a JSON object ({exc})") from None
    if not isinstance(document, dict):
        raise StorageFailure(f"{where}: not a JSON object")
    pieces = []
    for name in channel.attribute_names:
        if name not in document:
            raise StorageFailure(f"{where}: has no attribute {name!r} (AttributeNames)")
        value = document[name]
        if name.endswith("-ref"):
            if not isinstance(value, str) or not value.startswith("s3://"):
                raise StorageFailure(f"{where}: {name!r} must name an s3:// object")
            pieces.append(Piece(uri=value))
        elif isinstance(value, str):
            pieces.append(Piece(data=value.encode()))
        else:
            pieces.append(Piece(data=json.dumps(value, separators=(",", ":")).encode()))
    return pieces


def epoch_chunks(
    objects: ObjectStore, pieces: list[Piece], gzipped: bool, wrapped: bool
) -> Iterator[bytes]:
    """The bytes of one epoch, in bounded memory."""
    for piece in pieces:
        if piece.data is not None:
            yield recordio.frame(piece.data) if wrapped else piece.data
            continue
        assert piece.uri is not None
        with objects.open_object(piece.uri) as body:
            stream: Readable = _gunzipped(body, piece.uri) if gzipped else body
            yield from _framed(stream, piece.uri) if wrapped else _chunks(stream)


def _gunzipped(body: Readable, uri: str) -> Readable:
    class _Checked:
        """gzip's errors named after the object that is not gzip."""

        def __init__(self) -> None:
            self.inner = gzip.GzipFile(fileobj=cast(IO[bytes], body), mode="rb")

        def read(self, size: int = -1, /) -> bytes:
            try:
                return bytes(self.inner.read(size))
            except (OSError, EOFError) as exc:
                message = f"{uri}: not gzip data (CompressionType Gzip): {exc}"
                raise StorageFailure(message) from None

    return _Checked()


def _chunks(stream: Readable) -> Iterator[bytes]:
    while chunk := stream.read(CHUNK_BYTES):
        yield chunk


def _framed(stream: Readable, uri: str) -> Iterator[bytes]:
    """One object as one RecordIO record: held (spooled to disk when large) until its length
    and the magics to cut at are known, then streamed in parts."""
    with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
        length, tail = 0, b""
        cuts: list[int] = []
        for chunk in _chunks(stream):
            # keep 3 bytes of the last chunk: a magic may straddle two chunks
            window = tail + chunk
            cuts += recordio.aligned_magic_offsets(window, length - len(tail))
            spool.write(chunk)
            length += len(chunk)
            tail = window[-3:]
            if length > recordio.MAX_RECORD_BYTES:
                raise StorageFailure(
                    f"{uri}: larger than a RecordIO record holds ({recordio.MAX_RECORD_BYTES}"
                    " bytes); store it unwrapped (RecordWrapperType None)"
                )
        cuts = sorted(set(cuts))
        spool.seek(0)
        for flag, start, end in recordio.parts(length, cuts):
            yield recordio.header(flag, end - start)
            spool.seek(start)
            yield from _copy(spool, end - start)
        yield recordio.padding(length)


def _copy(source: IO[bytes], count: int) -> Iterator[bytes]:
    while count > 0:
        chunk = source.read(min(CHUNK_BYTES, count))
        if not chunk:
            return
        count -= len(chunk)
        yield chunk


class PipeFeeder:
    """The FIFOs of one Pipe-mode channel on one host, fed epoch after epoch."""

    def __init__(
        self,
        objects: ObjectStore,
        directory: Path,
        channel: ChannelSpec,
        pieces: list[Piece],
    ) -> None:
        self.objects = objects
        self.directory = directory
        self.channel = channel
        self.pieces = pieces
        self.epoch = 0
        self.error: StorageFailure | None = None
        self._held: int | None = None  # an epoch's FIFO kept open after the store failed
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def _fifo(self, epoch: int) -> Path:
        return self.directory / fifo_name(self.channel.name, epoch)

    def _make_fifo(self, epoch: int) -> Path:
        path = self._fifo(epoch)
        with contextlib.suppress(FileNotFoundError):
            if not stat.S_ISFIFO(path.lstat().st_mode):
                path.unlink()
        if not path.exists():
            os.mkfifo(path)
            # 0644 whatever the umask, so whatever user the image runs as may read it; set on
            # the FIFO itself (opened without following links, without waiting for a writer).
            fifo = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
            try:
                if stat.S_ISFIFO(os.fstat(fifo).st_mode):
                    os.fchmod(fifo, 0o644)
            finally:
                os.close(fifo)
        return path

    def start(self) -> PipeFeeder:
        """Create epoch 0's FIFO (before the container starts: it may open it at once) and
        feed from a thread."""
        self.directory.mkdir(parents=True, exist_ok=True)
        self._make_fifo(0)
        name = f"pipe-{self.channel.name}"
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            while not self._stopping.is_set():
                self._feed(self._fifo(self.epoch))
                self.epoch += 1
        except StorageFailure as exc:
            log.warning("Pipe channel %s: %s", self.channel.name, exc)
            self.error = exc
        except Exception as exc:  # a full disk, a FIFO swapped for something else: fail
            if not self._stopping.is_set():
                log.warning("Pipe channel %s stopped: %s", self.channel.name, exc)
                self.error = StorageUnavailable(f"Pipe channel {self.channel.name}: {exc}")

    def _feed(self, path: Path) -> None:
        """One epoch into its FIFO. The next epoch's FIFO is made before this one is closed:
        a reader that sees the end of `train_0` finds `train_1` already there."""
        # Blocks until the container opens it. The container can write to this folder: a
        # FIFO it swapped for a symlink is never followed, and nothing else is written to.
        descriptor = os.open(path, os.O_WRONLY | os.O_NOFOLLOW)
        if not stat.S_ISFIFO(os.fstat(descriptor).st_mode):
            os.close(descriptor)
            raise StorageFailure(f"{path.name} is no longer the FIFO the platform made")
        try:
            if not self._stopping.is_set():
                self._write_epoch(descriptor)
        except BrokenPipeError:
            log.info("Pipe channel %s epoch %d closed early", self.channel.name, self.epoch)
        except Exception:
            # Held open: the container waits for more rather than take a short epoch for a
            # whole one, until the supervisor sees `error` and ends the attempt.
            self._held = descriptor
            raise
        self._make_fifo(self.epoch + 1)
        os.close(descriptor)
        path.unlink(missing_ok=True)

    def _write_epoch(self, descriptor: int) -> None:
        with contextlib.suppress(OSError):  # a 1 MiB pipe: fewer wake-ups of either side
            fcntl.fcntl(descriptor, F_SETPIPE_SZ, PIPE_BYTES)
        gzipped = self.channel.compression == "Gzip"
        wrapped = self.channel.record_wrapper == "RecordIO"
        with os.fdopen(descriptor, "wb", buffering=0, closefd=False) as out:
            for piece in self.pieces:
                if piece.uri is not None and not (gzipped or wrapped):
                    self._copy_object(piece.uri, descriptor, out)
                    continue
                for chunk in epoch_chunks(self.objects, [piece], gzipped, wrapped):
                    out.write(chunk)

    def _copy_object(self, uri: str, descriptor: int, out: IO[bytes]) -> None:
        """An object as it is: a file on this machine goes by sendfile (no copy through this
        process), anything else in chunks."""
        with self.objects.open_object(uri) as body:
            fileno = getattr(body, "fileno", None)
            if fileno is None:
                for chunk in _chunks(body):
                    out.write(chunk)
                return
            source, offset = fileno(), 0
            try:
                while sent := os.sendfile(descriptor, source, offset, PIPE_BYTES):
                    offset += sent
            except BrokenPipeError:
                raise  # the reader closed the epoch
            except OSError as exc:  # reading the object failed: never a short epoch
                raise StorageUnavailable(f"{uri}: reading the object failed ({exc})") from exc

    def stop(self) -> None:
        """End feeding (the container is gone): a thread blocked opening a FIFO nobody reads
        is let through; one stuck reading the store is left to end on its own (a daemon)."""
        self._stopping.set()
        thread = self._thread
        for _ in range(50):
            if thread is None or not thread.is_alive():
                break
            with contextlib.suppress(OSError):
                reader = os.open(
                    self._fifo(self.epoch), os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW
                )
                os.close(reader)
            thread.join(timeout=0.2)
        else:
            log.warning("Pipe channel %s: its feeder did not stop", self.channel.name)
        self._release()

    def _release(self) -> None:
        if self._held is not None:
            with contextlib.suppress(OSError):
                os.close(self._held)
            self._held = None

    def remove(self) -> None:
        own = re.compile(rf"{re.escape(self.channel.name)}_\d+")  # not channel `train_x`'s
        with contextlib.suppress(OSError):
            for path in self.directory.glob(f"{self.channel.name}_*"):
                if own.fullmatch(path.name) and stat.S_ISFIFO(path.lstat().st_mode):
                    path.unlink()
