"""Splitting a container's byte stream into log lines, and the log file's own offsets."""

from __future__ import annotations

from pathlib import Path

from orchestrator.engine.logs import complete_lines, read_log, split_lines


def test_lines_across_chunks() -> None:
    assert list(split_lines([b"ab", b"c\nde", b"f\n\ng"])) == ["abc", "def", "", "g"]


def test_last_line_without_newline_is_kept() -> None:
    assert list(split_lines([b"done"])) == ["done"]


def test_long_lines_are_cut_not_held() -> None:
    pieces = list(split_lines([b"x" * 25, b"\n"], max_bytes=10))
    assert pieces == ["x" * 10, "x" * 10, "x" * 5]


def test_binary_output_becomes_replacement_characters() -> None:
    assert list(split_lines([b"\xff\xfeok\r\n"])) == ["\ufffd\ufffdok"]


def test_a_flood_is_streamed(tmp_path: Path) -> None:
    chunks = (b"line %d\n" % i for i in range(100_000))
    assert sum(1 for _ in split_lines(chunks)) == 100_000


def test_read_log_returns_complete_lines_and_offset(tmp_path: Path) -> None:
    log = tmp_path / "algo-1.log"
    log.write_text("1.5\tfirst\n2.5\tsecond\twith tab\n3.5\tpart")
    events, offset = read_log(log)
    assert events == [(1.5, "first"), (2.5, "second\twith tab")]
    log.write_text(log.read_text() + "ial\n")
    assert read_log(log, offset)[0] == [(3.5, "partial")]


def test_complete_lines_cuts_a_torn_line(tmp_path: Path) -> None:
    log = tmp_path / "algo-1.log"
    log.write_text("1\ta\n2\tb\n3\tto")
    assert complete_lines(log) == 2
    assert log.read_text() == "1\ta\n2\tb\n"
    assert complete_lines(tmp_path / "missing.log") == 0
