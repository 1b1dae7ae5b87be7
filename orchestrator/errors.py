"""The one exception tree of the orchestrator.

    OrchestratorError                   root: everything we raise on purpose
    +-- ApiError                        answered to a client: carries `code` and `http_status`
    |   +-- ValidationError             ValidationException (bad input, missing training job)
    |   +-- ResourceNotFound            ResourceNotFound
    |   +-- ResourceInUse               ResourceInUse (duplicate name)
    |   +-- ResourceLimitExceeded       ResourceLimitExceeded
    |   +-- ConflictError               ConflictException
    |   +-- ProtocolError               any other code: bad wire format, auth, Logs errors
    +-- RuntimeFailure                  the container runtime could not do what was asked
    |   +-- ImageNotFound               the training image is not on this Docker engine
    |   +-- ContainerGone               a training container vanished (a lost instance)
    |   +-- ContainerRejected           the engine refused the container (bad entrypoint, mount)
    +-- StorageFailure                  channel download or artifact upload failed
    |   +-- StorageUnavailable          the store did not answer, even after retries
    +-- NoCapacity                      the job can never be placed on this host
    +-- InjectedFault                   a fault injected on purpose (`orchestrator fault`)

API errors are what clients see; the others become a job's FailureReason through the one
classification in failures.py.
"""

from __future__ import annotations


class OrchestratorError(Exception):
    """Root of every error the orchestrator raises on purpose."""


class ApiError(OrchestratorError):
    """An error answered to a client, shaped like the SageMaker API's."""

    code = "InternalFailure"
    http_status = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(ApiError):
    code = "ValidationException"
    http_status = 400


class ResourceNotFound(ApiError):
    code = "ResourceNotFound"
    http_status = 400


class ResourceInUse(ApiError):
    code = "ResourceInUse"
    http_status = 400


class ResourceLimitExceeded(ApiError):
    code = "ResourceLimitExceeded"
    http_status = 400


class ConflictError(ApiError):
    code = "ConflictException"
    http_status = 400


class ProtocolError(ApiError):
    """An error whose code and status are chosen where it is raised (wire, auth, Logs API)."""

    def __init__(self, code: str, message: str, http_status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.http_status = http_status


class RuntimeFailure(OrchestratorError):
    """The container runtime failed; the message names the job, host and cause."""


class ImageNotFound(RuntimeFailure):
    """The training image does not exist on the engine (and none can be pulled)."""


class ContainerGone(RuntimeFailure):
    """The container disappeared without an exit status (removed from outside, engine lost)."""


class ContainerRejected(RuntimeFailure):
    """Docker refused to create or start the container as asked (a 4xx): the request's fault."""


class GpuRuntimeMissing(ContainerRejected):
    """Docker could not give the container its GPUs: no NVIDIA container runtime is set up."""


class HostMisconfigured(OrchestratorError):
    """The host's settings cannot run the job as asked (e.g. ORCHESTRATOR_GPUS names a GPU the
    host does not have); the message says which setting to change."""


class StorageFailure(OrchestratorError):
    """Reading a channel or writing an artifact failed; the message names the path."""


class StorageUnavailable(StorageFailure):
    """The object store itself failed (an outage, not a missing object), after retries."""


class NoCapacity(OrchestratorError):
    """The job asks for more than this host's capacity can ever offer."""


class InjectedFault(OrchestratorError):
    """A platform fault injected on purpose, to exercise retries and recovery."""


def training_job_not_found(name: str) -> ValidationError:
    """The real service answers a missing training job with a ValidationException."""
    return ValidationError(f"Requested resource not found. (TrainingJob {name!r})")
