"""The dashboard's endpoints on the paths a review found: processing jobs, progress bars in
logs, torn lines, odd numbers, Basic-auth actions, a Pending job on the capacity page."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path

import pytest

from orchestrator.api.logs import LogsApi
from orchestrator.api.sigv4 import Credentials
from orchestrator.dashboard.routes import Dashboard
from orchestrator.dashboard.security import Gate
from orchestrator.engine.context import EngineContext
from orchestrator.engine.engine import Engine
from orchestrator.lifecycle import Secondary
from orchestrator.local import Orchestrator
from orchestrator.operations import processing_jobs
from orchestrator.operations import training_jobs as service
from tests.unit.harness import Harness, request, until
from tests.unit.test_dashboard_api import read
from tests.unit.test_gpu_jobs import SIMULATE_2, _gpu_job, _running, _visible
from tests.unit.test_gpu_jobs import _harness as _gpu_harness
from tests.unit.test_processing_jobs import proc


@pytest.fixture
def h(tmp_path: Path) -> Harness:
    harness = Harness(tmp_path, memory_gib=64)
    harness.program("fake/proc:latest", duration=5, lines=["reading", "done"])
    engine = Engine(harness.ctx)
    spec = processing_jobs.create(
        harness.store, harness.settings, harness.clock, engine.owner, proc()
    )
    engine.submit(spec)
    engine.join(timeout=30)
    return harness


def test_processing_jobs_list_open_and_log(orch: Orchestrator) -> None:
    dash = Dashboard(orch, Gate("auto", None))
    page = read(dash, "/dashboard/api/jobs?kind=processing")
    (row,) = page["rows"]
    assert row["name"] == "proc-1" and row["status"] == "Completed"
    assert row["instanceType"] == "ml.m5.large" and row["kind"] == "processing"
    job = read(dash, "/dashboard/api/processing-jobs/proc-1")
    assert job["describe"]["ProcessingJobStatus"] == "Completed" and job["ended"]
    assert {"what": "Output report", "uri": "s3://bucket/reports"} in job["artifacts"]
    assert [t["status"] for t in job["timeline"]][-1] == "Completed"
    logs = read(dash, "/dashboard/api/processing-jobs/proc-1/logs")
    assert [text for _, text in logs["lines"]] == ["reading", "done"]
    # a processing job is not a training job, under either of its names
    for name in ("proc-1", "proc-1.processing"):
        assert read(dash, f"/dashboard/api/training-jobs/{name}", 400)["error"]
        assert read(dash, f"/dashboard/api/training-jobs/{name}/logs", 400)["error"]
    assert "Search" in read(dash, "/dashboard/api/jobs?kind=processing&q=x", 400)["message"]
    assert (
        "sort for processing"
        in read(dash, "/dashboard/api/jobs?kind=processing&sort=X", 400)["message"]
    )


def _log(h: Harness, name: str, text: bytes) -> Path:
    path = EngineContext.log_file(h.settings, name, "algo-1")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text)
    return path


def test_progress_bars_and_torn_lines_in_a_log(h: Harness, orch: Orchestrator) -> None:
    h.store.insert("bars", "arn:bars", request(TrainingJobName="bars"), h.clock.now())
    _log(h, "bars", b"1.5\tepoch 1  10%\r 50%\r100%\n2.5\tdone\n3.5\ttorn, its writer di")
    dash = Dashboard(orch, Gate("auto", None))
    logs = read(dash, "/dashboard/api/training-jobs/bars/logs")
    assert logs["lines"] == [[1.5, "epoch 1  10%\r 50%\r100%"], [2.5, "done"]]
    again = read(dash, f"/dashboard/api/training-jobs/bars/logs?offset={logs['offset']}")
    assert again["lines"] == [] and not again["more"]  # a torn line ends the asking
    middle = read(dash, "/dashboard/api/training-jobs/bars/logs?offset=3")
    assert middle["lines"][0] == [0.0, "\tepoch 1  10%\r 50%\r100%"]  # no stamp: all text
    huge = read(dash, "/dashboard/api/training-jobs/bars/logs?offset=99999999999999999999999")
    assert huge["lines"] == []
    assert read(dash, "/dashboard/api/training-jobs/bars/logs?offset=%C2%B2", 400)["message"]
    assert read(dash, "/dashboard/api/jobs?limit=%C2%B2", 400)["message"].startswith("limit")
    # the CloudWatch Logs API reads the same file the same way
    events = LogsApi(h.store, h.settings).get_log_events(
        {
            "logGroupName": "/aws/sagemaker/TrainingJobs",
            "logStreamName": "bars/algo-1-" + str(int(h.clock.now())),
            "startFromHead": True,
        }
    )
    assert [e["message"] for e in events["events"]] == ["epoch 1  10%\r 50%\r100%", "done"]


def test_a_log_tail_that_starts_exactly_at_a_line_keeps_it(h: Harness, orch: Orchestrator) -> None:
    from orchestrator.dashboard.jobs import LOG_PAGE_BYTES

    h.store.insert("tail", "arn:tail", request(TrainingJobName="tail"), h.clock.now())
    last = b"9.0\t" + b"x" * (LOG_PAGE_BYTES - 5) + b"\n"  # exactly LOG_PAGE_BYTES long
    _log(h, "tail", b"1.0\tfirst\n" + last)
    logs = read(Dashboard(orch, Gate("auto", None)), "/dashboard/api/training-jobs/tail/logs")
    assert len(logs["lines"]) == 1 and logs["lines"][0][0] == 9.0


def test_actions_in_basic_auth_mode_need_the_credentials_and_the_token(
    h: Harness, orch: Orchestrator
) -> None:
    keys = Credentials("AKID", "secret")
    dash = Dashboard(orch, Gate("on", keys))
    login = "Basic " + base64.b64encode(b"AKID:secret").decode()
    remote = {"host": "gpu-box:8777", "authorization": login}
    token = json.loads(dash.handle("GET", "/dashboard/api/session", "10.0.0.9", remote).body)[
        "token"
    ]
    h.store.insert("live", "arn:live", request(TrainingJobName="live"), h.clock.now())
    h.store.move("live", Secondary.STARTING, Secondary.TRAINING, h.clock.now())
    h.store.claim("live", "another-process", h.clock.now(), 3600)
    action = {**remote, "origin": "http://gpu-box:8777", "x-orchestrator-token": token}
    without_login = {k: v for k, v in action.items() if k != "authorization"}
    refused = dash.handle(
        "POST", "/dashboard/api/training-jobs/live/stop", "10.0.0.9", without_login
    )
    assert refused.status == 401
    done = dash.handle("POST", "/dashboard/api/training-jobs/live/stop", "10.0.0.9", action)
    assert done.status == 200 and h.store.require("live").status == "Stopping"


def test_capacity_names_processing_jobs_and_says_why_a_job_waits(
    h: Harness, orch: Orchestrator
) -> None:
    capacity = orch.engine.ctx.capacity()
    waiting = copy.deepcopy(request(TrainingJobName="big"))
    waiting["ResourceConfig"]["InstanceType"] = "ml.p4d.24xlarge"
    h.store.insert("big", "arn:big", waiting, h.clock.now())
    h.store.move("big", Secondary.STARTING, Secondary.PENDING, h.clock.now(), message="needs more")
    h.store.claim("big", "another-process", h.clock.now(), 3600)
    from orchestrator.capacity import Demand

    assert (
        h.ctx.ledger.request("big", Demand(capacity.cpus * 2, 1), capacity, h.clock.now()) is None
    )
    found = read(Dashboard(orch, Gate("auto", None)), "/dashboard/api/capacity")
    assert [(s["job"], s["kind"]) for s in found["waiting"]] == [("big", "training")]
    assert found["pending"] == [{"job": "big", "kind": "training", "message": "needs more"}]


def test_an_empty_json_search_is_searched_as_written(orch: Orchestrator) -> None:
    error = read(Dashboard(orch, Gate("auto", None)), "/dashboard/api/jobs?q=%7B%7D", 400)
    assert "Filters" not in error["message"] or "SearchExpression" in error["message"]


def test_gpus_held_show_on_the_job_and_the_capacity_page(tmp_path: Path) -> None:
    h = _gpu_harness(tmp_path, gpus=SIMULATE_2)
    engine = Engine(h.ctx)
    for name in ("a", "b", "c"):
        h.create(engine, _gpu_job(name))
        if name != "c":
            until(lambda name=name: _running(h, name))
    until(lambda: h.store.require("c").secondary_status == "Pending")
    orch = Orchestrator(h.settings, runtime=h.runtime, objects=h.objects, clock=h.clock)
    try:
        dash = Dashboard(orch, Gate("auto", None))
        job = read(dash, "/dashboard/api/training-jobs/a")
        assert job["gpus"] == [_visible(h, "a")] and job["canStop"]
        found = read(dash, "/dashboard/api/capacity")
        holders = {gpu["uuid"]: gpu["heldBy"] for gpu in found["gpus"]}
        assert holders == {_visible(h, "a"): "a", _visible(h, "b"): "b"}
        assert [share["job"] for share in found["waiting"]] == ["c"]
        assert "1 GPU" in found["pending"][0]["message"]
    finally:
        for name in ("a", "b", "c"):
            service.request_stop(h.store, name, h.clock)
        engine.join(timeout=30)
        orch.close()
