"""The dashboard's jobs list at 100,000 jobs: its JSON endpoint and the page in Chromium.

Both are measured against baselines in the same run:
- scale: the same requests on a store of 100 jobs (a list that "stays fast" costs about the
  same at 100,000);
- the API path: what a script does for the same rows without the dashboard, boto3
  ListTrainingJobs (25) and a DescribeTrainingJob for each (instance type, final metrics).
Stores are built as benchmarks/search_bench.py builds them (10 metrics, 10 hyperparameters,
3 tags per job); the Search index is brought up to date before timing (its one-off cost is
printed). Page load: a fresh browser context opens / until the 25 rows show, median of runs.

    .venv/bin/python -m benchmarks.dashboard_bench [--jobs 100000] [--repeat 20] [--keep DIR]
"""

from __future__ import annotations

import argparse
import http.client
import json
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import boto3

from benchmarks.search_bench import build, timed
from orchestrator import Orchestrator, Settings
from orchestrator.api.server import ApiServer

SEARCHES = {
    "search, selective": "Tags.project = p7 and Metrics.m0 < 0.1",
    "search, 17% match": "Metrics.m0 < 0.5 and Tags.team = vision",
}
LIST_REQUESTS = {
    "first page": {},
    "status filter": {"status": "Completed"},
    "name contains": {"name": "job-00009"},
    **{label: {"q": text} for label, text in SEARCHES.items()},
    "sort by metric": {"sort": "Metrics.m1", "order": "Ascending"},
    "page 2": {"next": "NEXT"},
}


@contextmanager
def serving(home: Path) -> Iterator[ApiServer]:
    orch = Orchestrator(Settings(home=home))
    server = ApiServer(orch, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
        orch.close()


def getter(server: ApiServer, path: str) -> Callable[[], bytes]:
    host, port = server.server_address[:2]
    connection = http.client.HTTPConnection(str(host), int(port))

    def get() -> bytes:
        connection.request("GET", path, headers={"Host": f"127.0.0.1:{port}"})
        response = connection.getresponse()
        body = response.read()
        assert response.status == 200, body[:300]
        return body

    return get


def api_rows(server: ApiServer) -> Callable[[], int]:
    """The rows through the SageMaker API: a list, then a describe per job."""
    client = boto3.client(
        "sagemaker",
        endpoint_url=server.url,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
    )

    def rows() -> int:
        listed = client.list_training_jobs(MaxResults=25)["TrainingJobSummaries"]
        for summary in listed:
            client.describe_training_job(TrainingJobName=summary["TrainingJobName"])
        return len(listed)

    return rows


def page_load(server: ApiServer, repeat: int) -> float | None:
    chromium = shutil.which("chromium")
    if chromium is None:
        print("no chromium: page load not measured (apt-get install chromium)")
        return None
    from playwright.sync_api import sync_playwright

    samples = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        for _ in range(repeat + 1):
            context = browser.new_context()
            page = context.new_page()
            started = time.perf_counter()
            page.goto(server.url + "/")
            page.locator("#jobs-table tr[data-name]").nth(24).wait_for()
            samples.append(time.perf_counter() - started)
            context.close()
        browser.close()
    return statistics.median(samples[1:])  # the first run warms the browser's own caches


def measure(home: Path, jobs: int, repeat: int) -> dict[str, Any]:
    started = time.perf_counter()
    build(home, jobs)
    print(f"{jobs:,} jobs ready in {time.perf_counter() - started:.0f} s")
    with serving(home) as server:
        refresh = time.perf_counter()
        getter(server, "/dashboard/api/jobs")()  # brings the Search index up to date
        print(f"  first request (index refresh): {time.perf_counter() - refresh:.2f} s")
        second = json.loads(getter(server, "/dashboard/api/jobs")())["next"]
        found = {}
        for label, params in LIST_REQUESTS.items():
            query = urlencode({k: second if v == "NEXT" else v for k, v in params.items()})
            found[label] = timed(getter(server, f"/dashboard/api/jobs?{query}"), repeat)
        found["api: list + 25 describes"] = timed(api_rows(server), repeat)
        found["page load"] = page_load(server, max(3, repeat // 4))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--keep", type=Path, help="build the big store here once and reuse it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="orchestrator-dashboard-bench-") as scratch:
        big = measure(args.keep or Path(scratch) / "big", args.jobs, args.repeat)
        small = measure(Path(scratch) / "small", args.small, args.repeat)
    print(f"\n{'':28} {args.jobs:>9,} jobs {args.small:>7,} jobs   ratio")
    for label, timing in big.items():
        if timing is None or small[label] is None:
            continue
        p50 = timing[0] if isinstance(timing, tuple) else timing
        base = small[label][0] if isinstance(small[label], tuple) else small[label]
        print(f"{label:28} {p50 * 1000:>9.1f} ms {base * 1000:>7.1f} ms  {p50 / base:5.2f}x")
    dashboard, api = big["first page"][0], big["api: list + 25 describes"][0]
    print(f"\nfirst page vs the API path at {args.jobs:,} jobs: {api / dashboard:.1f}x faster")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
