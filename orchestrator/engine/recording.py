"""Scraped metric points go to the store with the number of log lines they cover.

Points and that line count are committed in one transaction, after the log file holds those
lines. So after a crash the store says exactly which lines were scraped, the log file holds at
least those, and an adopting supervisor scrapes the rest from the file: no point lost, none
stored twice.
"""

from __future__ import annotations

from collections.abc import Callable

from orchestrator.metrics.scraper import Scraper
from orchestrator.store.metrics import MetricStore, NewPoint


class MetricRecorder:
    def __init__(
        self,
        store: MetricStore,
        job: str,
        resource: str,
        scraper: Scraper,
        lines_done: int,
        now: Callable[[], float],
        flush_seconds: float = 1.0,
        flush_points: int = 5000,
        host: str = "algo-1",
    ) -> None:
        self.host = host
        self.store = store
        self.job = job
        self.resource = resource
        self.scraper = scraper
        self.lines = lines_done
        self.now = now
        self.flush_seconds = flush_seconds
        self.flush_points = flush_points
        self.pending: list[NewPoint] = []
        self._last_commit = now()
        self.points_stored = 0

    def feed(self, timestamp: float, text: str) -> None:
        """The next log line, in order."""
        for name, value in self.scraper.scrape(text):
            self.pending.append(NewPoint(name, timestamp, value))
        self.lines += 1

    def maybe_commit(self) -> None:
        """Commit when enough points are waiting or a second has passed (live metrics)."""
        if len(self.pending) >= self.flush_points or (
            self.now() - self._last_commit >= self.flush_seconds
        ):
            self.commit()

    def commit(self) -> None:
        self.store.append(
            self.resource, self.pending, job=self.job, scraped_lines=self.lines, host=self.host
        )
        self.points_stored += len(self.pending)
        self.pending = []
        self._last_commit = self.now()
