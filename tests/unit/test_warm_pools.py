"""Warm pools on the fake runtime: keep, reuse with the cache, expire, reclaim, update."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest

from orchestrator.capacity import Demand
from orchestrator.engine.engine import Engine
from orchestrator.errors import ValidationError
from orchestrator.operations import resources
from orchestrator.operations import training_jobs as service
from orchestrator.pools import CACHE_VARIABLE
from orchestrator.runtime.fake import FakeRuntime
from orchestrator.runtime.protocol import ExitStatus
from orchestrator.store.pools import WarmPoolStore
from orchestrator.validation.model import shape_errors
from tests.unit.harness import Harness, request

KEEP = {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10}


def _pooled(name: str, keep_alive: int = 120, **changes: Any) -> dict[str, Any]:
    resources_config = {**KEEP, "KeepAlivePeriodInSeconds": keep_alive}
    return request(TrainingJobName=name, ResourceConfig=resources_config, **changes)


@pytest.fixture
def h(tmp_path: Path) -> Harness:
    harness = Harness(tmp_path, memory_gib=64)
    harness.program("fake/ok:latest", duration=5, files={"model/m.txt": "m"})
    return harness


def _status(h: Harness, name: str) -> dict[str, Any]:
    described = service.describe(h.store, name, now=h.clock.now())
    return dict(described.get("WarmPoolStatus") or {})


def test_a_matching_job_reuses_the_pool_and_its_cache(h: Harness) -> None:
    seen: list[list[str]] = []

    def use_cache(opt_ml: Path) -> None:
        cache = next(
            m.source
            for c in h.runtime.containers.values()
            for m in c.spec.mounts
            if m.target == "/opt/ml/sagemaker/warmpoolcache"
        )
        seen.append(sorted(p.name for p in cache.iterdir()))
        (cache / f"from-{len(seen)}.txt").write_text("cached")

    h.program("fake/cache:latest", duration=5, on_start=use_cache)
    algorithm = {"TrainingImage": "fake/cache:latest", "TrainingInputMode": "File"}
    h.run(_pooled("job-1", AlgorithmSpecification=algorithm))
    assert _status(h, "job-1") == {
        "Status": "Available",
        "ResourceRetainedBillableTimeInSeconds": 0,
    }
    h.clock.advance(30)
    h.run(_pooled("job-2", AlgorithmSpecification=algorithm))
    assert _status(h, "job-1") == {
        "Status": "Reused",
        "ResourceRetainedBillableTimeInSeconds": 30,
        "ReusedByJob": "job-2",
    }
    assert _status(h, "job-2")["Status"] == "Available"
    assert seen == [[], ["from-1.txt"]]  # the second job found what the first left
    spec = list(h.runtime.containers.values())[-1].spec
    assert spec.environment[CACHE_VARIABLE] == "/opt/ml/sagemaker/warmpoolcache"
    transitions = h.store.transitions("job-2")
    assert "reusing the warm pool job-1 left" in transitions[0].message
    described = service.describe(h.store, "job-1", now=h.clock.now())
    assert shape_errors(described, "DescribeTrainingJobResponse") == []


def test_a_job_that_does_not_match_cold_starts(h: Harness) -> None:
    h.run(_pooled("job-1"))
    other = {**KEEP, "InstanceType": "ml.c5.xlarge", "KeepAlivePeriodInSeconds": 60}
    h.run(request(TrainingJobName="job-2", ResourceConfig=other))
    assert _status(h, "job-1")["Status"] == "Available"
    assert _status(h, "job-2")["Status"] == "Available"
    assert len({p.id for p in WarmPoolStore(h.store.db).all()}) == 2


def test_a_pool_expires_on_time_and_its_cache_goes(h: Harness) -> None:
    h.program("fake/cache:latest", duration=5, files={"sagemaker/warmpoolcache/pip.txt": "x"})
    algorithm = {"TrainingImage": "fake/cache:latest", "TrainingInputMode": "File"}
    h.run(_pooled("job-1", keep_alive=60, AlgorithmSpecification=algorithm))
    (pool,) = WarmPoolStore(h.store.db).all()
    assert (Path(pool.cache) / "algo-1" / "pip.txt").read_text() == "x"
    h.clock.advance(59)
    Engine(h.ctx).tick()
    assert _status(h, "job-1")["Status"] == "Available"
    h.clock.advance(100)  # no engine ran at the moment it expired: settled later, at 60 s
    Engine(h.ctx).tick()
    assert _status(h, "job-1") == {
        "Status": "Terminated",
        "ResourceRetainedBillableTimeInSeconds": 60,
    }
    assert not Path(pool.cache).exists()
    assert h.ctx.ledger.allocations() == []


def test_an_internal_error_keeps_no_pool(h: Harness) -> None:
    def lose(container_id: str, timeout: float) -> ExitStatus | None:
        h.runtime.containers[container_id].removed = True  # docker rm -f: a lost instance
        return FakeRuntime.wait(h.runtime, container_id, timeout)

    h.runtime.wait = lose  # type: ignore[method-assign]
    h.run(_pooled("job-1"))
    assert h.store.require("job-1").status == "Failed"
    assert _status(h, "job-1") == {
        "Status": "Terminated",
        "ResourceRetainedBillableTimeInSeconds": 0,
    }


def test_an_algorithm_error_keeps_the_pool(h: Harness) -> None:
    h.program("fake/exit:latest", duration=1, exit_code=3)
    algorithm = {"TrainingImage": "fake/exit:latest", "TrainingInputMode": "File"}
    h.run(_pooled("job-1", AlgorithmSpecification=algorithm))
    assert _status(h, "job-1")["Status"] == "Available"


def test_an_available_pool_holds_its_share_and_yields_to_a_job_that_waits(
    tmp_path: Path,
) -> None:
    h = Harness(tmp_path, cpus=2)  # one ml.m5.large at a time
    h.program("fake/ok:latest", duration=5)
    h.run(_pooled("job-1"))
    assert [a.job for a in h.ctx.ledger.allocations()] == [
        f"pool:{WarmPoolStore(h.store.db).all()[0].id}"
    ]
    other = {**KEEP, "InstanceType": "ml.c5.xlarge"}  # does not match: needs the room
    h.run(request(TrainingJobName="job-2", ResourceConfig=other))
    assert h.store.require("job-2").secondary_status == "Completed"
    assert "Pending" not in h.statuses("job-2")
    assert _status(h, "job-1")["Status"] == "Terminated"


def test_two_jobs_racing_for_one_pool_get_it_once(h: Harness) -> None:
    h.run(_pooled("job-1"))
    pools = WarmPoolStore(h.store.db)
    key = pools.all()[0].match_key
    for name in ("a", "b"):
        h.store.insert(name, f"arn:{name}", _pooled(name), h.clock.now())
    first = pools.claim("a", key, 120, h.clock.now())
    second = pools.claim("b", key, 120, h.clock.now())
    assert first is not None and second is None
    assert _status(h, "job-1")["ReusedByJob"] == "a"


def test_update_keep_alive_changes_or_ends_the_pool(h: Harness) -> None:
    h.run(_pooled("job-1", keep_alive=600))
    record = h.store.require("job-1")
    resources.update_keep_alive(h.store, h.clock, record, 30)
    h.clock.advance(31)
    Engine(h.ctx).tick()
    assert _status(h, "job-1")["Status"] == "Terminated"
    with pytest.raises(ValidationError, match="no Available warm pool"):
        resources.update_keep_alive(h.store, h.clock, h.store.require("job-1"), 0)
    h.run(request(TrainingJobName="no-pool"))
    with pytest.raises(ValidationError, match="no Available warm pool"):
        resources.update_keep_alive(h.store, h.clock, h.store.require("no-pool"), 60)


def test_at_most_the_configured_number_of_pools_is_kept(tmp_path: Path) -> None:
    h = Harness(tmp_path, max_warm_pools=1, memory_gib=64)
    h.program("fake/ok:latest", duration=5)
    h.run(_pooled("job-1"))
    other = {**KEEP, "InstanceType": "ml.c5.xlarge", "KeepAlivePeriodInSeconds": 60}
    h.run(request(TrainingJobName="job-2", ResourceConfig=other))
    assert _status(h, "job-1")["Status"] == "Available"
    assert _status(h, "job-2")["Status"] == "Terminated"


def test_list_filters_on_warm_pool_status(h: Harness) -> None:
    h.run(_pooled("job-1"))
    h.run(request(TrainingJobName="plain"))
    listed = service.list_jobs(h.store, {"WarmPoolStatusEquals": "Available"}, h.clock.now())
    assert [s["TrainingJobName"] for s in listed["TrainingJobSummaries"]] == ["job-1"]
    assert listed["TrainingJobSummaries"][0]["WarmPoolStatus"]["Status"] == "Available"
    assert shape_errors(listed, "ListTrainingJobsResponse") == []


# -- what a review found --------------------------------------------------------------------


def test_a_job_behind_another_in_the_queue_ends_no_pool(tmp_path: Path) -> None:
    h = Harness(tmp_path, cpus=2, memory_gib=64)
    h.program("fake/ok:latest", duration=5)
    h.run(_pooled("job-1"))  # its pool holds the 2 CPUs
    capacity = h.ctx.capacity()
    demand = Demand(2, 1)
    for name in ("early", "late"):
        h.store.insert(name, f"arn:{name}", request(TrainingJobName=name), h.clock.now(), "x", 1e9)
    assert h.ctx.ledger.request("early", Demand(8, 1), capacity, h.clock.now()) is None  # waits
    assert h.ctx.ledger.request("late", demand, capacity, h.clock.now()) is None  # queued after
    assert not h.ctx.ledger.may_reclaim("late", demand, capacity, h.clock.now())
    assert _status(h, "job-1")["Status"] == "Available"


def test_a_finished_jobs_share_survives_a_reap_until_its_pool_is_settled(h: Harness) -> None:
    supervisor = h.supervisor(_pooled("job-1"))
    original = supervisor._cleanup

    def reap_first() -> None:  # another engine's tick, between the last status and clean-up
        h.ctx.ledger.reap()
        original()

    supervisor._cleanup = reap_first  # type: ignore[method-assign]
    supervisor.run()
    (pool,) = WarmPoolStore(h.store.db).all()
    assert [a.job for a in h.ctx.ledger.allocations()] == [f"pool:{pool.id}"]


def test_a_pool_left_in_use_by_a_dead_engine_is_ended(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    supervisor = h.supervisor(_pooled("job-1"))

    def died_before_settling(*_: object) -> None:  # the job ended; its engine died right then
        supervisor.heartbeat.stop()
        h.store.release("job-1", "test-owner")
        raise SystemExit

    monkeypatch.setattr("orchestrator.engine.supervisor.settle_pool", died_before_settling)
    with contextlib.suppress(SystemExit):
        supervisor.run()
    assert WarmPoolStore(h.store.db).all()[0].status == "InUse"
    Engine(h.ctx).tick()
    (pool,) = WarmPoolStore(h.store.db).all()
    assert pool.status == "Terminated" and not Path(pool.cache).exists()


def test_a_pool_is_never_settled_for_a_job_another_engine_owns(h: Harness) -> None:
    from orchestrator.engine.warmpools import settle_pool

    h.supervisor(_pooled("job-1"))
    h.ctx.pools.create("p1", "job-1", "key", 60, str(h.settings.home / "p1"))
    settle_pool(h.ctx, "job-1", "not-the-owner", launched=True)
    assert WarmPoolStore(h.store.db).all()[0].status == "InUse"
