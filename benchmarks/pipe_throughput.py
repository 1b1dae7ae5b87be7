"""Pipe mode against File mode: a job that reads a whole channel once, create -> Completed.

File mode copies the channel into /opt/ml/input/data/train before the container starts, then
the container reads the files; Pipe mode streams the same objects through the FIFO train_0
while the container reads it. Same data, same image, same store, in one run: the local
directory store, and an S3-compatible server (moto, in a process of its own, on loopback).
Median of R runs; the ratio is File's time over Pipe's (above 1: Pipe is faster).

    .venv/bin/python benchmarks/pipe_throughput.py [--megabytes 512] [--objects 64] [--runs 3]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from s3_throughput import _make, moto_server

from orchestrator import Orchestrator, Settings

IMAGE = "orchestrator/testbox:latest"


def request(name: str, mode: str, uri: str) -> dict[str, Any]:
    arguments = ["pipe", "train", "1", "--count"] if mode == "Pipe" else ["read", "train"]
    source = {"S3DataType": "S3Prefix", "S3Uri": uri}
    return {
        "TrainingJobName": name,
        "RoleArn": "arn:aws:iam::123456789012:role/SageMakerRole",
        "AlgorithmSpecification": {
            "TrainingImage": IMAGE,
            "TrainingInputMode": mode,
            "ContainerArguments": arguments,
        },
        "InputDataConfig": [{"ChannelName": "train", "DataSource": {"S3DataSource": source}}],
        "OutputDataConfig": {"S3OutputPath": "s3://bench/out"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
    }


def timed_job(orch: Orchestrator, name: str, mode: str, uri: str) -> float:
    started = time.perf_counter()
    orch.create_training_job(request(name, mode, uri))
    described = orch.wait(name, timeout=3600)
    elapsed = time.perf_counter() - started
    if described["TrainingJobStatus"] != "Completed":
        raise SystemExit(f"{name}: {described.get('FailureReason')}")
    return elapsed


def compare(orch: Orchestrator, label: str, megabytes: float, runs: int) -> None:
    times: dict[str, list[float]] = {"File": [], "Pipe": []}
    for run in range(runs + 1):  # the first of each is a warm-up
        for mode in ("File", "Pipe"):
            seconds = timed_job(orch, f"{label}-{mode.lower()}-{run}", mode, "s3://bench/data/")
            if run:
                times[mode].append(seconds)
    file_s, pipe_s = (statistics.median(times[m]) for m in ("File", "Pipe"))
    print(
        f"{label:>6}  File {file_s:6.2f} s ({megabytes / file_s:6.1f} MiB/s)   Pipe"
        f" {pipe_s:6.2f} s ({megabytes / pipe_s:6.1f} MiB/s)   File/Pipe {file_s / pipe_s:.2f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=int, default=512)
    parser.add_argument("--objects", type=int, default=64)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    size = args.megabytes * 2**20 // args.objects
    print(f"{args.objects} objects of {size / 2**20:.1f} MiB; median of {args.runs} runs")
    with tempfile.TemporaryDirectory(prefix="bench-pipe-") as tmp:
        scratch = Path(tmp)
        _make(scratch / "data", args.objects, size)
        settings = Settings(home=scratch / "home", poll_seconds=0.05)
        local = Orchestrator(settings)
        local.upload(scratch / "data", "s3://bench/data")
        compare(local, "local", args.megabytes, args.runs)
        local.close()
        with moto_server():
            on_s3 = Orchestrator(dataclasses.replace(settings, object_store="s3"))
            on_s3.objects.client.create_bucket(Bucket="bench")  # type: ignore[attr-defined]
            on_s3.upload(scratch / "data", "s3://bench/data")
            compare(on_s3, "s3", args.megabytes, args.runs)
            on_s3.close()


if __name__ == "__main__":
    main()
