"""Warm pool reuse vs cold start: CreateTrainingJob -> first container log line, in-process.

Measured in one run, median of N after a warm-up, the same image (testbox `ok`):
  cold    a job with KeepAlivePeriodInSeconds that matches no pool (a fresh RoleArn each time),
          so it creates a pool and its cache folder
  reused  a job that matches the pool the previous job left Available, and takes it over
Target (warm pool issue): a reused start is not slower than a cold one. Locally there is no
instance to provision, so reuse saves what a pool keeps: the cache, not a boot.

    .venv/bin/python benchmarks/warm_pool_start.py [--runs 10]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

from orchestrator import Orchestrator, Settings

IMAGE = "orchestrator/testbox:latest"


def request(name: str, role: str) -> dict[str, object]:
    return {
        "TrainingJobName": name,
        "RoleArn": f"arn:aws:iam::123456789012:role/{role}",
        "AlgorithmSpecification": {
            "TrainingImage": IMAGE,
            "TrainingInputMode": "File",
            "ContainerArguments": ["ok"],
        },
        "OutputDataConfig": {"S3OutputPath": "s3://bench/out"},
        "ResourceConfig": {
            "InstanceType": "ml.m5.large",
            "InstanceCount": 1,
            "VolumeSizeInGB": 1,
            "KeepAlivePeriodInSeconds": 600,
        },
    }


def first_line(orch: Orchestrator, name: str, role: str) -> float:
    """Seconds from CreateTrainingJob to the container's first log line; waits for the end."""
    seen = threading.Event()
    marks: list[float] = []

    def on_line(stamp: float, host: str, text: str) -> None:
        if not seen.is_set():
            marks.append(time.perf_counter())
            seen.set()

    started = time.perf_counter()
    orch.create_training_job(request(name, role), on_line=on_line)
    record = orch.engine.wait(name)
    assert record.secondary_status == "Completed", record
    assert seen.wait(5)
    return marks[0] - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="orchestrator-bench-") as scratch:
        orch = Orchestrator(Settings(home=Path(scratch) / "home", max_warm_pools=2))
        first_line(orch, "warmup", "warmup")
        cold, reused = [], []
        for i in range(args.runs):
            cold.append(first_line(orch, f"cold{i}", f"cold{i}"))  # matches nothing
            reused.append(first_line(orch, f"reuse{i}", f"cold{i}"))  # takes cold{i}'s pool
            status = orch.describe_training_job(f"cold{i}")["WarmPoolStatus"]
            assert status["Status"] == "Reused", status
            orch.release_warm_pool(f"reuse{i}")
        orch.close()
    cold_median, reused_median = statistics.median(cold), statistics.median(reused)
    print(f"median of {args.runs} runs after a warm-up; create -> first log line, in-process")
    print(f"cold start (new pool)   {cold_median * 1e3:7.1f} ms")
    print(f"reused pool             {reused_median * 1e3:7.1f} ms")
    ratio = reused_median / cold_median
    verdict = "MET" if reused_median <= cold_median * 1.05 else "NOT MET"
    print(f"reused / cold: {ratio:.2f}x; target not slower (within 5 % noise) -> {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
