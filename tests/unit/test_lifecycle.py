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
    expired,
    pending_deadline,
    primary_of,
    retry_message,
    runtime_deadline,
    should_retry,
    stopped_status,
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


# -- decisions: retries, stop causes, deadlines ---------------------------------------------


@pytest.mark.parametrize(
    ("retryable", "attempt", "maximum", "expected"),
    [
        (True, 1, 0, False),  # no RetryStrategy
        (True, 1, 2, True),
        (True, 2, 2, True),
        (True, 3, 2, False),  # 1 + MaximumRetryAttempts attempts in all
        (False, 1, 30, False),  # algorithm and client errors are never retried
    ],
)
def test_retry_decision(retryable: bool, attempt: int, maximum: int, expected: bool) -> None:
    assert should_retry(retryable, attempt, maximum) is expected


def test_retry_message_says_which_attempt() -> None:
    message = retry_message(2, 2, "InternalServerError: the container is gone")
    assert message.startswith("Retrying the training job: attempt 2 of 3, after Internal")


@pytest.mark.parametrize(
    ("cause", "final"),
    [
        ("user", Secondary.STOPPED),
        ("max_runtime", Secondary.MAX_RUNTIME_EXCEEDED),
        ("max_pending", Secondary.STOPPED),
        (None, Secondary.STOPPED),
    ],
)
def test_a_stop_ends_in_the_status_of_its_cause(cause: str | None, final: Secondary) -> None:
    assert stopped_status(cause) is final


def test_deadlines_on_an_injected_clock() -> None:
    assert runtime_deadline(None, 100.0, 60) == 160.0  # not started: from creation
    assert runtime_deadline(130.0, 100.0, 60) == 190.0
    assert pending_deadline(100.0, None) is None
    deadline = pending_deadline(100.0, 7200)
    assert not expired(deadline, 7299.0) and expired(deadline, 7300.0)
    assert not expired(None, 1e12)
