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

MAX_LINE_BYTES = 256 * 1024
LineCallback = Callable[[float, str], None]


def split_lines(chunks: Iterable[bytes], max_bytes: int = MAX_LINE_BYTES) -> Iterator[str]:
    """Whole lines from a byte stream; an over-long line is cut in pieces, a last line
    without newline is still given, and undecodable bytes become U+FFFD."""
    pending = b""
    for chunk in chunks:
        parts = (pending + chunk).split(b"\n")
        pending = parts.pop()
        for part in parts:
            yield from _pieces(part, max_bytes)
        if len(pending) >= max_bytes:
            whole = len(pending) - len(pending) % max_bytes
            yield from _pieces(pending[:whole], max_bytes)
            pending = pending[whole:]
    if pending:
        yield from _pieces(pending, max_bytes)


def _pieces(line: bytes, max_bytes: int) -> Iterator[str]:
    if len(line) <= max_bytes:
        yield _decode(line)
        return
    for start in range(0, len(line), max_bytes):
        yield _decode(line[start : start + max_bytes])


def _decode(raw: bytes) -> str:
    return raw.rstrip(b"\r").decode("utf-8", errors="replace")


class LogPump:
    """Follows one container's output into its log file on a background thread."""

    def __init__(
        self,
        chunks: Iterable[bytes],
        path: Path,
        skip_lines: int = 0,
        on_line: LineCallback | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        self.chunks = chunks
        self.path = path
        self.skip_lines = skip_lines
        self.on_line = on_line
        self.now = now
        self.lines = skip_lines
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"logs-{path.stem}", daemon=True)

    def start(self) -> LogPump:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._thread.start()
        return self

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        seen = 0
        try:
            with self.path.open("a", encoding="utf-8", errors="replace") as out:
                for text in split_lines(self.chunks):
                    seen += 1
                    if seen <= self.skip_lines:
                        continue
                    self._write(out, text)
        except Exception as exc:  # the job must not die with its log reader
            self.error = exc

    def _write(self, out: TextIO, text: str) -> None:
        stamp = self.now()
        out.write(f"{stamp:.6f}\t{text}\n")
        out.flush()
        self.lines += 1
        if self.on_line is not None:
            self.on_line(stamp, text)


def read_log(path: Path, offset: int = 0) -> tuple[list[tuple[float, str]], int]:
    """Complete lines of a log file from a byte offset, and the offset after them."""
    if not path.exists():
        return [], offset
    with path.open("rb") as handle:
        handle.seek(offset)
        data = handle.read()
    end = data.rfind(b"\n") + 1
    events = []
    for raw in data[:end].splitlines():
        stamp, _, text = raw.decode("utf-8", errors="replace").partition("\t")
        events.append((float(stamp), text))
    return events, offset + end


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
