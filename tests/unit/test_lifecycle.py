"""The state machine: every legal move, every illegal one refused, statuses derived."""

from __future__ import annotations

import itertools

import pytest

from orchestrator.lifecycle import (
    TERMINAL,
    IllegalTransition,
    JobStatus,
    Secondary,
    allowed_next,
    primary_of,
    transition,
)

LEGAL = {
    ("Starting", "Pending"),
    ("Starting", "Downloading"),
    ("Starting", "Training"),
    ("Pending", "Starting"),
    ("Pending", "Downloading"),
    ("Downloading", "Training"),
    ("Training", "Uploading"),
    ("Training", "Interrupted"),
    ("Training", "Restarting"),
    ("Uploading", "Completed"),
    ("Interrupted", "Starting"),
    ("Restarting", "Starting"),
    ("Stopping", "Stopped"),
    ("Stopping", "MaxRuntimeExceeded"),
    ("Stopping", "MaxWaitTimeExceeded"),
    ("Stopping", "Failed"),
    # a retried attempt (RetryStrategy) starts over from wherever the last one failed
    ("Starting", "Starting"),
    ("Downloading", "Starting"),
    ("Training", "Starting"),
    ("Uploading", "Starting"),
} | {
    (active, target)
    for active in (
        "Starting",
        "Pending",
        "Downloading",
        "Training",
        "Uploading",
        "Interrupted",
        "Restarting",
    )
    for target in ("Stopping", "Failed")
}


@pytest.mark.parametrize(("current", "target"), sorted(itertools.product(Secondary, Secondary)))
def test_transition_table(current: Secondary, target: Secondary) -> None:
    if (current.value, target.value) in LEGAL:
        assert transition(current, target).secondary is target
    else:
        with pytest.raises(IllegalTransition):
            transition(current, target)


def test_terminal_statuses_never_change() -> None:
    for status in TERMINAL:
        assert allowed_next(status) == frozenset()


@pytest.mark.parametrize(
    ("secondary", "primary"),
    [
        ("Starting", "InProgress"),
        ("Pending", "InProgress"),
        ("Downloading", "InProgress"),
        ("Training", "InProgress"),
        ("Uploading", "InProgress"),
        ("Interrupted", "InProgress"),
        ("Restarting", "InProgress"),
        ("Stopping", "Stopping"),
        ("Completed", "Completed"),
        ("Failed", "Failed"),
        ("Stopped", "Stopped"),
        ("MaxRuntimeExceeded", "Stopped"),
        ("MaxWaitTimeExceeded", "Stopped"),
    ],
)
def test_primary_status_is_derived(secondary: str, primary: str) -> None:
    assert primary_of(Secondary(secondary)) is JobStatus(primary)
    assert transition  # the table above and SEMANTICS.md agree on every pair
