"""Container output to a per-host log file: one `epoch<TAB>text` line per log line.

The file outlives the container, so `orchestrator logs` works after a job ends and after a
restart. Each line is flushed as it is written, so the file itself says how far the pump got: an
adopting supervisor re-reading the container's log from the start skips exactly that many.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TextIO

from orchestrator.engine.recording import MetricRecorder
from orchestrator.runtime.protocol import LogChunk

MAX_LINE_BYTES = 256 * 1024
LineCallback = Callable[[float, str], None]
# What the engine's callers get: (timestamp, host, line), e.g. (1700000000.0, "algo-2", "...").
HostLineCallback = Callable[[float, str, str], None]


def split_lines(chunks: Iterable[bytes], max_bytes: int = MAX_LINE_BYTES) -> Iterator[str]:
    """Whole lines from a byte stream; an over-long line is cut in pieces, a last line
    without newline is still given, and undecodable bytes become U+FFFD."""
    splitter = LineSplitter(max_bytes)
    for chunk in chunks:
        yield from splitter.feed(chunk)
    yield from splitter.finish()


def _pieces(line: bytes, max_bytes: int) -> Iterator[str]:
    if len(line) <= max_bytes:
        yield _decode(line)
        return
    for start in range(0, len(line), max_bytes):
        yield _decode(line[start : start + max_bytes])


def _decode(raw: bytes) -> str:
    return raw.rstrip(b"\r").decode("utf-8", errors="replace")


class LineSplitter:
    """Bytes in, whole lines out, chunk by chunk (see split_lines)."""

    def __init__(self, max_bytes: int = MAX_LINE_BYTES) -> None:
        self.max_bytes = max_bytes
        self.pending = b""

    def feed(self, chunk: bytes) -> list[str]:
        parts = (self.pending + chunk).split(b"\n")
        self.pending = parts.pop()
        lines = [piece for part in parts for piece in _pieces(part, self.max_bytes)]
        if len(self.pending) >= self.max_bytes:
            whole = len(self.pending) - len(self.pending) % self.max_bytes
            lines += _pieces(self.pending[:whole], self.max_bytes)
            self.pending = self.pending[whole:]
        return lines

    def finish(self) -> list[str]:
        rest, self.pending = self.pending, b""
        return list(_pieces(rest, self.max_bytes)) if rest else []


class LogPump:
    """Follows one container's output into its log file (and the metric recorder) on a
    background thread. Each line is stamped with when the runtime recorded it (so an adopting
    engine stamps a line written while no engine ran with when it was written, not when it
    was read); where the runtime cannot say, with when it was read."""

    def __init__(
        self,
        chunks: Iterable[LogChunk],
        path: Path,
        skip_lines: int = 0,
        on_line: LineCallback | None = None,
        now: Callable[[], float] = time.time,
        recorder: MetricRecorder | None = None,
    ) -> None:
        self.chunks = chunks
        self.path = path
        self.skip_lines = skip_lines
        self.on_line = on_line
        self.now = now
        self.recorder = recorder
        self.seen = 0
        self.lines = skip_lines
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"logs-{path.stem}", daemon=True)

    def start(self) -> LogPump:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        splitter = LineSplitter()
        try:
            stamp: float | None = None
            with self.path.open("a", encoding="utf-8", errors="replace") as out:
                for stamp, chunk in self.chunks:
                    self._emit(out, splitter.feed(chunk), stamp)
                self._emit(out, splitter.finish(), stamp)
            if self.recorder is not None:
                self.recorder.commit()
        except Exception as exc:  # the job must not die with its log reader
            self.error = exc

    def _emit(self, out: TextIO, lines: list[str], recorded: float | None) -> None:
        if self.seen < self.skip_lines:  # already in the file (an adopted job)
            dropped = min(self.skip_lines - self.seen, len(lines))
            self.seen += dropped
            lines = lines[dropped:]
        if not lines:
            return
        stamp = recorded if recorded is not None else self.now()
        out.write("".join(f"{stamp:.6f}\t{text}\n" for text in lines))
        out.flush()  # before the recorder commits: the file always holds what was scraped
        self.seen += len(lines)
        self.lines += len(lines)
        for text in lines:
            if self.on_line is not None:
                self.on_line(stamp, text)
            if self.recorder is not None:
                self.recorder.feed(stamp, text)
        if self.recorder is not None:
            self.recorder.maybe_commit()


def log_event(raw: bytes, previous: float = 0.0) -> tuple[float, str]:
    """One stored line (`stamp<TAB>text`, without its newline). A carriage return inside is
    text (progress bars); a line read from its middle, with no stamp, keeps the previous one."""
    line = raw.decode("utf-8", errors="replace")
    stamp, tab, text = line.partition("\t")
    try:
        return (float(stamp), text) if tab else (previous, line)
    except ValueError:
        return previous, line


def parse_lines(data: bytes) -> list[tuple[float, str, int]]:
    """The complete lines of a stretch of a log file: (stamp, text, bytes with its newline).
    Lines end at \n only (not splitlines): a bare \r, a progress bar's, is text."""
    events: list[tuple[float, str, int]] = []
    for raw in data[: data.rfind(b"\n") + 1].split(b"\n")[:-1]:
        stamp, text = log_event(raw, events[-1][0] if events else 0.0)
        events.append((stamp, text, len(raw) + 1))
    return events


def read_log(
    path: Path, offset: int = 0, max_bytes: int = -1
) -> tuple[list[tuple[float, str]], int]:
    """Complete lines of a log file from a byte offset, and the offset after them (at most
    `max_bytes` read, unless a single line is longer)."""
    if not path.exists():
        return [], offset
    with path.open("rb") as handle:
        handle.seek(offset)
        data = handle.read(max_bytes)
        if max_bytes >= 0 and b"\n" not in data:
            data += handle.readline()  # one line longer than the bound still comes whole
    lines = parse_lines(data)
    return [(stamp, text) for stamp, text, _ in lines], offset + sum(n for *_, n in lines)


def complete_lines(path: Path) -> int:
    """Lines fully written to a log file; a torn last line (the writer died) is cut off."""
    if not path.exists():
        return 0
    data = path.read_bytes()
    end = data.rfind(b"\n") + 1
    if end != len(data):
        with path.open("r+b") as handle:
            handle.truncate(end)
    return data.count(b"\n", 0, end)


def lines_from(path: Path, first: int) -> list[tuple[float, str]]:
    """The log's complete lines from line number `first` (0-based) on."""
    events, _ = read_log(path)
    return events[first:]
