"""Why an attempt failed, decided in one place: exception or exit status -> a Failure.

SageMaker's FailureReason starts with the failure's class, and clients depend on it (the
SageMaker SDK raises `CapacityError` when the reason contains "CapacityError"):

    AlgorithmError       the training code: its failure file, or its exit code     never retried
    ClientError          the request's resources: a missing image or channel;      never retried
                         a host that cannot give the job its GPUs
    CapacityError        the job can never be placed on this host                  never retried
    InternalServerError  the platform: Docker API errors, a vanished container,    retried under
                         a storage outage, a failed adoption, an injected fault    RetryStrategy
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from orchestrator.errors import (
    ContainerGone,
    ContainerRejected,
    HostMisconfigured,
    ImageNotFound,
    InjectedFault,
    NoCapacity,
    RuntimeFailure,
    StorageFailure,
    StorageUnavailable,
)
from orchestrator.lifecycle import IllegalTransition
from orchestrator.runtime.protocol import ExitStatus

REASON_LIMIT = 1024


class FailureKind(str, Enum):
    ALGORITHM = "AlgorithmError"
    CLIENT = "ClientError"
    CAPACITY = "CapacityError"
    INTERNAL = "InternalServerError"


@dataclass(frozen=True)
class Failure:
    kind: FailureKind
    message: str
    # Only the platform's own failures are worth another attempt; None: decided by the kind.
    retry: bool | None = None

    @property
    def retryable(self) -> bool:
        return self.kind is FailureKind.INTERNAL if self.retry is None else self.retry

    @property
    def reason(self) -> str:
        """FailureReason as the API shows it: the class, then what happened (1024 chars)."""
        return f"{self.kind.value}: {self.message}"[:REASON_LIMIT]


def from_exit(
    status: ExitStatus, failure_file: str | None, host: str | None = None, kind: str = "training"
) -> Failure:
    """A container that exited non-zero: its failure file says why, else its exit status.
    `host`: the host that failed, named when the job has several; `kind`: training or
    processing, as the message names the container."""
    if failure_file:
        return Failure(FailureKind.ALGORITHM, failure_file)
    container = f"the {kind} container of {host}" if host else f"the {kind} container"
    if status.oom_killed:
        message = (
            f"{container} ran out of memory and was killed (exit code {status.code}, OOMKilled)"
        )
    elif status.code > 128:
        message = f"{container} was killed by signal {status.code - 128} (exit code {status.code})"
    else:
        message = f"{container} exited with code {status.code}"
    return Failure(FailureKind.ALGORITHM, message)


# Most specific first: ImageNotFound and ContainerGone are RuntimeFailures, and
# StorageUnavailable is a StorageFailure, with other classes.
_BY_EXCEPTION: tuple[tuple[type[BaseException], FailureKind], ...] = (
    (ImageNotFound, FailureKind.CLIENT),
    (ContainerRejected, FailureKind.CLIENT),  # also a Docker without the NVIDIA runtime
    (HostMisconfigured, FailureKind.CLIENT),
    (ContainerGone, FailureKind.INTERNAL),
    (StorageUnavailable, FailureKind.INTERNAL),
    (StorageFailure, FailureKind.CLIENT),
    (NoCapacity, FailureKind.CAPACITY),
    (InjectedFault, FailureKind.INTERNAL),
    (RuntimeFailure, FailureKind.INTERNAL),
)


def from_exception(exc: BaseException) -> Failure:
    """An attempt that raised: our own errors by class; anything unexpected is the platform's."""
    for cls, kind in _BY_EXCEPTION:
        if isinstance(exc, cls):
            return Failure(kind, str(exc) or cls.__name__)
    # A move the state machine refuses means the job changed under us (another engine, a
    # bug): another attempt would act on a job it does not own. Fail instead.
    retry = not isinstance(exc, IllegalTransition)
    return Failure(FailureKind.INTERNAL, f"{type(exc).__name__}: {exc}", retry)
