"""orchestrator: run Amazon SageMaker training jobs for real, in local Docker containers.

The names below load on first use, so `import orchestrator.lifecycle` (or any one module)
does not pull in the engine, the store and the HTTP layer with it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from orchestrator.config import Settings, settings_from_env
    from orchestrator.errors import (
        ApiError,
        OrchestratorError,
        ResourceInUse,
        ResourceNotFound,
        ValidationError,
    )
    from orchestrator.local import Orchestrator

_HOMES = {
    "ApiError": "orchestrator.errors",
    "Orchestrator": "orchestrator.local",
    "OrchestratorError": "orchestrator.errors",
    "ResourceInUse": "orchestrator.errors",
    "ResourceNotFound": "orchestrator.errors",
    "Settings": "orchestrator.config",
    "ValidationError": "orchestrator.errors",
    "settings_from_env": "orchestrator.config",
}

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


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'orchestrator' has no attribute {name!r}")
    value = getattr(importlib.import_module(_HOMES[name]), name)
    globals()[name] = value
    return value
