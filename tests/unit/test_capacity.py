"""Placement: demands, capacity settings, and the shared ledger's first-come-first-served."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.capacity import (
    DEFAULT_CPU_OVERCOMMIT,
    Capacity,
    Demand,
    demand_of,
    demand_of_groups,
    fits,
    host_capacity,
    never_fits,
)
from orchestrator.instances import GIB
from orchestrator.store.capacity import CapacityLedger
from orchestrator.store.db import Database
from orchestrator.store.jobs import JobStore

HOST = (2, 24 * GIB)


def test_the_detected_host_is_overcommitted_by_default() -> None:
    capacity = host_capacity(*HOST)
    assert capacity.cpus == 2 * DEFAULT_CPU_OVERCOMMIT and capacity.memory_bytes == 24 * GIB
    small = demand_of("ml.m5.large", 1, capacity)  # 2 vCPUs, 8 GiB
    used = Demand(0, 0)
    for _ in range(3):  # a 2-core runner still runs several small jobs side by side
        assert fits(small, used, capacity)
        used = Demand(used.cpus + small.cpus, used.memory_bytes + small.memory_bytes)


def test_given_cpus_are_taken_at_their_word() -> None:
    capacity = host_capacity(*HOST, cpus=4)
    assert capacity.cpus == 4
    four = demand_of("ml.m5.xlarge", 1, capacity)
    assert four.cpus == 4 and fits(four, Demand(0, 0), capacity)
    assert not fits(four, four, capacity)  # a second 4-vCPU job waits
    assert host_capacity(*HOST, cpus=4, overcommit=2).cpus == 8


def test_demand_is_capped_at_the_host_and_scales_with_instance_count() -> None:
    capacity = host_capacity(*HOST, cpus=4, memory_gib=16)
    huge = demand_of("ml.m5.24xlarge", 1, capacity)  # 96 vCPUs, 384 GiB in the cloud
    assert (huge.cpus, huge.memory_bytes) == (4, 16 * GIB)
    assert never_fits(huge, capacity) is None
    assert demand_of("ml.m5.large", 2, capacity) == Demand(4, 2 * 8 * GIB)


def test_a_job_bigger_than_the_capacity_can_never_fit() -> None:
    capacity = host_capacity(*HOST, overcommit=0.5)  # 1 schedulable CPU
    reason = never_fits(demand_of("ml.m5.large", 1, capacity), capacity)
    assert reason is not None and "needs 2 vCPUs" in reason and "ORCHESTRATOR_CPUS" in reason


# -- the ledger ------------------------------------------------------------------------------

CAPACITY = Capacity(cpus=4, memory_bytes=32 * GIB, host_cpus=4, host_memory_bytes=32 * GIB)
FOUR = Demand(4, 16 * GIB)
TWO = Demand(2, 8 * GIB)


@pytest.fixture
def jobs(tmp_path: Path) -> JobStore:
    return JobStore(Database(tmp_path / "db.sqlite"))


def _job(jobs: JobStore, name: str, owner: str | None = "engine-1") -> None:
    jobs.insert(name, f"arn:{name}", {"TrainingJobName": name}, 0.0, owner, 1000.0)


def test_shares_are_granted_while_they_fit_and_freed_on_release(jobs: JobStore) -> None:
    ledger = CapacityLedger(jobs.db)
    for name in ("a", "b"):
        _job(jobs, name)
    assert ledger.request("a", FOUR, CAPACITY, 1.0) is not None
    assert ledger.request("b", FOUR, CAPACITY, 1.0) is None
    assert ledger.request("a", FOUR, CAPACITY, 2.0) is not None  # asking again keeps the share
    ledger.release("a")
    assert ledger.request("b", FOUR, CAPACITY, 3.0) is not None


def test_first_come_first_served(jobs: JobStore) -> None:
    ledger = CapacityLedger(jobs.db)
    for name in ("big", "waits", "small"):
        _job(jobs, name)
    assert ledger.request("big", TWO, CAPACITY, 1.0) is not None
    assert ledger.request("waits", FOUR, CAPACITY, 1.0) is None
    # Two vCPUs are free, but a job queued earlier waits: the small one does not jump it.
    assert ledger.request("small", TWO, CAPACITY, 1.0) is None
    ledger.release("big")
    assert ledger.request("small", TWO, CAPACITY, 2.0) is None
    assert ledger.request("waits", FOUR, CAPACITY, 2.0) is not None
    assert [a.job for a in ledger.allocations()] == ["waits", "small"]


def test_a_waiting_orphan_does_not_block_the_queue(jobs: JobStore) -> None:
    ledger = CapacityLedger(jobs.db)
    _job(jobs, "orphan")
    _job(jobs, "live")
    assert ledger.request("orphan", Demand(8, GIB), CAPACITY, 1.0) is None
    jobs.release("orphan", "engine-1")  # its engine died
    assert ledger.request("live", TWO, CAPACITY, 2.0) is not None


def test_shares_of_ended_jobs_are_reaped(jobs: JobStore) -> None:
    ledger = CapacityLedger(jobs.db)
    _job(jobs, "ended")
    assert ledger.request("ended", FOUR, CAPACITY, 1.0) is not None
    with jobs.db.write() as conn:
        conn.execute("UPDATE jobs SET status = 'Failed', secondary_status = 'Failed'")
    assert ledger.reap() == 1 and ledger.allocations() == []


def test_a_cluster_bigger_than_the_host_asks_for_the_whole_host_and_runs_alone() -> None:
    capacity = host_capacity(2, 16 * GIB)  # a laptop: 8 schedulable vCPUs (overcommit 4)
    three = demand_of_groups([("ml.m5.large", 3)], capacity)  # 6 vCPUs, 24 GiB in the cloud
    assert (three.cpus, three.memory_bytes) == (2, 16 * GIB)
    assert never_fits(three, capacity) is None
    assert not fits(three, demand_of("ml.m5.large", 1, capacity), capacity)  # alone, then
