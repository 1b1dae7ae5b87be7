"""MLflow (SQLite tracking store) holding the same jobs as runs, for benchmarks/search_bench.py.

MLflow's API writes one run in ~43 ms here (100,000 runs would take over an hour), so the
store is filled with the very rows its API writes (runs, metrics, latest_metrics, params,
tags), in bulk, after MLflow itself created the database and the experiment. Searching goes
through MLflow's own `search_runs` only.
"""

from __future__ import annotations

import random
import sqlite3
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from search_bench import job_data


class MlflowSide:
    def __init__(self, directory: Path, jobs: int) -> None:
        from mlflow.tracking import MlflowClient

        directory.mkdir(parents=True, exist_ok=True)
        database = directory / "mlflow.db"
        self.client = MlflowClient(tracking_uri=f"sqlite:///{database}")
        existing = self.client.get_experiment_by_name("bench")
        if existing is not None:  # kept from an earlier run (--keep)
            self.experiment = existing.experiment_id
            return
        self.experiment = self.client.create_experiment(
            "bench", artifact_location=str(directory / "artifacts")
        )
        started = time.perf_counter()
        self._load(database, jobs, directory)
        print(f"loaded {jobs:,} MLflow runs in {time.perf_counter() - started:.0f} s")

    def _load(self, database: Path, jobs: int, directory: Path) -> None:
        rng = random.Random(7)  # the same jobs as the orchestrator side
        runs, metrics, latest, params, tags = [], [], [], [], []
        for i in range(jobs):
            data = job_data(i, rng)
            run = uuid.uuid4().hex
            start = int(data["created"] * 1000)
            runs.append(
                (
                    run,
                    data["name"],
                    "UNKNOWN",
                    "",
                    "",
                    "unknown",
                    "FINISHED",
                    start,
                    start + 5000,
                    "",
                    "active",
                    f"{directory}/artifacts/{run}",
                    int(self.experiment),
                )
            )
            for key, value in data["metrics"].items():
                metrics.append((key, value, start + 3000, run, 0, 0))
                latest.append((key, value, start + 3000, 0, 0, run))
            params += [(key, value, run) for key, value in data["hyperparameters"].items()]
            tags += [(key, value, run) for key, value in data["tags"].items()]
            tags.append(("mlflow.runName", data["name"], run))
        with sqlite3.connect(database) as conn:
            conn.executemany(
                "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name,"
                " user_id, status, start_time, end_time, source_version, lifecycle_stage,"
                " artifact_uri, experiment_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                runs,
            )
            conn.executemany(
                "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan)"
                " VALUES (?,?,?,?,?,?)",
                metrics,
            )
            conn.executemany(
                "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan,"
                " run_uuid) VALUES (?,?,?,?,?,?)",
                latest,
            )
            conn.executemany("INSERT INTO params (key, value, run_uuid) VALUES (?,?,?)", params)
            conn.executemany("INSERT INTO tags (key, value, run_uuid) VALUES (?,?,?)", tags)

    def search(self, filter_string: str, order_by: list[str] | None) -> int:
        return len(
            self.client.search_runs(
                [self.experiment], filter_string, max_results=10, order_by=order_by
            )
        )

    def deep_page(self, pages: int, repeat: int) -> tuple[float, float]:
        """Time fetching the page after `pages` pages of 100, sorted by metrics.m9. MLflow's
        token is an offset, so it is made directly rather than by walking the pages."""
        from mlflow.utils.search_utils import SearchUtils

        token = SearchUtils.create_page_token(pages * 100)

        def fetch() -> Any:
            return self.client.search_runs(
                [self.experiment],
                "",
                max_results=100,
                order_by=["metrics.m9 DESC"],
                page_token=token,
            )

        return timed_adaptively(fetch, repeat)


def timed_adaptively(call: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Like search_bench.timed, but a call that takes seconds is repeated fewer times."""
    first = _once(call)
    if first > 5:  # minutes per call at 100,000 runs: one sample says enough
        return first, first
    runs = max(2, min(repeat, int(20 / max(first, 1e-3))))
    samples = sorted(_once(call) for _ in range(runs))
    return samples[len(samples) // 2], samples[min(len(samples) - 1, int(len(samples) * 0.99))]


def _once(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started
