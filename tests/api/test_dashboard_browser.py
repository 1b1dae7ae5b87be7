"""The dashboard in a real headless Chromium (Debian's `chromium`, driven by Playwright), against
`orchestrator serve` running real containers: jobs made through boto3 appear in the list, a
running job shows its timeline, a chart with points and log lines as they come, Stop stops it,
and Compare overlays two jobs. Each page's screenshot is saved (ORCHESTRATOR_SCREENSHOTS, or
build/screenshots)."""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from orchestrator.api.server import ApiServer
from tests.conftest import _unavailable
from tests.integration.conftest import job

pytestmark = [pytest.mark.docker, pytest.mark.browser]

SCREENSHOTS = Path(
    os.environ.get("ORCHESTRATOR_SCREENSHOTS")
    or Path(__file__).resolve().parents[2] / "build" / "screenshots"
)
METRICS = [{"Name": "loss", "Regex": "loss=([0-9.]+)"}, {"Name": "step", "Regex": "step=([0-9]+)"}]
WAIT_MS = 90_000  # generous: a container start on a loaded CI runner


def chromium_path() -> str:
    found = os.environ.get("ORCHESTRATOR_CHROMIUM") or shutil.which("chromium")
    if not found:
        _unavailable(
            "Debian's chromium is not installed (make test installs it: apt-get install chromium)"
        )
    return str(found)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, server: ApiServer) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, base_url=server.url)
    opened = context.new_page()
    problems: list[str] = []
    opened.on("pageerror", lambda error: problems.append(str(error)))
    opened.set_default_timeout(WAIT_MS)
    yield opened
    context.close()
    assert not problems, problems  # an uncaught script error fails the test


def shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def metrics_job(
    name: str, count: int, seconds: float, scale: float = 1.0, **changes: Any
) -> dict[str, Any]:
    request = job(name, ["metrics", str(count), str(seconds), str(scale)], **changes)
    request["AlgorithmSpecification"]["MetricDefinitions"] = METRICS
    return request


def until_evaluates(locator: Any, script: str, expected: object) -> None:
    """Until `script` on the element gives `expected` (each try is a round trip to the page)."""
    deadline = time.monotonic() + WAIT_MS / 1000
    while (found := locator.evaluate(script)) != expected:
        assert time.monotonic() < deadline, f"{script} stayed {found!r}"


def line_count(page: Any) -> int:
    return int(page.locator("#log-lines .line").count())


def expect(locator: Any) -> Any:
    """Playwright's retrying assertions (they run in its own script world, which the page's
    Content-Security-Policy, no eval, does not govern; wait_for_function would)."""
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def test_the_list_shows_jobs_created_through_the_api(sm: Any, page: Any, orch: Any) -> None:
    for name, lr in (("dash-list-a", "0.1"), ("dash-list-b", "0.01")):
        sm.create_training_job(**metrics_job(name, 3, 0.01, HyperParameters={"lr": lr}))
    for name in ("dash-list-a", "dash-list-b"):
        orch.wait(name, timeout=120)
    page.goto("/")
    page.wait_for_selector('#jobs-table tr[data-name="dash-list-b"] >> text=Completed')
    assert page.locator('#jobs-table tr[data-name="dash-list-a"]').count() == 1
    assert "loss=" in page.locator('tr[data-name="dash-list-a"] .metrics-cell').inner_text()
    shot(page, "jobs")
    page.fill("#search-box", "HyperParameters.lr = 0.01")
    page.press("#search-box", "Enter")
    expect(page.locator("#jobs-table tr[data-name]")).to_have_count(1, timeout=WAIT_MS)
    assert page.locator('#jobs-table tr[data-name="dash-list-b"]').count() == 1


def test_a_running_job_shows_its_timeline_chart_and_live_logs_and_stops(
    sm: Any, page: Any, orch: Any
) -> None:
    hyperparameters = {"learning_rate": "0.05", "epochs": "30", "batch_size": "64"}
    sm.create_training_job(
        **metrics_job("dash-running", 3000, 0.1, HyperParameters=hyperparameters)
    )
    page.goto("/#/jobs/training/dash-running")
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("Training image download completed", timeout=WAIT_MS)
    assert [s for s in ("Starting", "Downloading", "Training") if s in timeline.inner_text()] == [
        "Starting",
        "Downloading",
        "Training",
    ]
    # a chart that draws points: Plotly's SVG line for the loss series has a path
    line = page.locator('.chart[data-metric="loss"] .scatterlayer .trace path.js-line')
    expect(line).to_have_attribute("d", re.compile(r"^M[^Z]{20,}"), timeout=WAIT_MS)
    page.wait_for_selector("#log-lines .line")
    seen = line_count(page)
    page.locator("#log-lines .line").nth(seen + 5).wait_for()  # lines keep arriving
    assert "loss=" in page.locator("#log-lines").inner_text()
    shot(page, "job-running")
    page.click("#stop-button")
    page.wait_for_selector("#job-status >> text=Stopped")
    assert (
        sm.describe_training_job(TrainingJobName="dash-running")["TrainingJobStatus"] == "Stopped"
    )
    assert page.locator("#stop-button").is_disabled()
    shot(page, "job-stopped")


def test_compare_overlays_two_jobs(sm: Any, page: Any, orch: Any) -> None:
    for name, count, lr in (("dash-cmp-a", 8, "0.1"), ("dash-cmp-b", 16, "0.01")):
        request = metrics_job(name, count, 0.01, float(lr) * 10, HyperParameters={"lr": lr})
        sm.create_training_job(**request)
    for name in ("dash-cmp-a", "dash-cmp-b"):
        orch.wait(name, timeout=120)
    page.goto("/")
    page.wait_for_selector('#jobs-table tr[data-name="dash-cmp-a"]')
    for name in ("dash-cmp-a", "dash-cmp-b"):
        page.check(f'#jobs-table tr[data-name="{name}"] input[type=checkbox]')
    page.click("#compare-button")
    traces = page.locator('#compare-charts .chart[data-metric="loss"] .scatterlayer .trace')
    expect(traces).to_have_count(2, timeout=WAIT_MS)
    assert page.locator('#compare-table tr.differs[data-row="lr"]').count() == 1
    assert page.locator('#compare-table tr.differs[data-row="InstanceType"]').count() == 0
    chart = page.locator('#compare-charts .chart[data-metric="loss"]')
    assert chart.evaluate("node => node.layout.yaxis.type") == "linear"
    page.check("#log-scale")
    until_evaluates(chart, "node => node.layout.yaxis.type", "log")
    shot(page, "compare")


def test_capacity_shows_the_running_job(sm: Any, page: Any, orch: Any) -> None:
    sm.create_training_job(**job("dash-capacity", ["sleep", "600"]))
    page.goto("/#/capacity")
    page.wait_for_selector("#running >> text=dash-capacity")
    shot(page, "capacity")
    sm.stop_training_job(TrainingJobName="dash-capacity")
    orch.wait("dash-capacity", timeout=120)


def test_release_ends_a_warm_pool(sm: Any, page: Any, orch: Any) -> None:
    resources = {
        "InstanceType": "ml.m5.large",
        "InstanceCount": 1,
        "VolumeSizeInGB": 1,
        "KeepAlivePeriodInSeconds": 600,
    }
    sm.create_training_job(**job("dash-pool", ["train"], ResourceConfig=resources))
    orch.wait("dash-pool", timeout=120)
    page.goto("/#/jobs/training/dash-pool")
    resources_held = page.locator("#artifacts")
    expect(resources_held).to_contain_text("Available", timeout=WAIT_MS)
    page.click("#release-button")
    expect(resources_held).to_contain_text("Terminated", timeout=WAIT_MS)
    described = sm.describe_training_job(TrainingJobName="dash-pool")
    assert described["WarmPoolStatus"]["Status"] == "Terminated"
    assert page.locator("#release-button").is_disabled()
