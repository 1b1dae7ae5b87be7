"""The dashboard's JSON endpoints and files, over a real store with jobs a fake runtime ran."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from orchestrator.capacity import Capacity, Demand, NodeCapacity
from orchestrator.dashboard.capacity_view import summary
from orchestrator.dashboard.jobs import timeline
from orchestrator.dashboard.routes import Dashboard, Response
from orchestrator.dashboard.security import Gate
from orchestrator.engine.context import EngineContext
from orchestrator.instances import GIB
from orchestrator.lifecycle import Secondary
from orchestrator.local import Orchestrator
from orchestrator.store.capacity import Allocation
from orchestrator.store.pools import WarmPool
from tests.unit.harness import Harness, request

ORIGIN = "http://127.0.0.1:9000"
METRICS = [{"Name": "loss", "Regex": "loss=([0-9.]+)"}]


def _job(name: str, lr: str, **changes: Any) -> dict[str, Any]:
    algorithm = {"TrainingImage": "fake/ok:latest", "TrainingInputMode": "File"}
    return request(
        TrainingJobName=name,
        HyperParameters={"lr": lr, "epochs": "3"},
        AlgorithmSpecification={**algorithm, "MetricDefinitions": METRICS},
        **changes,
    )


@pytest.fixture
def h(tmp_path: Path) -> Harness:
    harness = Harness(tmp_path, memory_gib=64)
    harness.program("fake/ok:latest", duration=5, lines=["epoch 1 loss=0.5", "epoch 2 loss=0.25"])
    harness.run(_job("first", "0.1"))
    harness.run(_job("second", "0.01"))
    pooled = {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10}
    harness.run(_job("pooled", "0.1", ResourceConfig={**pooled, "KeepAlivePeriodInSeconds": 600}))
    return harness


@pytest.fixture
def dash(orch: Orchestrator) -> Dashboard:
    return Dashboard(orch, Gate("auto", None))


def get(dash: Dashboard, target: str, **headers: str) -> Response:
    return dash.handle("GET", target, "127.0.0.1", {"host": "127.0.0.1:9000", **headers})


def read(dash: Dashboard, target: str, status: int = 200) -> Any:
    response = get(dash, target)
    assert response.status == status, response.body
    assert response.content_type == "application/json"
    return json.loads(response.body)


def post(dash: Dashboard, target: str, token: str | None = None) -> Response:
    headers = {"host": "127.0.0.1:9000", "origin": ORIGIN}
    if token is not None:
        headers["x-orchestrator-token"] = token
    return dash.handle("POST", target, "127.0.0.1", headers)


def test_the_list_shows_status_instance_metrics_and_warm_pool(dash: Dashboard) -> None:
    page = read(dash, "/dashboard/api/jobs")
    assert [r["name"] for r in page["rows"]] == ["pooled", "second", "first"]
    assert page["total"] == 3 and page["next"] is None
    first = page["rows"][2]
    assert first["status"] == "Completed" and first["secondaryStatus"] == "Completed"
    assert first["instanceType"] == "ml.m5.large" and first["instanceCount"] == 1
    assert first["finalMetrics"] == {"loss": 0.25}
    assert first["duration"] is not None and first["duration"] >= 0
    assert page["rows"][0]["warmPool"] == "Available" and first["warmPool"] is None


def test_filters_search_sort_and_pages(dash: Dashboard) -> None:
    found = read(dash, "/dashboard/api/jobs?q=HyperParameters.lr%20%3D%200.01")
    assert [r["name"] for r in found["rows"]] == ["second"]
    assert read(dash, "/dashboard/api/jobs?name=ool")["rows"][0]["name"] == "pooled"
    assert read(dash, "/dashboard/api/jobs?status=Failed")["rows"] == []
    ascending = read(dash, "/dashboard/api/jobs?sort=TrainingJobName&order=Ascending&limit=2")
    assert [r["name"] for r in ascending["rows"]] == ["first", "pooled"]
    rest = read(
        dash,
        f"/dashboard/api/jobs?sort=TrainingJobName&order=Ascending&limit=2&next={ascending['next']}",
    )
    assert [r["name"] for r in rest["rows"]] == ["second"]
    as_json = '{"Filters":[{"Name":"HyperParameters.lr","Operator":"Equals","Value":"0.1"}]}'
    assert [r["name"] for r in read(dash, f"/dashboard/api/jobs?q={as_json}")["rows"]] == [
        "pooled",
        "first",
    ]


def test_bad_search_is_a_400_that_names_the_problem(dash: Dashboard) -> None:
    error = read(dash, "/dashboard/api/jobs?q=a%20%3D%3D%201", 400)
    assert error["error"] == "ValidationException" and "NAME OP VALUE" in error["message"]
    error = read(dash, "/dashboard/api/jobs?sort=HyperParameters", 400)
    assert "SortBy" in error["message"]
    assert "kind" in read(dash, "/dashboard/api/jobs?kind=batch", 400)["message"]


def test_a_job_in_full(dash: Dashboard, h: Harness) -> None:
    job = read(dash, "/dashboard/api/training-jobs/first")
    assert [t["status"] for t in job["timeline"]] == h.statuses("first")
    assert all(t["seconds"] is not None and t["seconds"] >= 0 for t in job["timeline"])
    assert job["timeline"][-1]["message"] == h.store.transitions("first")[-1].message
    assert job["describe"]["HyperParameters"] == {"lr": "0.1", "epochs": "3"}
    assert job["artifacts"][0] == {
        "what": "Model artifacts",
        "uri": "s3://bucket/output/first/output/model.tar.gz",
    }
    assert job["hosts"] == ["algo-1"] and job["gpus"] == []
    assert not job["canStop"] and not job["canRelease"] and job["ended"]
    assert read(dash, "/dashboard/api/training-jobs/pooled")["canRelease"]
    missing = read(dash, "/dashboard/api/training-jobs/nope", 400)
    assert "Requested resource not found" in missing["message"]


def test_metric_series_and_logs(dash: Dashboard, h: Harness) -> None:
    series = read(dash, "/dashboard/api/training-jobs/first/metrics")["metrics"]
    assert [point[2] for point in series["loss"]] == [0.5, 0.25]
    logs = read(dash, "/dashboard/api/training-jobs/first/logs")
    assert [text for _, text in logs["lines"]] == ["epoch 1 loss=0.5", "epoch 2 loss=0.25"]
    assert logs["ended"] and not logs["more"]
    after = read(dash, f"/dashboard/api/training-jobs/first/logs?offset={logs['offset']}")
    assert after["lines"] == [] and after["offset"] == logs["offset"]
    assert (
        "host" in read(dash, "/dashboard/api/training-jobs/first/logs?host=algo-9", 400)["message"]
    )


def test_a_long_log_opens_at_its_tail_and_pages_forward(dash: Dashboard, h: Harness) -> None:
    path = EngineContext.log_file(h.settings, "second", "algo-1")
    path.write_text("".join(f"1.0\tline {i:06d} {'x' * 100}\n" for i in range(10_000)))
    tail = read(dash, "/dashboard/api/training-jobs/second/logs")
    assert tail["lines"][-1][1].startswith("line 009999") and not tail["more"]
    assert len(tail["lines"]) < 10_000 and tail["lines"][0][1].startswith("line ")
    head = read(dash, "/dashboard/api/training-jobs/second/logs?offset=0")
    assert head["lines"][0][1].startswith("line 000000") and head["more"]


def test_compare_marks_the_rows_that_differ(dash: Dashboard) -> None:
    found = read(dash, "/dashboard/api/compare?names=first,second")
    assert found["jobs"] == ["first", "second"]
    hyper = {r["name"]: r for r in found["table"]["hyperparameters"]}
    assert hyper["lr"] == {"name": "lr", "values": ["0.1", "0.01"], "differs": True}
    assert not hyper["epochs"]["differs"]
    assert not found["table"]["finalMetrics"][0]["differs"]
    assert [len(s["loss"]) for s in found["series"]] == [2, 2]
    assert "names must list" in read(dash, "/dashboard/api/compare?names=", 400)["message"]


def test_capacity_shows_what_the_warm_pool_holds(dash: Dashboard) -> None:
    capacity = read(dash, "/dashboard/api/capacity")
    assert capacity["cpus"]["total"] > 0 and capacity["memoryBytes"]["total"] > 0
    assert [(s["job"], s["warmPool"]) for s in capacity["running"]] == [("pooled", True)]
    assert capacity["cpus"]["held"] == capacity["running"][0]["cpus"]
    assert capacity["waiting"] == [] and capacity["nodes"] == []


def test_actions_need_the_pages_token(dash: Dashboard, h: Harness) -> None:
    h.store.insert("live", "arn:live", _job("live", "1"), h.clock.now())
    h.store.move("live", Secondary.STARTING, Secondary.TRAINING, h.clock.now())
    h.store.claim("live", "another-process", h.clock.now(), 3600)
    assert post(dash, "/dashboard/api/training-jobs/live/stop").status == 403
    assert post(dash, "/dashboard/api/training-jobs/live/stop", "wrong").status == 403
    token = read(dash, "/dashboard/api/session")["token"]
    done = post(dash, "/dashboard/api/training-jobs/live/stop", token)
    assert done.status == 200, done.body
    assert h.store.require("live").status == "Stopping"
    again = post(dash, "/dashboard/api/training-jobs/first/stop", token)
    assert again.status == 400 and b"already ended" in again.body


def test_release_ends_the_warm_pool(dash: Dashboard, orch: Orchestrator) -> None:
    token = read(dash, "/dashboard/api/session")["token"]
    assert post(dash, "/dashboard/api/training-jobs/pooled/release", token).status == 200
    assert orch.describe_training_job("pooled")["WarmPoolStatus"]["Status"] == "Terminated"
    assert get(dash, "/dashboard/api/training-jobs/pooled/release").status == 405


def test_files_are_cached_compressed_and_confined(dash: Dashboard) -> None:
    page = get(dash, "/")
    assert page.status == 200 and b'<main id="view">' in page.body
    assert page.headers["Content-Security-Policy"].startswith("default-src 'self'")
    script = get(dash, "/static/app.js", **{"accept-encoding": "gzip, br"})
    assert script.headers["Content-Encoding"] == "gzip"
    unchanged = get(dash, "/static/app.js", **{"if-none-match": script.headers["ETag"]})
    assert unchanged.status == 304 and unchanged.body == b""
    plotly = get(dash, "/static/vendor/plotly.min.js")
    assert plotly.status == 200 and b"Licensed under the MIT license" in plotly.body[:400]
    assert "max-age" in plotly.headers["Cache-Control"]
    assert b"MIT" in get(dash, "/static/vendor/plotly-license.txt").body
    for sneaky in ("/static/../routes.py", "/static/%2e%2e/routes.py", "/static/vendor/x.js"):
        assert get(dash, sneaky).status == 404
    assert read(dash, "/dashboard/api/nothing", 404)["error"] == "NotFound"


def test_reads_from_a_rebound_name_are_refused(dash: Dashboard) -> None:
    response = dash.handle("GET", "/dashboard/api/jobs", "127.0.0.1", {"host": "evil.test"})
    assert response.status == 403
    assert dash.handle("GET", "/", "127.0.0.1", {"host": "evil.test"}).status == 403


def test_capacity_per_node_on_a_swarm() -> None:
    nodes = (
        NodeCapacity("n1", "gpu-box", 32.0, 64 * GIB, 8.0, ("GPU-a", "GPU-b")),
        NodeCapacity("n2", "cpu-box", 16.0, 32 * GIB, 4.0),
    )
    capacity = Capacity(48.0, 96 * GIB, 12.0, 96 * GIB, ("GPU-a", "GPU-b"), nodes=nodes)
    allocations = [
        Allocation("train", 1, 8.0, 16 * GIB, True, 1, ("GPU-b",)),
        Allocation("pool:p1", 2, 2.0, 4 * GIB, True),
        Allocation("queued", 3, 64.0, 8 * GIB, False),
    ]
    pools = {"p1": WarmPool("p1", "key", "earlier", "Available", 60, 0.0, 60.0, "")}
    held = {"n1": Demand(8.0, 16 * GIB), "n2": Demand(2.0, 4 * GIB)}
    found = summary(capacity, allocations, pools, held)
    assert found["cpus"] == {"total": 48.0, "held": 10.0, "host": 12.0}
    assert found["gpus"] == [
        {"uuid": "GPU-a", "heldBy": None},
        {"uuid": "GPU-b", "heldBy": "train"},
    ]
    assert [(n["name"], n["heldCpus"], n["gpus"]) for n in found["nodes"]] == [
        ("gpu-box", 8.0, 2),
        ("cpu-box", 2.0, 0),
    ]
    assert [(s["job"], s["warmPool"]) for s in found["running"]] == [
        ("train", False),
        ("earlier", True),
    ]
    assert [s["job"] for s in found["waiting"]] == ["queued"]


def test_timeline_durations_run_to_now_for_the_open_entry() -> None:
    transitions = [
        {"Status": "Starting", "StartTime": 100.0, "EndTime": 102.5, "StatusMessage": "go"},
        {"Status": "Training", "StartTime": 102.5},
    ]
    assert timeline(transitions, now=110.0) == [
        {"status": "Starting", "start": 100.0, "end": 102.5, "seconds": 2.5, "message": "go"},
        {"status": "Training", "start": 102.5, "end": None, "seconds": 7.5, "message": ""},
    ]
