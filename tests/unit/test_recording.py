"""Log pump plus metric recorder: every point stored once, across a crash and adoption."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from orchestrator.engine.logs import LogPump, complete_lines, lines_from
from orchestrator.engine.recording import MetricRecorder
from orchestrator.metrics.scraper import MetricDefinition, Scraper
from orchestrator.runtime.protocol import LogChunk
from orchestrator.store.db import Database
from orchestrator.store.jobs import JobStore
from orchestrator.store.metrics import MetricStore
from orchestrator.store.runs import HostRunStore

ARN = "arn:aws:sagemaker:us-east-1:123456789012:training-job/j"
SCRAPER = Scraper([MetricDefinition("loss", r"loss=([0-9.]+)")])


def _setup(tmp_path: Path) -> tuple[JobStore, MetricStore, Path]:
    db = Database(tmp_path / "db.sqlite")
    jobs = JobStore(db)
    jobs.insert("j", ARN, {"TrainingJobName": "j"}, 0.0)
    return jobs, MetricStore(db), tmp_path / "algo-1.log"


WRITTEN = 1_700_000_000.0  # line i was written at WRITTEN + i (as the runtime recorded it)


def _output(count: int) -> Iterator[LogChunk]:
    for i in range(count):
        yield WRITTEN + i, f"line {i} loss={i}\n".encode()


def _recorder(jobs: JobStore, metrics: MetricStore, flush_points: int) -> MetricRecorder:
    done = _scraped(jobs)
    return MetricRecorder(
        metrics, "j", ARN, SCRAPER, done, lambda: 1.0, flush_seconds=1e9, flush_points=flush_points
    )


def _scraped(jobs: JobStore) -> int:
    return HostRunStore(jobs.db).scraped_lines("j", "algo-1")


class Crash(Exception):
    pass


def _dies_after(count: int) -> Iterator[LogChunk]:
    yield from _output(count)
    raise Crash


def test_points_survive_a_crash_exactly_once(tmp_path: Path) -> None:
    jobs, metrics, log = _setup(tmp_path)
    # The first supervisor commits every 7 points, then dies after line 50 with points pending.
    first = LogPump(_dies_after(50), log, recorder=_recorder(jobs, metrics, 7)).start()
    first.join()
    assert isinstance(first.error, Crash)
    assert _scraped(jobs) == 49 and len(metrics.series(ARN, "loss")) == 49
    # The adopter scrapes the file's unscraped lines, then follows the container from the start.
    in_file = complete_lines(log)
    recorder = _recorder(jobs, metrics, 7)
    for stamp, text in lines_from(log, recorder.lines):
        recorder.feed(stamp, text)
    recorder.commit()
    LogPump(_output(80), log, skip_lines=in_file, recorder=recorder).start().join()
    values = [p.value for p in metrics.series(ARN, "loss")]
    assert values == [float(i) for i in range(80)]
    # Every point at the time its line was written, whichever engine read it, and when.
    assert [p.timestamp for p in metrics.series(ARN, "loss")] == [WRITTEN + i for i in range(80)]
    assert complete_lines(log) == 80 and _scraped(jobs) == 80


def test_edge_cases_of_container_output(tmp_path: Path) -> None:
    jobs, metrics, log = _setup(tmp_path)
    chunks = [b"loss=1\n", b"x" * 300_000 + b" loss=2\n", b"\xff\xfe loss=3\n", b"loss=4"]
    LogPump(
        ((None, c) for c in chunks), log, recorder=_recorder(jobs, metrics, 1000)
    ).start().join()
    assert [p.value for p in metrics.series(ARN, "loss")] == [1.0, 2.0, 3.0, 4.0]
    lines = [text for _, text in lines_from(log, 0)]
    assert lines[-1] == "loss=4" and "\ufffd\ufffd loss=3" in lines


def test_a_flood_is_drained_completely(tmp_path: Path) -> None:
    jobs, metrics, log = _setup(tmp_path)
    pump = LogPump(_output(50_000), log, recorder=_recorder(jobs, metrics, 5000)).start()
    pump.join()
    assert pump.lines == 50_000 and len(metrics.series(ARN, "loss")) == 50_000
