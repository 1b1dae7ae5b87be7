"""S3 store throughput: upload and download of many small and a few large objects through the
orchestrator's S3 object store, against `aws s3 sync` on the same S3-compatible server (moto,
on a loopback port), in the same run.

    .venv/bin/python benchmarks/s3_throughput.py [--megabytes 1024]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

SMALL_BYTES = 100 * 1024
LARGE_COUNT = 4


def _make(folder: Path, count: int, size: int) -> None:
    folder.mkdir(parents=True)
    block = os.urandom(min(size, 1024 * 1024))
    for i in range(count):
        with (folder / f"part-{i:05d}.bin").open("wb") as handle:
            written = 0
            while written < size:
                handle.write(block[: size - written])
                written += min(len(block), size - written)


def _aws(*args: str) -> None:
    aws = Path(sys.executable).with_name("aws")
    endpoint = os.environ["AWS_ENDPOINT_URL_S3"]
    subprocess.run(
        [str(aws), "s3", *args, "--endpoint-url", endpoint, "--only-show-errors"], check=True
    )


def _timed(action: object) -> float:
    started = time.perf_counter()
    action()  # type: ignore[operator]
    return time.perf_counter() - started


def _measure(store: object, scratch: Path, label: str, count: int, size: int) -> None:
    source = scratch / "source" / label.replace(" ", "")
    _make(source, count, size)
    megabytes = count * size / 2**20
    ours, theirs = f"s3://bench/ours/{count}", f"s3://bench/aws/{count}"
    down_ours, down_aws = scratch / "down-ours", scratch / "down-aws"
    ours_up = _timed(lambda: store.upload_tree(source, ours))  # type: ignore[attr-defined]
    aws_up = _timed(lambda: _aws("sync", str(source), theirs))
    ours_down = _timed(
        lambda: store.download_prefix(f"{ours}/", down_ours)  # type: ignore[attr-defined]
    )
    aws_down = _timed(lambda: _aws("sync", theirs, str(down_aws)))
    shutil.rmtree(down_ours)
    shutil.rmtree(down_aws)
    print(
        f"{label:>22}  upload ours {megabytes / ours_up:7.1f}  aws s3 sync"
        f" {megabytes / aws_up:7.1f} ({aws_up / ours_up:.2f}x)   download ours"
        f" {megabytes / ours_down:7.1f}  aws s3 sync {megabytes / aws_down:7.1f}"
        f" ({aws_down / ours_down:.2f}x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--megabytes", type=int, default=1024)
    args = parser.parse_args()
    total = args.megabytes * 1024 * 1024
    from orchestrator.storage.local import LocalObjectStore
    from orchestrator.storage.s3 import S3ObjectStore

    with moto_server() as endpoint, tempfile.TemporaryDirectory(prefix="bench-s3-") as tmp:
        scratch = Path(tmp)
        store = S3ObjectStore(LocalObjectStore(scratch / "unused"))
        store.client.create_bucket(Bucket="bench")
        small, large = total // SMALL_BYTES, total // LARGE_COUNT
        print(f"{args.megabytes} MiB each way; moto at {endpoint}; MiB/s, higher is better")
        _measure(store, scratch, f"{small} x {SMALL_BYTES // 1024} KiB", small, SMALL_BYTES)
        _measure(store, scratch, f"{LARGE_COUNT} x {large // 2**20} MiB", LARGE_COUNT, large)


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """An S3 server (moto) in a process of its own, as any S3 server is (in this one it would
    share the GIL with the client under test, and not with `aws s3 sync`), and boto3 pointed
    at it; its endpoint."""
    host, port = "127.0.0.1", _free_port()
    moto = Path(sys.executable).with_name("moto_server")
    server = subprocess.Popen(
        [str(moto), "-H", host, "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(host, port)
        endpoint = f"http://{host}:{port}"
        os.environ.update(
            AWS_ENDPOINT_URL_S3=endpoint,
            AWS_ACCESS_KEY_ID="bench",
            AWS_SECRET_ACCESS_KEY="bench",
            AWS_DEFAULT_REGION="us-east-1",
        )
        yield endpoint
    finally:
        server.terminate()
        server.wait(30)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(host: str, port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
            return
        time.sleep(0.1)
    raise SystemExit("moto_server did not start")


if __name__ == "__main__":
    main()
