"""Search at 100,000 training jobs (10 metrics, 10 hyperparameters, 3 tags each), against
MLflow's `search_runs` over the same data in the same run (MLflow with its SQLite store).

Ten representative searches, each timed as p50/p99 over repeated runs. Targets (issue 5): every
p50 under 50 ms, and at least 5x faster than MLflow on each comparable search.

    make bench-search        (installs MLflow into .bench-venv; the project never needs it)
    .bench-venv/bin/python benchmarks/search_bench.py [--jobs 100000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from orchestrator.lifecycle import Secondary
from orchestrator.search import service as search_service
from orchestrator.store.db import Database
from orchestrator.store.jobs import JobStore
from orchestrator.store.metrics import MetricStore, NewPoint
from orchestrator.store.search_index import SearchIndex

BASE = 1_700_000_000.0
TEAMS = ["vision", "speech", "nlp"]
PATH = [Secondary.DOWNLOADING, Secondary.TRAINING, Secondary.UPLOADING, Secondary.COMPLETED]


def job_data(i: int, rng: random.Random) -> dict[str, Any]:
    return {
        "name": f"job-{i:06d}",
        "created": BASE + i * 10,
        "hyperparameters": {f"hp{k}": f"{rng.random():.4f}" for k in range(10)},
        "metrics": {f"m{k}": rng.random() for k in range(10)},
        "tags": {
            "team": rng.choice(TEAMS),
            "owner": f"user{rng.randrange(50)}",
            "project": f"p{rng.randrange(20)}",
        },
        "bucket": rng.choice(["catdata", "dogdata", "birddata"]),
    }


class Orchestrator:
    def __init__(self, home: Path) -> None:
        db = Database(home / "orchestrator.db")
        self.jobs, self.metrics, self.index = JobStore(db), MetricStore(db), SearchIndex(db)

    def add(self, data: dict[str, Any]) -> None:
        name, created = data["name"], data["created"]
        arn = f"arn:aws:sagemaker:us-east-1:000000000000:training-job/{name}"
        request = {
            "TrainingJobName": name,
            "RoleArn": "arn:aws:iam::123456789012:role/R",
            "AlgorithmSpecification": {"TrainingImage": "img", "TrainingInputMode": "File"},
            "HyperParameters": data["hyperparameters"],
            "InputDataConfig": [
                {
                    "ChannelName": channel,
                    "DataSource": {
                        "S3DataSource": {
                            "S3DataType": "S3Prefix",
                            "S3Uri": f"s3://{data['bucket']}/{channel}",
                        }
                    },
                }
                for channel in ("train", "validation")
            ],
            "OutputDataConfig": {"S3OutputPath": "s3://b/o"},
            "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
            "Tags": [{"Key": k, "Value": v} for k, v in data["tags"].items()],
        }
        self.jobs.insert(name, arn, request, created)
        current = Secondary.STARTING
        for step, target in enumerate(PATH, start=1):
            extra = {"training_start_time": created + 1} if step == 1 else {}
            self.jobs.move(name, current, target, created + step, **extra)
            current = target
        self.metrics.append(arn, [NewPoint(k, created + 3, v) for k, v in data["metrics"].items()])

    def search(self, request: dict[str, Any]) -> int:
        response = search_service.search(
            self.jobs, self.metrics, self.index, {"Resource": "TrainingJob", **request}
        )
        return len(response["Results"])


def f(name: str, operator: str, value: str) -> dict[str, str]:
    return {"Name": name, "Operator": operator, "Value": value}


SEARCHES: list[tuple[str, dict[str, Any], str | None, list[str] | None]] = [
    # (label, Search request, MLflow filter string or None if not comparable, MLflow order_by)
    (
        "metric threshold",
        {"SearchExpression": {"Filters": [f("Metrics.m0", "LessThan", "0.05")]}},
        "metrics.m0 < 0.05",
        None,
    ),
    (
        "hyperparameter range",
        {
            "SearchExpression": {
                "Filters": [
                    f("HyperParameters.hp0", "GreaterThan", "0.1"),
                    f("HyperParameters.hp0", "LessThan", "0.15"),
                ]
            }
        },
        None,  # MLflow params are strings: no range comparison,
        None,
    ),
    (
        "tag equality",
        {"SearchExpression": {"Filters": [f("Tags.project", "Equals", "p7")]}},
        "tags.project = 'p7'",
        None,
    ),
    (
        "nested channel filter",
        {
            "SearchExpression": {
                "NestedFilters": [
                    {
                        "NestedPropertyName": "InputDataConfig",
                        "Filters": [
                            f("InputDataConfig.ChannelName", "Equals", "train"),
                            f(
                                "InputDataConfig.DataSource.S3DataSource.S3Uri",
                                "Contains",
                                "catdata",
                            ),
                        ],
                    }
                ],
                "Filters": [f("Metrics.m1", "GreaterThan", "0.9")],
            }
        },
        None,
        None,
    ),
    (
        "Or of two subexpressions",
        {
            "SearchExpression": {
                "Operator": "Or",
                "SubExpressions": [
                    {"Filters": [f("Metrics.m2", "LessThan", "0.01")]},
                    {
                        "Filters": [
                            f("Tags.owner", "Equals", "user3"),
                            f("Metrics.m3", "GreaterThan", "0.5"),
                        ]
                    },
                ],
            }
        },
        None,
        None,
    ),
    (
        "sort by metric",
        {"SortBy": "Metrics.m4", "SortOrder": "Descending"},
        "",
        ["metrics.m4 DESC"],
    ),
    (
        "metric threshold sorted by metric",
        {
            "SearchExpression": {"Filters": [f("Metrics.m5", "GreaterThan", "0.8")]},
            "SortBy": "Metrics.m6",
            "SortOrder": "Ascending",
        },
        "metrics.m5 > 0.8",
        ["metrics.m6 ASC"],
    ),
    (
        "two metrics and a tag",
        {
            "SearchExpression": {
                "Filters": [
                    f("Metrics.m7", "LessThan", "0.1"),
                    f("Metrics.m8", "GreaterThan", "0.5"),
                    f("Tags.team", "Equals", "vision"),
                ]
            }
        },
        "metrics.m7 < 0.1 and metrics.m8 > 0.5 and tags.team = 'vision'",
        None,
    ),
    (
        "creation time window",
        {
            "SearchExpression": {
                "Filters": [
                    f("CreationTime", "GreaterThanOrEqualTo", "2023-11-14T23:00:00"),
                    f("CreationTime", "LessThan", "2023-11-15T00:00:00"),
                ]
            }
        },
        "attributes.start_time >= 1700002800000 and attributes.start_time < 1700006400000",
        None,
    ),
]
DEEP_PAGES = 50
DEEP_LABEL = f"deep page (page {DEEP_PAGES + 1} of 100)"
Timing = tuple[float, float]  # p50, p99 in seconds


def timed(call: Callable[[], object], repeat: int) -> tuple[float, float]:
    call()  # warm: page cache, compiled statements
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))]


def deep_page_token(orch: Orchestrator) -> str:
    token = None
    for _ in range(DEEP_PAGES):
        response = search_service.search(
            orch.jobs,
            orch.metrics,
            orch.index,
            {
                "Resource": "TrainingJob",
                "SortBy": "Metrics.m9",
                "MaxResults": 100,
                **({"NextToken": token} if token else {}),
            },
        )
        token = response.get("NextToken")
        if token is None:
            raise SystemExit(f"the deep page needs more than {DEEP_PAGES * 100} jobs (--jobs)")
    assert token is not None
    return token


def build(home: Path, jobs: int) -> Orchestrator:
    if (home / "orchestrator.db").exists():  # kept from an earlier run (--keep)
        return Orchestrator(home)
    orch = Orchestrator(home)
    rng = random.Random(7)
    started = time.perf_counter()
    for i in range(jobs):
        orch.add(job_data(i, rng))
    stored = time.perf_counter() - started
    started = time.perf_counter()
    search_service.refresh(orch.jobs, orch.metrics, orch.index)
    print(
        f"built {jobs:,} jobs in {stored:.0f} s, indexed them in"
        f" {time.perf_counter() - started:.0f} s"
    )
    return orch


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--no-mlflow", action="store_true")
    parser.add_argument("--only", help="run only the searches whose label contains this")
    parser.add_argument("--keep", type=Path, help="build the stores here once and reuse them")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="orchestrator-search-bench-") as scratch:
        home = args.keep or Path(scratch)
        home.mkdir(parents=True, exist_ok=True)
        orch = build(home, args.jobs)
        mlflow = None
        if not args.no_mlflow:
            from mlflow_side import MlflowSide, timed_adaptively  # only in .bench-venv

            mlflow = MlflowSide(home / "mlflow", args.jobs)
        rows: list[tuple[str, Timing, Timing | None]] = []
        for label, request, mlflow_filter, order in SEARCHES:
            if args.only and args.only not in label:
                continue
            ours = timed(lambda request=request: orch.search(request), args.repeat)
            theirs = None
            if mlflow is not None and mlflow_filter is not None:
                theirs = timed_adaptively(
                    lambda q=mlflow_filter, o=order: mlflow.search(q, o), args.repeat
                )
            rows.append((label, ours, theirs))
        if args.only and args.only not in DEEP_LABEL:
            report(rows)
            return 0
        token = deep_page_token(orch)
        deep = {
            "Resource": "TrainingJob",
            "SortBy": "Metrics.m9",
            "MaxResults": 100,
            "NextToken": token,
        }
        ours = timed(
            lambda: search_service.search(orch.jobs, orch.metrics, orch.index, deep), args.repeat
        )
        theirs = mlflow.deep_page(DEEP_PAGES, args.repeat) if mlflow is not None else None
        rows.append((DEEP_LABEL, ours, theirs))
    report(rows)
    return 0


def report(rows: list[tuple[str, Timing, Timing | None]]) -> None:
    print(f"{'search':36s} {'p50':>8s} {'p99':>8s}   {'MLflow p50':>10s}  {'ratio':>6s}")
    for label, (p50, p99), other in rows:
        compared = (
            f"{other[0] * 1000:8.1f} ms  {other[0] / p50:5.1f}x" if other else "  (not comparable)"
        )
        print(f"{label:36s} {p50 * 1000:6.1f} ms {p99 * 1000:6.1f} ms   {compared}")


if __name__ == "__main__":
    raise SystemExit(main())
