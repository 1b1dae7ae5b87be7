"""DescribeTrainingJob and ListTrainingJobs from 16 concurrent boto3 clients for 30 s, against
`orchestrator serve` holding 10,000 jobs. Reports requests/s, p50/p99 latency and errors.

    .venv/bin/python benchmarks/api_throughput.py [--jobs 10000 --clients 16 --seconds 30]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import boto3
import botocore.config

from orchestrator.lifecycle import Secondary
from orchestrator.store.db import Database
from orchestrator.store.jobs import JobStore

PATH = [Secondary.DOWNLOADING, Secondary.TRAINING, Secondary.UPLOADING, Secondary.COMPLETED]


def populate(home: Path, count: int) -> None:
    """Stored jobs as the engine leaves them (Completed, with their history), no containers."""
    store = JobStore(Database(home / "orchestrator.db"))
    base = time.time() - count
    for i in range(count):
        name = f"bench-{i:05d}"
        request = {
            "TrainingJobName": name,
            "RoleArn": "arn:aws:iam::123456789012:role/R",
            "AlgorithmSpecification": {"TrainingImage": "i", "TrainingInputMode": "File"},
            "OutputDataConfig": {"S3OutputPath": "s3://b/o"},
            "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1},
        }
        store.insert(
            name, f"arn:aws:sagemaker:us-east-1:000000000000:training-job/{name}", request, base + i
        )
        current = Secondary.STARTING
        for step, target in enumerate(PATH, start=1):
            store.move(
                name, current, target, base + i + step * 0.1, training_start_time=base + i
            ) if step == 1 else store.move(name, current, target, base + i + step * 0.1)
            current = target


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def worker(
    url: str, jobs: int, window: tuple[float, float], latencies: list[float], errors: list[str]
) -> None:
    config = botocore.config.Config(retries={"max_attempts": 0}, max_pool_connections=2)
    client = boto3.client(
        "sagemaker",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=config,
    )
    rng = random.Random()
    start, end = window
    while time.time() < start:
        time.sleep(0.01)  # all clients start together, after every process is up
    while time.time() < end:
        started = time.perf_counter()
        try:
            if rng.random() < 0.5:
                client.describe_training_job(TrainingJobName=f"bench-{rng.randrange(jobs):05d}")
            else:
                client.list_training_jobs(MaxResults=20, SortBy="CreationTime")
        except Exception as exc:
            errors.append(repr(exc))
            continue
        latencies.append(time.perf_counter() - started)


def client_process(
    url: str, jobs: int, window: tuple[float, float], threads: int, results: Any
) -> None:
    """One process of client threads: the clients' own CPU is spread over processes, so the
    clients' GIL is not what is measured."""
    latencies: list[float] = []
    errors: list[str] = []
    pool = [
        threading.Thread(target=worker, args=(url, jobs, window, latencies, errors))
        for _ in range(threads)
    ]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    results.put((latencies, errors))


def drive(url: str, jobs: int, clients: int, seconds: float) -> tuple[list[float], list[str]]:
    processes = min(4, clients)
    results: Any = multiprocessing.Queue()
    start = time.time() + 3  # the processes' start-up is not measured
    window = (start, start + seconds)
    started = [
        multiprocessing.Process(
            target=client_process, args=(url, jobs, window, clients // processes, results)
        )
        for _ in range(processes)
    ]
    for process in started:
        process.start()
    latencies: list[float] = []
    errors: list[str] = []
    for _ in started:
        got_latencies, got_errors = results.get()
        latencies += got_latencies
        errors += got_errors
    for process in started:
        process.join()
    return latencies, errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="orchestrator-bench-") as scratch:
        home = Path(scratch)
        populate(home, args.jobs)
        port = free_port()
        env = {**os.environ, "ORCHESTRATOR_HOME": str(home)}
        server = subprocess.Popen(
            [sys.executable, "-m", "orchestrator", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.PIPE,
        )
        try:
            assert server.stdout is not None
            server.stdout.readline()  # "orchestrator listening on ..."
            url = f"http://127.0.0.1:{port}"
            latencies, errors = drive(url, args.jobs, args.clients, args.seconds)
        finally:
            server.terminate()
            server.wait(10)
    ordered = sorted(latencies)
    p99 = ordered[int(len(ordered) * 0.99)] if ordered else float("nan")
    print(
        f"{args.clients} clients, {args.seconds:.0f} s, {args.jobs:,} stored jobs:"
        f" {len(latencies) / args.seconds:,.0f} requests/s,"
        f" p50 {statistics.median(ordered) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms,"
        f" {len(errors)} errors"
    )
    if errors:
        print("first error:", errors[0])
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
