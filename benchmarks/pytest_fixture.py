"""What the pytest plugin's fixtures cost: N tests that each run a trivial training job through
`run_training_job` (a private store per test, clean-up after each), against the same N jobs run
on one bare `Orchestrator()` inside a single test. Both are whole pytest processes, in one run;
the difference per test is the plugin's overhead.

    .venv/bin/python benchmarks/pytest_fixture.py [--jobs 10]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REQUEST = """
def request(name):
    return {
        "TrainingJobName": name,
        "RoleArn": "arn:aws:iam::123456789012:role/SageMakerRole",
        "AlgorithmSpecification": {"TrainingImage": "orchestrator/testbox:latest",
                                   "TrainingInputMode": "File", "ContainerArguments": ["ok"]},
        "OutputDataConfig": {"S3OutputPath": "s3://bench/out"},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 1},
    }
"""

WITH_FIXTURES = (
    REQUEST
    + """
import pytest

@pytest.mark.parametrize("n", range(JOBS))
def test_job(n, run_training_job):
    run_training_job(request(f"job-{n}")).assert_completed()
"""
)

BARE = (
    REQUEST
    + """
from orchestrator import Orchestrator, Settings

def test_jobs(tmp_path):
    orch = Orchestrator(Settings(home=tmp_path / "home"))
    for n in range(JOBS):
        orch.create_training_job(request(f"job-{n}"))
        assert orch.wait(f"job-{n}")["TrainingJobStatus"] == "Completed"
    orch.close()
"""
)


def timed(suite: str, folder: Path) -> float:
    path = folder / "test_suite.py"
    path.write_text(suite)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(path)],
        cwd=folder,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-pytest-") as scratch:
        folder = Path(scratch)
        timed(BARE.replace("JOBS", "1"), folder)  # warm-up: imports, page cache
        bare = timed(BARE.replace("JOBS", str(args.jobs)), folder)
        fixtures = timed(WITH_FIXTURES.replace("JOBS", str(args.jobs)), folder)
    print(f"{args.jobs} trivial jobs, whole pytest processes")
    print(f"  bare Orchestrator() in one test   {bare:6.2f} s")
    print(f"  run_training_job, a test per job  {fixtures:6.2f} s  ({fixtures / bare:.2f}x)")
    print(f"  the plugin's cost per test        {(fixtures - bare) / args.jobs * 1000:6.0f} ms")


if __name__ == "__main__":
    main()
