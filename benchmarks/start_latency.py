"""Start latency of a trivial training job, against a raw `docker run --rm` of the same image.

Measured in one run, median of N runs after a warm-up:
  (a) CreateTrainingJob -> first container log line, in-process      vs raw run -> first line
  (b) CreateTrainingJob -> Completed with artifacts uploaded, in-process  vs raw run to exit
  (c) the whole `orchestrator run job.json` process                    vs raw run to exit
Targets (issue 2): (a) within 15 % of raw, (b) within 0.3 s of raw, (c) within 2x raw.

    .venv/bin/python benchmarks/start_latency.py [--runs 10]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from orchestrator import Orchestrator, Settings

IMAGE = "orchestrator/testbox:latest"


def request(name: str) -> dict[str, object]:
    return {
        "TrainingJobName": name,
        "RoleArn": "arn:aws:iam::123456789012:role/SageMakerRole",
        "AlgorithmSpecification": {
            "TrainingImage": IMAGE,
            "TrainingInputMode": "File",
            "ContainerArguments": ["ok"],
        },
        "OutputDataConfig": {"S3OutputPath": "s3://bench/out"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
    }


def raw_docker(opt_ml: Path) -> tuple[float, float]:
    """(seconds to first stdout line, seconds to exit) of `docker run --rm` with /opt/ml."""
    for sub in ("model", "output/data", "input/config"):
        (opt_ml / sub).mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    proc = subprocess.Popen(
        ["docker", "run", "--rm", "-v", f"{opt_ml}:/opt/ml", IMAGE, "ok"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    proc.stdout.readline()
    first = time.perf_counter() - started
    proc.wait()
    return first, time.perf_counter() - started


def in_process(orch: Orchestrator, name: str) -> tuple[float, float]:
    """(seconds to first log line, seconds to Completed) through the Python API."""
    first_line = threading.Event()
    marks: list[float] = []

    def on_line(stamp: float, host: str, text: str) -> None:
        if not first_line.is_set():
            marks.append(time.perf_counter())
            first_line.set()

    started = time.perf_counter()
    orch.create_training_job(request(name), on_line=on_line)
    record = orch.engine.wait(name)
    total = time.perf_counter() - started
    assert record.secondary_status == "Completed", record
    first_line.wait(5)
    return marks[0] - started, total


def whole_process(home: Path, tmp: Path, name: str) -> float:
    path = tmp / f"{name}.json"
    path.write_text(json.dumps(request(name)))
    env = {**os.environ, "ORCHESTRATOR_HOME": str(home)}
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "orchestrator", "run", "--quiet", str(path)],
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def median_of(runs: int, measure: Callable[[int], tuple[float, ...]]) -> list[float]:
    measure(-1)  # warm-up: page cache, image layers, Python imports
    samples = [measure(i) for i in range(runs)]
    return [statistics.median(column) for column in zip(*samples, strict=True)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="orchestrator-bench-") as scratch:
        tmp = Path(scratch)
        orch = Orchestrator(Settings(home=tmp / "home"))
        raw_first, raw_total = median_of(args.runs, lambda i: raw_docker(tmp / f"raw{i}"))
        ours_first, ours_total = median_of(args.runs, lambda i: in_process(orch, f"inproc{i}"))
        (cli_total,) = median_of(
            args.runs, lambda i: (whole_process(tmp / "home", tmp, f"cli{i}"),)
        )
    rows = [
        ("(a) create -> first log line", ours_first, raw_first, "within 15 %"),
        ("(b) create -> Completed (in-process)", ours_total, raw_total, "within 0.3 s"),
        ("(c) `orchestrator run` process", cli_total, raw_total, "within 2x"),
    ]
    print(f"median of {args.runs} runs after a warm-up; raw = docker run --rm, same image+mount")
    for label, ours, raw, target in rows:
        print(
            f"{label:40s} ours {ours:6.3f} s  raw {raw:6.3f} s  ratio {ours / raw:5.2f}x"
            f"  diff {ours - raw:+.3f} s  target {target}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
