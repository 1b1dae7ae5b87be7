"""The training job's state machine: the only place that decides what status comes next.

A job's state is its SecondaryStatus; TrainingJobStatus is derived from it, so the two can
never disagree. `transition` is pure: it checks a move against the table and returns the new
state, or raises. The store persists each move as a compare-and-set (see store/jobs.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from orchestrator.errors import OrchestratorError


class JobStatus(str, Enum):
    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"
    FAILED = "Failed"
    STOPPING = "Stopping"
    STOPPED = "Stopped"


class Secondary(str, Enum):
    STARTING = "Starting"
    PENDING = "Pending"
    DOWNLOADING = "Downloading"
    TRAINING = "Training"
    UPLOADING = "Uploading"
    INTERRUPTED = "Interrupted"
    RESTARTING = "Restarting"
    STOPPING = "Stopping"
    COMPLETED = "Completed"
    FAILED = "Failed"
    STOPPED = "Stopped"
    MAX_RUNTIME_EXCEEDED = "MaxRuntimeExceeded"
    MAX_WAIT_TIME_EXCEEDED = "MaxWaitTimeExceeded"


_PRIMARY = {
    Secondary.STOPPING: JobStatus.STOPPING,
    Secondary.COMPLETED: JobStatus.COMPLETED,
    Secondary.FAILED: JobStatus.FAILED,
    Secondary.STOPPED: JobStatus.STOPPED,
    Secondary.MAX_RUNTIME_EXCEEDED: JobStatus.STOPPED,
    Secondary.MAX_WAIT_TIME_EXCEEDED: JobStatus.STOPPED,
}

TERMINAL = frozenset(
    {
        Secondary.COMPLETED,
        Secondary.FAILED,
        Secondary.STOPPED,
        Secondary.MAX_RUNTIME_EXCEEDED,
        Secondary.MAX_WAIT_TIME_EXCEEDED,
    }
)

# Every status a running job can be stopped or failed from.
_ACTIVE = (
    Secondary.STARTING,
    Secondary.PENDING,
    Secondary.DOWNLOADING,
    Secondary.TRAINING,
    Secondary.UPLOADING,
    Secondary.INTERRUPTED,
    Secondary.RESTARTING,
)

_ALLOWED: dict[Secondary, frozenset[Secondary]] = {
    Secondary.STARTING: frozenset({Secondary.PENDING, Secondary.DOWNLOADING, Secondary.TRAINING}),
    Secondary.PENDING: frozenset({Secondary.STARTING, Secondary.DOWNLOADING}),
    Secondary.DOWNLOADING: frozenset({Secondary.TRAINING}),
    Secondary.TRAINING: frozenset(
        {Secondary.UPLOADING, Secondary.INTERRUPTED, Secondary.RESTARTING}
    ),
    Secondary.UPLOADING: frozenset({Secondary.COMPLETED}),
    Secondary.INTERRUPTED: frozenset({Secondary.STARTING}),
    Secondary.RESTARTING: frozenset({Secondary.STARTING}),
    Secondary.STOPPING: frozenset(
        {Secondary.STOPPED, Secondary.MAX_RUNTIME_EXCEEDED, Secondary.MAX_WAIT_TIME_EXCEEDED}
    ),
}
for _state in _ACTIVE:
    _ALLOWED[_state] = _ALLOWED[_state] | {Secondary.STOPPING, Secondary.FAILED}
# A retried attempt (RetryStrategy) goes back to Starting from wherever the last one failed.
for _state in (
    Secondary.STARTING,
    Secondary.PENDING,
    Secondary.DOWNLOADING,
    Secondary.TRAINING,
    Secondary.UPLOADING,
):
    _ALLOWED[_state] = _ALLOWED[_state] | {Secondary.STARTING}
# A stop can fail too (the container could not be stopped or the upload broke).
_ALLOWED[Secondary.STOPPING] = _ALLOWED[Secondary.STOPPING] | {Secondary.FAILED}

# Default StatusMessage for each secondary status, as the service words them.
MESSAGES = {
    Secondary.STARTING: "Starting the training job.",
    Secondary.PENDING: "Waiting for capacity to place the training job.",
    Secondary.DOWNLOADING: "Downloading input data.",
    Secondary.TRAINING: "Training image download completed. Training in progress.",
    Secondary.UPLOADING: "Uploading generated training model.",
    Secondary.INTERRUPTED: "The training job was interrupted.",
    Secondary.RESTARTING: "Restarting the training job.",
    Secondary.STOPPING: "Stopping the training job.",
    Secondary.COMPLETED: "Training job completed",
    Secondary.FAILED: "Training job failed.",
    Secondary.STOPPED: "The training job was stopped.",
    Secondary.MAX_RUNTIME_EXCEEDED: "Training job stopped: MaxRuntimeInSeconds exceeded.",
    Secondary.MAX_WAIT_TIME_EXCEEDED: "Training job stopped: MaxWaitTimeInSeconds exceeded.",
}


class StopCause(str, Enum):
    """Why a job went to Stopping; decides the status it ends in."""

    USER = "user"
    MAX_RUNTIME = "max_runtime"
    MAX_PENDING = "max_pending"
    MAX_WAIT = "max_wait"


# MaxPendingTimeInSeconds: "the maximum length of time ... that a training job can be pending
# before it is stopped" (API reference, StoppingCondition). The model has no secondary status
# for it (MaxRuntimeExceeded and MaxWaitTimeExceeded are the only timed ones), so it ends Stopped.
_STOPPED_BY = {
    StopCause.USER: Secondary.STOPPED,
    StopCause.MAX_RUNTIME: Secondary.MAX_RUNTIME_EXCEEDED,
    StopCause.MAX_PENDING: Secondary.STOPPED,
    StopCause.MAX_WAIT: Secondary.MAX_WAIT_TIME_EXCEEDED,
}
STOP_MESSAGES = {
    StopCause.USER: MESSAGES[Secondary.STOPPING],
    StopCause.MAX_RUNTIME: MESSAGES[Secondary.MAX_RUNTIME_EXCEEDED],
    StopCause.MAX_PENDING: "Training job stopped: MaxPendingTimeInSeconds exceeded while waiting"
    " for capacity.",
    StopCause.MAX_WAIT: MESSAGES[Secondary.MAX_WAIT_TIME_EXCEEDED],
}
INTERRUPTED_MESSAGE = "The spot instance was interrupted: the training container got SIGTERM."


def stopped_status(cause: str | None) -> Secondary:
    """The status a stopped job ends in, from the cause recorded when it went to Stopping."""
    try:
        return _STOPPED_BY[StopCause(cause)]
    except ValueError:
        return Secondary.STOPPED


def should_retry(retryable: bool, retries_done: int, maximum_retry_attempts: int) -> bool:
    """RetryStrategy: an attempt failed after `retries_done` retries; is there another? Only
    platform failures are retried, at most MaximumRetryAttempts times. Spot interruptions
    restart a job without counting here."""
    return retryable and retries_done < maximum_retry_attempts


def retry_message(retry: int, maximum_retry_attempts: int, attempt: int, reason: str) -> str:
    """The Starting message of a retried attempt: which retry and attempt, and why."""
    return (
        f"Retrying the training job: retry {retry} of {maximum_retry_attempts}"
        f" (attempt {attempt}), after {reason[:300]}"
    )


def restart_message(attempt: int) -> str:
    """The Starting message after a spot interruption."""
    return f"Restarting the training job after the spot interruption (attempt {attempt})."


def running_seconds(run_seconds: float, attempt_training_at: float | None, now: float) -> float:
    """Time spent training over every attempt: ended attempts plus the current one."""
    return run_seconds + (now - attempt_training_at if attempt_training_at is not None else 0.0)


def wait_deadline(creation: float, max_wait: int | None) -> float | None:
    """MaxWaitTimeInSeconds (spot): waiting plus running, over every attempt, from creation."""
    return None if max_wait is None else creation + max_wait


@dataclass(frozen=True)
class Limits:
    """A job's stopping conditions."""

    max_runtime: int
    max_wait: int | None = None
    spot: bool = False


@dataclass(frozen=True)
class Clocks:
    """What the store knows of a job's time."""

    creation: float
    training_start: float | None
    run_seconds: float = 0.0
    attempt_training_at: float | None = None


def limit_reached(limits: Limits, clocks: Clocks, now: float) -> StopCause | None:
    """Which stopping condition ends the job now, if any. MaxWait (spot) counts from creation;
    a spot job's MaxRuntime counts only time spent training (not interruptions, nor waiting);
    otherwise MaxRuntime counts from the first TrainingStartTime, across every attempt."""
    if expired(wait_deadline(clocks.creation, limits.max_wait), now):
        return StopCause.MAX_WAIT
    if limits.spot:
        running = running_seconds(clocks.run_seconds, clocks.attempt_training_at, now)
        return StopCause.MAX_RUNTIME if running >= limits.max_runtime else None
    if clocks.training_start is None:
        return None
    deadline = runtime_deadline(clocks.training_start, clocks.creation, limits.max_runtime)
    return StopCause.MAX_RUNTIME if expired(deadline, now) else None


def runtime_deadline(training_start: float | None, creation: float, max_runtime: int) -> float:
    """MaxRuntimeInSeconds covers every attempt together, from the first TrainingStartTime."""
    return (training_start if training_start is not None else creation) + max_runtime


def pending_deadline(pending_since: float, max_pending: int | None) -> float | None:
    """When a job waiting for capacity is stopped (None: it may wait for ever)."""
    return None if max_pending is None else pending_since + max_pending


def expired(deadline: float | None, now: float) -> bool:
    return deadline is not None and now >= deadline


class IllegalTransition(OrchestratorError):
    """A move the state machine does not allow (a bug in the caller, or a lost race)."""


@dataclass(frozen=True)
class State:
    secondary: Secondary

    @property
    def status(self) -> JobStatus:
        return primary_of(self.secondary)

    @property
    def terminal(self) -> bool:
        return self.secondary in TERMINAL


def primary_of(secondary: Secondary) -> JobStatus:
    """The TrainingJobStatus that a SecondaryStatus belongs to."""
    return _PRIMARY.get(secondary, JobStatus.IN_PROGRESS)


def allowed_next(current: Secondary) -> frozenset[Secondary]:
    return _ALLOWED.get(current, frozenset())


def transition(current: Secondary, target: Secondary) -> State:
    """Return the state after moving `current` to `target`, or raise IllegalTransition."""
    if target not in allowed_next(current):
        raise IllegalTransition(
            f"cannot move a training job from {current.value} to {target.value}"
        )
    return State(target)


def is_terminal(secondary: Secondary) -> bool:
    return secondary in TERMINAL
