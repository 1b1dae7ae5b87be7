"""Fixtures shared by unit-test modules."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from orchestrator.local import Orchestrator
from tests.unit.harness import Harness


@pytest.fixture
def orch(h: Harness) -> Iterator[Orchestrator]:
    """The Python API over the module's harness `h` (its store, fake runtime and fake clock)."""
    made = Orchestrator(h.settings, runtime=h.runtime, objects=h.objects, clock=h.clock)
    yield made
    made.close()
