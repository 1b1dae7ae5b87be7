"""The state machine: every legal move, every illegal one refused, statuses derived."""

from __future__ import annotations

import itertools

import pytest

from orchestrator.lifecycle import (
    TERMINAL,
    Clocks,
    IllegalTransition,
    JobStatus,
    Limits,
    Secondary,
    StopCause,
    allowed_next,
    expired,
    limit_reached,
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
    ("retryable", "retries", "maximum", "expected"),
    [
        (True, 0, 0, False),  # no RetryStrategy
        (True, 0, 2, True),
        (True, 1, 2, True),
        (True, 2, 2, False),  # MaximumRetryAttempts retries, 1 + that many attempts
        (False, 0, 30, False),  # algorithm and client errors are never retried
    ],
)
def test_retry_decision(retryable: bool, retries: int, maximum: int, expected: bool) -> None:
    assert should_retry(retryable, retries, maximum) is expected


def test_retry_message_says_which_retry_and_attempt() -> None:
    message = retry_message(1, 2, 3, "InternalServerError: the container is gone")
    assert message.startswith(
        "Retrying the training job: retry 1 of 2 (attempt 3), after InternalServerError"
    )


@pytest.mark.parametrize(
    ("limits", "clocks", "now", "cause"),
    [
        (Limits(60), Clocks(100.0, None), 10_000.0, None),  # never started: no runtime yet
        (Limits(60), Clocks(100.0, 130.0), 189.0, None),
        (Limits(60), Clocks(100.0, 130.0), 190.0, StopCause.MAX_RUNTIME),
        # spot: only time spent training counts (40 s before an interruption, 20 s now)
        (Limits(60, 500, True), Clocks(100.0, 130.0, 40.0, 300.0), 319.0, None),
        (Limits(60, 500, True), Clocks(100.0, 130.0, 40.0, 300.0), 320.0, StopCause.MAX_RUNTIME),
        (Limits(60, 500, True), Clocks(100.0, 130.0, 40.0, None), 599.0, None),
        (Limits(60, 500, True), Clocks(100.0, 130.0, 40.0, None), 600.0, StopCause.MAX_WAIT),
    ],
)
def test_stopping_conditions(
    limits: Limits, clocks: Clocks, now: float, cause: StopCause | None
) -> None:
    assert limit_reached(limits, clocks, now) is cause


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
