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
    +-- StorageFailure                  channel download or artifact upload failed

API errors are what clients see; runtime and storage failures become a job's FailureReason.
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


class StorageFailure(OrchestratorError):
    """Reading a channel or writing an artifact failed; the message names the path."""


def training_job_not_found(name: str) -> ValidationError:
    """The real service answers a missing training job with a ValidationException."""
    return ValidationError(f"Requested resource not found. (TrainingJob {name!r})")
