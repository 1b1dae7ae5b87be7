"""CheckpointSync: close-to-upload latency, and the sync's CPU cost while a job writes files.

Measured in one run, each part with its own CheckpointSync (settle 0.1 s, scan 5 s, as the
engine uses it) on a temporary LocalPath and a LocalObjectStore under a temporary root:
  1. small files (4 KiB), written one at a time: time from close() returning to the object
     being present in the store (the store path is polled every 1 ms; uploads appear atomically
     through os.replace); p50 and p99 (nearest rank). The limit is the settle delay itself.
  2. 100 MiB files, same measure, against the limit: the median shutil.copyfile of the same
     file on the same disk (the sync must copy it once), timed right after each upload so under
     the same dirty pages, plus the settle delay.
  3. CPU of this process (the sync's threads; the writer is a child process and not counted)
     from the writer's first file until all 1,000 files (4 KiB) are in the store: paced at 1,000
     files in 5 s, as a training job might, and as fast as the writer can; minus an idle sync
     watching an empty folder for as long.
  4. the limit for CPU: the same 1,000 files uploaded by plain upload_file calls in a loop (the
     copies the sync cannot avoid), in this process.
Targets (checkpoint issue: "say what the limit is and how close the sync comes"): small p99
< 1 s; 100 MiB p50 within 1.5x of (median copy + settle) and p99 within 1.5x of (p99 copy +
settle), the disk's own tail being the limit of ours; CPU per file within 2x of the bare upload.

    .venv/bin/python benchmarks/checkpoint_sync.py [--small 200] [--big 10] [--files 1000]
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from orchestrator.engine.checkpoints import CheckpointSync
from orchestrator.storage.local import LocalObjectStore

URI = "s3://bench/checkpoints/job"
TIMEOUT = 30.0  # seconds to wait for one object: beyond six reconciling scans
WRITER = """
import os, sys, time
folder, count, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
data = os.urandom(4096)
print("go", flush=True)
start = time.perf_counter()
for i in range(count):
    delay = start + i * seconds / count - time.perf_counter()
    if delay > 0:
        time.sleep(delay)
    with open(os.path.join(folder, f"step-{i:05d}.bin"), "wb") as f:
        f.write(data)
"""


@contextmanager
def running_sync(scratch: Path, name: str) -> Iterator[tuple[CheckpointSync, Path]]:
    """A started sync of scratch/name/local; yields it and the folder its objects land in."""
    store = LocalObjectStore(scratch / name / "store")
    sync = CheckpointSync(scratch / name / "local", URI, store).start()
    try:
        yield sync, scratch / name / "store" / "bench" / "checkpoints" / "job"
    finally:
        sync.finish()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(math.ceil(p / 100 * len(ordered)) - 1, 0)]


def wait_for(path: Path, timeout: float = TIMEOUT) -> float:
    """perf_counter when `path` exists, polled every 1 ms; inf after `timeout`."""
    deadline = time.perf_counter() + timeout
    while not os.path.exists(path):
        if time.perf_counter() > deadline:
            return math.inf
        time.sleep(0.001)
    return time.perf_counter()


def latencies(
    scratch: Path, name: str, data: bytes, count: int
) -> tuple[list[float], list[float], str, int]:
    """Seconds from close to presence for `count` files written one after another; after each,
    seconds for shutil.copyfile of the same file on the same disk, under the same dirty pages
    (the copy is deleted at once); the observer's class (NoneType if the sync polls); uploads."""
    with running_sync(scratch, name) as (sync, objects):
        observer = type(sync._observer).__name__
        samples, copies = [], []
        for i in range(count):
            source = sync.local_dir / f"ckpt-{i:04d}.bin"
            with open(source, "wb") as f:
                f.write(data)
            closed = time.perf_counter()
            samples.append(wait_for(objects / source.name) - closed)
            started = time.perf_counter()
            shutil.copyfile(source, scratch / "copy.bin")
            copies.append(time.perf_counter() - started)
            (scratch / "copy.bin").unlink()
    shutil.rmtree(scratch / name)
    return samples, copies, observer, sync.uploads  # read after finish(): none in flight


def cpu_window(scratch: Path, name: str, files: int, seconds: float) -> tuple[float, float, int]:
    """(CPU seconds of this process, wall seconds) from the writer's start until every file is
    in the store, and the uploads made. files=0: an idle sync watched for `seconds`."""
    with running_sync(scratch, name) as (sync, objects):
        time.sleep(0.2)  # the observer's threads are up
        writer = None
        if files:
            writer = subprocess.Popen(
                [sys.executable, "-c", WRITER, str(sync.local_dir), str(files), str(seconds)],
                stdout=subprocess.PIPE,
                text=True,
            )
            assert writer.stdout is not None
            writer.stdout.readline()  # "go": the interpreter is up, the first file comes next
        cpu, wall = time.process_time(), time.perf_counter()
        deadline = wall + (seconds if not files else seconds + 60.0)
        while (sync.uploads < files or not files) and time.perf_counter() < deadline:
            time.sleep(0.005)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        if writer is not None:
            writer.wait()
        present = sum(1 for p in objects.iterdir() if p.is_file()) if objects.is_dir() else 0
        assert present == files, f"{present} of {files} objects present"
        return cpu, wall, sync.uploads


def bare_uploads(scratch: Path, files: int) -> float:
    """CPU seconds of uploading `files` 4 KiB files with upload_file alone: the floor."""
    source = scratch / "bare-src"
    source.mkdir()
    for i in range(files):
        (source / f"f{i}.bin").write_bytes(os.urandom(4096))
    store = LocalObjectStore(scratch / "bare-store")
    started = time.process_time()
    for i in range(files):
        store.upload_file(source / f"f{i}.bin", f"{URI}/f{i}.bin")
    return time.process_time() - started


def summary(label: str, samples: list[float]) -> str:
    slow = sum(1 for s in samples if s >= 1.0)
    return (
        f"{label:28s} p50 {percentile(samples, 50) * 1e3:8.1f} ms  p99"
        f" {percentile(samples, 99) * 1e3:8.1f} ms  max {max(samples) * 1e3:8.1f} ms"
        f"  >=1 s: {slow}/{len(samples)}"
    )


def verdict(met: bool) -> str:
    return "MET" if met else "NOT MET"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=200, help="4 KiB files for the latency")
    parser.add_argument("--big", type=int, default=10, help="100 MiB files for the latency")
    parser.add_argument("--big-mib", type=int, default=100)
    parser.add_argument("--files", type=int, default=1000, help="files the writer writes")
    parser.add_argument("--pace", type=float, default=5.0, help="seconds for the paced writer")
    args = parser.parse_args()
    settle = CheckpointSync(Path("."), URI, LocalObjectStore(Path("."))).settle_seconds
    big_data = os.urandom(args.big_mib * 1024 * 1024)
    with tempfile.TemporaryDirectory(prefix="orchestrator-bench-") as name:
        scratch = Path(name)
        latencies(scratch, "warmup", b"w" * 4096, 5)
        small, _, observer, small_uploads = latencies(
            scratch, "small", os.urandom(4096), args.small
        )
        big, copies, _, big_uploads = latencies(scratch, "big", big_data, args.big)
        idle_cpu, idle_wall, _ = cpu_window(scratch, "idle", 0, args.pace)
        paced_cpu, paced_wall, paced_uploads = cpu_window(scratch, "paced", args.files, args.pace)
        burst_cpu, burst_wall, burst_uploads = cpu_window(scratch, "burst", args.files, 0.0)
        bare_cpu = bare_uploads(scratch, args.files)
    copy = statistics.median(copies)
    limit = copy + settle
    idle_rate = idle_cpu / idle_wall
    print(f"observer: {observer}; settle {settle:.2f} s, scan 5 s; nearest-rank percentiles")
    print(summary(f"4 KiB, {args.small} files", small) + f"  uploads {small_uploads}")
    print(summary(f"{args.big_mib} MiB, {args.big} files", big) + f"  uploads {big_uploads}")
    print(
        f"{'limit for ' + str(args.big_mib) + ' MiB':28s} copyfile median {copy * 1e3:8.1f} ms"
        f" (p99 {percentile(copies, 99) * 1e3:.1f}) + settle"
        f" {settle * 1e3:.0f} ms = {limit * 1e3:.1f} ms;"
        f"  sync p50 {percentile(big, 50) / limit:.2f}x  p99 {percentile(big, 99) / limit:.2f}x"
    )
    print(f"idle sync, {idle_wall:.1f} s: {idle_cpu:.3f} CPU s = {idle_rate * 100:.2f} % of a core")
    print(
        f"{'writer':28s} {'wall s':>7s} {'CPU s':>7s} {'net CPU s':>9s} {'% core':>7s}"
        f" {'ms/file':>8s} {'uploads':>8s}"
    )
    rates = {}
    for label, cpu, wall, uploads in (
        (f"paced, {args.files} in {args.pace:g} s", paced_cpu, paced_wall, paced_uploads),
        (f"burst, {args.files} at once", burst_cpu, burst_wall, burst_uploads),
    ):
        net = cpu - idle_rate * wall
        rates[label] = net / wall
        print(
            f"{label:28s} {wall:7.2f} {cpu:7.3f} {net:9.3f} {net / wall * 100:7.2f}"
            f" {net / args.files * 1e3:8.3f} {uploads:8d}"
        )
    paced_rate = next(iter(rates.values()))
    paced_per_file = paced_rate * paced_wall / args.files
    bare_per_file = bare_cpu / args.files
    print(f"{'bare upload_file loop':28s} CPU {bare_per_file * 1e3:.3f} ms/file (the floor)")
    small_p99, big_p50, big_p99 = percentile(small, 99), percentile(big, 50), percentile(big, 99)
    tail_limit = percentile(copies, 99) + settle
    print(f"target small p99 < 1 s: {small_p99:.3f} s -> {verdict(small_p99 < 1.0)}")
    print(
        f"target {args.big_mib} MiB p50 <= 1.5x (median copy + settle): {big_p50 / limit:.2f}x"
        f" -> {verdict(big_p50 <= 1.5 * limit)}; p99 <= 1.5x (p99 copy + settle):"
        f" {big_p99 / tail_limit:.2f}x -> {verdict(big_p99 <= 1.5 * tail_limit)}"
    )
    print(
        f"target CPU per file <= 2x the bare upload: {paced_per_file * 1e3:.3f} ms vs"
        f" {bare_per_file * 1e3:.3f} ms ({paced_per_file / bare_per_file:.2f}x)"
        f" -> {verdict(paced_per_file <= 2 * bare_per_file)}; paced: {paced_rate * 100:.1f} % of"
        " a core"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
