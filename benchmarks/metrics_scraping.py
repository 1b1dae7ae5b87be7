"""Cost of MetricDefinitions scraping, and BatchPutMetrics/BatchGetMetrics throughput.

1. A container prints 1,000,000 lines (a tenth of them metric lines); the same job runs with 10
   MetricDefinitions and with none, in the same run. Reported: lines/s scraped, points/s stored,
   and the ratio of the two wall times (target: at most 1.15).
2. The scraper alone over the same lines in memory (target: at least 300,000 lines/s).
3. 1,000,000 points through BatchPutMetrics (10 per call) and read back with BatchGetMetrics.

    .venv/bin/python benchmarks/metrics_scraping.py [--lines 1000000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

from orchestrator import Orchestrator, Settings
from orchestrator.metrics.scraper import MetricDefinition, Scraper

DEFINITIONS = [
    {"Name": "loss", "Regex": r"loss=([0-9.]+)"},
    {"Name": "lr", "Regex": r"lr=([0-9.eE-]+)"},
    {"Name": "acc", "Regex": r"acc=(\d+)"},
    {"Name": "iteration", "Regex": r"iteration (\d+):"},
    {"Name": "val:loss", "Regex": r"val_loss=([0-9.]+)"},
    {"Name": "val:acc", "Regex": r"val_acc=([0-9.]+)"},
    {"Name": "epoch", "Regex": r"Epoch (\d+)/"},
    {"Name": "throughput", "Regex": r"samples/sec=([0-9.]+)"},
    {"Name": "gpu:util", "Regex": r"gpu_util=(\d+)%"},
    {"Name": "grad:norm", "Regex": r"grad_norm=([0-9.]+)"},
]


def request(name: str, lines: int, definitions: list[dict[str, str]]) -> dict[str, Any]:
    algorithm: dict[str, Any] = {
        "TrainingImage": "orchestrator/testbox:latest",
        "TrainingInputMode": "File",
        "ContainerArguments": ["flood", str(lines)],
    }
    if definitions:
        algorithm["MetricDefinitions"] = definitions
    return {
        "TrainingJobName": name,
        "RoleArn": "arn:aws:iam::123456789012:role/SageMakerRole",
        "AlgorithmSpecification": algorithm,
        "OutputDataConfig": {"S3OutputPath": "s3://bench/out"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
    }


def timed_job(
    orch: Orchestrator, name: str, lines: int, definitions: list[dict[str, str]]
) -> float:
    started = time.perf_counter()
    orch.create_training_job(request(name, lines, definitions))
    record = orch.engine.wait(name)
    assert record.secondary_status == "Completed", record
    return time.perf_counter() - started


def scraper_alone(orch: Orchestrator, name: str) -> tuple[int, float]:
    lines = [text for _, text in orch.log_events(name)]
    scraper = Scraper([MetricDefinition(d["Name"], d["Regex"]) for d in DEFINITIONS])
    started = time.perf_counter()
    for line in lines:
        scraper.scrape(line)
    return len(lines), time.perf_counter() - started


def batch_put_and_get(orch: Orchestrator, points: int) -> tuple[float, float, int]:
    metrics, base = 10, 1_700_000_000.0
    per_metric = points // metrics
    started = time.perf_counter()
    for step in range(per_metric):
        data = [
            {"MetricName": f"m{m}", "Timestamp": base + step, "Value": step * 0.5 + m, "Step": step}
            for m in range(metrics)
        ]
        response = orch.batch_put_metrics(TrialComponentName="bench-trial", MetricData=data)
        assert not response.get("Errors"), response
    put_seconds = time.perf_counter() - started
    arn = "arn:aws:sagemaker:us-east-1:000000000000:experiment-trial-component/bench-trial"
    started = time.perf_counter()
    read = 0
    for m in range(metrics):
        result = orch.batch_get_metrics(
            MetricQueries=[
                {
                    "MetricName": f"m{m}",
                    "ResourceArn": arn,
                    "MetricStat": "Last",
                    "Period": "IterationNumber",
                    "XAxisType": "IterationNumber",
                }
            ]
        )
        read += len(result["MetricQueryResults"][0]["MetricValues"])
    return put_seconds, time.perf_counter() - started, read


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--points", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="orchestrator-bench-") as scratch:
        orch = Orchestrator(Settings(home=Path(scratch) / "home"))
        timed_job(orch, "warmup", 10_000, DEFINITIONS)
        plain = timed_job(orch, "plain", args.lines, [])
        scraped = timed_job(orch, "scraped", args.lines, DEFINITIONS)
        stored = sum(s.count for s in orch.metric_summaries("scraped"))
        count, scrape_seconds = scraper_alone(orch, "scraped")
        put_seconds, get_seconds, read = batch_put_and_get(orch, args.points)
    print(f"container printing {args.lines:,} lines, 10 MetricDefinitions vs none:")
    print(
        f"  unscraped {plain:6.2f} s   scraped {scraped:6.2f} s   ratio {scraped / plain:.3f}"
        "  (target <= 1.15)"
    )
    print(
        f"  {args.lines / scraped:,.0f} lines/s scraped, {stored:,} points stored,"
        f" {stored / scraped:,.0f} points/s"
    )
    print(
        f"scraper alone: {count:,} lines in {scrape_seconds:.2f} s ="
        f" {count / scrape_seconds:,.0f} lines/s  (target >= 300,000)"
    )
    print(
        f"BatchPutMetrics: {args.points:,} points in {put_seconds:.2f} s ="
        f" {args.points / put_seconds:,.0f} points/s (10 per call)"
    )
    print(
        f"BatchGetMetrics: {read:,} points in {get_seconds:.2f} s ="
        f" {read / get_seconds:,.0f} points/s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
