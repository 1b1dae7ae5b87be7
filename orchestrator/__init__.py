"""orchestrator: run Amazon SageMaker training jobs for real, in local Docker containers."""

from orchestrator.config import Settings, settings_from_env
from orchestrator.errors import (
    ApiError,
    OrchestratorError,
    ResourceInUse,
    ResourceNotFound,
    ValidationError,
)
from orchestrator.local import Orchestrator

__all__ = [
    "ApiError",
    "Orchestrator",
    "OrchestratorError",
    "ResourceInUse",
    "ResourceNotFound",
    "Settings",
    "ValidationError",
    "settings_from_env",
]
