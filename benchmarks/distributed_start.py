"""Time to start a distributed job: N hosts (1, 2, 4, 8), create -> the first log line of the
last host to print, against N raw `docker run --rm` of the same image started in parallel.

Ours also creates the job's network and each host's /opt/ml (config files, channels), places
the job and starts its containers in parallel; raw is only the N containers. Median of R runs
after a warm-up, measured in one run.

    .venv/bin/python benchmarks/distributed_start.py [--runs 5] [--hosts 1 2 4 8]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from orchestrator import Orchestrator, Settings

IMAGE = "orchestrator/testbox:latest"


def request(name: str, hosts: int) -> dict[str, object]:
    return {
        "TrainingJobName": name,
        "RoleArn": "arn:aws:iam::123456789012:role/SageMakerRole",
        "AlgorithmSpecification": {
            "TrainingImage": IMAGE,
            "TrainingInputMode": "File",
            "ContainerArguments": ["ok"],
        },
        "OutputDataConfig": {"S3OutputPath": "s3://bench/out"},
        "ResourceConfig": {
            "InstanceType": "ml.m5.large",
            "InstanceCount": hosts,
            "VolumeSizeInGB": 1,
        },
    }


def raw(hosts: int, scratch: Path) -> float:
    """Seconds until every one of N parallel `docker run --rm` has printed its first line."""
    firsts: list[float] = []
    lock = threading.Lock()

    def one(index: int) -> None:
        opt_ml = scratch / f"raw-{index}"
        for sub in ("model", "output/data", "input/config"):
            (opt_ml / sub).mkdir(parents=True, exist_ok=True)
        proc = subprocess.Popen(
            ["docker", "run", "--rm", "-v", f"{opt_ml}:/opt/ml", IMAGE, "ok"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        assert proc.stdout is not None
        proc.stdout.readline()
        with lock:
            firsts.append(time.perf_counter())
        proc.wait()

    started = time.perf_counter()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(hosts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return max(firsts) - started


def ours(orch: Orchestrator, name: str, hosts: int) -> float:
    """Seconds from CreateTrainingJob until every host has printed a line."""
    seen: dict[str, float] = {}
    everyone = threading.Event()

    def on_line(stamp: float, host: str, text: str) -> None:
        seen.setdefault(host, time.perf_counter())
        if len(seen) == hosts:
            everyone.set()

    started = time.perf_counter()
    orch.create_training_job(request(name, hosts), on_line=on_line)
    assert everyone.wait(120), f"{name}: only {sorted(seen)} printed"
    record = orch.engine.wait(name)
    assert record.secondary_status == "Completed", record
    return max(seen.values()) - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--hosts", type=int, nargs="+", default=[1, 2, 4, 8])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-dist-") as tmp:
        scratch = Path(tmp)
        orch = Orchestrator(Settings(home=scratch / "home", poll_seconds=0.05))
        print(f"median of {args.runs} runs after a warm-up; raw = N x docker run --rm in parallel")
        for hosts in args.hosts:
            ours(orch, f"warm-{hosts}", hosts)
            raw(hosts, scratch)
            mine = statistics.median(ours(orch, f"n{hosts}-{i}", hosts) for i in range(args.runs))
            theirs = statistics.median(raw(hosts, scratch) for _ in range(args.runs))
            print(
                f"N={hosts}  ours {mine:.3f} s  raw {theirs:.3f} s  ratio {mine / theirs:.2f}x"
                f"  diff {mine - theirs:+.3f} s"
            )
        orch.close()


if __name__ == "__main__":
    main()
