"""The job store: compare-and-set moves, history, tags, leases and ListTrainingJobs paging."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestrator.errors import ResourceInUse, ValidationError
from orchestrator.lifecycle import IllegalTransition, Secondary
from orchestrator.store.db import Database
from orchestrator.store.jobs import JobStore, ListQuery


@pytest.fixture
def store(tmp_path: Path) -> JobStore:
    return JobStore(Database(tmp_path / "db.sqlite"))


def _add(store: JobStore, name: str, now: float = 100.0) -> None:
    store.insert(
        name, f"arn:{name}", {"TrainingJobName": name, "Tags": [{"Key": "k", "Value": name}]}, now
    )


def test_insert_starts_in_starting_and_refuses_duplicates(store: JobStore) -> None:
    _add(store, "a")
    record = store.require("a")
    assert (record.status, record.secondary_status) == ("InProgress", "Starting")
    assert store.tags("a") == {"k": "a"}
    with pytest.raises(ResourceInUse, match="'a' already exists"):
        _add(store, "a")


def test_move_is_compare_and_set(store: JobStore) -> None:
    _add(store, "a")
    assert store.move("a", Secondary.STARTING, Secondary.DOWNLOADING, 101.0)
    assert not store.move("a", Secondary.STARTING, Secondary.DOWNLOADING, 102.0)  # lost race
    with pytest.raises(IllegalTransition):
        store.move("a", Secondary.DOWNLOADING, Secondary.COMPLETED, 103.0)
    record = store.require("a")
    assert record.secondary_status == "Downloading" and record.last_modified_time == 101.0


def test_moves_record_history_and_data(store: JobStore) -> None:
    _add(store, "a")
    store.move("a", Secondary.STARTING, Secondary.STOPPING, 101.0, stop_cause="user")
    assert store.set_message("a", Secondary.STOPPING, "still stopping", 102.0)
    # A message written for a status the job has left lands nowhere.
    assert not store.set_message("a", Secondary.TRAINING, "training in progress", 102.5)
    store.move("a", Secondary.STOPPING, Secondary.STOPPED, 103.0, training_end_time=103.0)
    history = [(t.status, t.start_time, t.end_time, t.message) for t in store.transitions("a")]
    assert history == [
        ("Starting", 100.0, 101.0, "Starting the training job."),
        ("Stopping", 101.0, 103.0, "still stopping"),
        ("Stopped", 103.0, 103.0, "The training job was stopped."),
    ]
    record = store.require("a")
    assert (record.status, record.stop_cause, record.training_end_time) == ("Stopped", "user", 103)


def test_unknown_data_columns_are_refused(store: JobStore) -> None:
    _add(store, "a")
    with pytest.raises(ValueError, match="not a job data column"):
        store.update("a", status="Completed")


def test_leases(store: JobStore) -> None:
    _add(store, "a")
    assert store.claim("a", "me", now=100.0, lease_seconds=30)
    assert not store.claim("a", "other", now=120.0, lease_seconds=30)
    assert store.orphans(now=120.0) == []
    assert [r.name for r in store.orphans(now=131.0)] == ["a"]
    assert store.claim("a", "other", now=131.0, lease_seconds=30)  # expired: taken over
    store.release("a", "me")  # not the owner any more: no effect
    assert store.require("a").owner == "other"


def test_list_filters_sorts_and_pages(store: JobStore) -> None:
    for index, name in enumerate(["alpha", "beta", "gamma", "delta", "epsilon"]):
        _add(store, name, now=100.0 + index)
    store.move("beta", Secondary.STARTING, Secondary.FAILED, 200.0)
    names, token = store.page(ListQuery(max_results=2))
    assert [r.name for r in names] == ["epsilon", "delta"] and token
    names, token = store.page(ListQuery(max_results=2, next_token=token))
    assert [r.name for r in names] == ["gamma", "beta"]
    names, token = store.page(ListQuery(max_results=2, next_token=token))
    assert [r.name for r in names] == ["alpha"] and token is None
    by_name, _ = store.page(ListQuery(sort_by="Name", sort_order="Ascending", max_results=10))
    assert [r.name for r in by_name] == ["alpha", "beta", "delta", "epsilon", "gamma"]
    assert [r.name for r in store.page(ListQuery(status_equals="Failed"))[0]] == ["beta"]
    assert [r.name for r in store.page(ListQuery(name_contains="ELTA"))[0]] == ["delta"]
    window = ListQuery(creation_after=100.5, creation_before=103.5, sort_order="Ascending")
    assert [r.name for r in store.page(window)[0]] == ["beta", "gamma", "delta"]
    assert [r.name for r in store.page(ListQuery(modified_after=150.0))[0]] == ["beta"]


@pytest.mark.parametrize("token", ["garbage", "e30=", "!!!", "eyJ2IjogMX0="])
def test_forged_tokens_are_a_validation_error(store: JobStore, token: str) -> None:
    with pytest.raises(ValidationError, match="Invalid NextToken"):
        store.page(ListQuery(next_token=token))


def test_state_survives_a_new_connection(tmp_path: Path) -> None:
    _add(JobStore(Database(tmp_path / "db.sqlite")), "a")
    assert JobStore(Database(tmp_path / "db.sqlite")).require("a").name == "a"


def test_names_are_unique_without_regard_to_case(store: JobStore) -> None:
    _add(store, "MyJob")
    with pytest.raises(ResourceInUse):
        _add(store, "myjob")
    record = store.get("MYJOB")
    assert record is not None and record.name == "MyJob"
