"""One classification of failures: which class, what reason, retried or not."""

from __future__ import annotations

import pytest

from orchestrator.errors import (
    ContainerGone,
    ContainerRejected,
    ImageNotFound,
    InjectedFault,
    NoCapacity,
    RuntimeFailure,
    StorageFailure,
    StorageUnavailable,
)
from orchestrator.failures import FailureKind, from_exception, from_exit
from orchestrator.lifecycle import IllegalTransition
from orchestrator.runtime.protocol import ExitStatus


@pytest.mark.parametrize(
    ("exc", "kind", "retryable"),
    [
        (ImageNotFound("image 'x' is not on this Docker engine"), FailureKind.CLIENT, False),
        (StorageFailure("no objects found under 's3://b/p'"), FailureKind.CLIENT, False),
        (StorageUnavailable("the store did not answer"), FailureKind.INTERNAL, True),
        (ContainerGone("docker wait: the container is gone"), FailureKind.INTERNAL, True),
        (ContainerRejected("the Docker engine refused to start"), FailureKind.CLIENT, False),
        (IllegalTransition("job x is Completed, expected Training"), FailureKind.INTERNAL, False),
        (RuntimeFailure("docker create failed: 500"), FailureKind.INTERNAL, True),
        (InjectedFault("an injected internal-error fault"), FailureKind.INTERNAL, True),
        (NoCapacity("the job needs 8 vCPUs"), FailureKind.CAPACITY, False),
        (KeyError("surprise"), FailureKind.INTERNAL, True),
    ],
)
def test_exceptions_by_class(exc: Exception, kind: FailureKind, retryable: bool) -> None:
    failure = from_exception(exc)
    assert (failure.kind, failure.retryable) == (kind, retryable)
    assert failure.reason.startswith(f"{kind.value}: ")


def test_an_unexpected_exception_names_its_type() -> None:
    assert from_exception(KeyError("k")).reason == "InternalServerError: KeyError: 'k'"


def test_the_failure_file_is_the_algorithm_error_cut_at_1024_characters() -> None:
    failure = from_exit(ExitStatus(2), "bad input: " + "x" * 2000)
    assert failure.kind is FailureKind.ALGORITHM and not failure.retryable
    assert failure.reason.startswith("AlgorithmError: bad input: ")
    assert len(failure.reason) == 1024


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (ExitStatus(3), "the training container exited with code 3"),
        (ExitStatus(137), "the training container was killed by signal 9 (exit code 137)"),
        (
            ExitStatus(137, oom_killed=True),
            "the training container ran out of memory and was killed (exit code 137, OOMKilled)",
        ),
    ],
)
def test_exit_statuses_without_a_failure_file(status: ExitStatus, message: str) -> None:
    assert from_exit(status, None).reason == f"AlgorithmError: {message}"
