"""The examples the docs point at run as pasted."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from orchestrator import Settings
from tests.integration.conftest import leftover_containers

pytestmark = pytest.mark.docker
ROOT = Path(__file__).resolve().parents[2]


def test_the_model_quality_walkthrough(tmp_path: Path, docker_client: Any) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "ORCHESTRATOR_HOME": str(home)}
    script = ROOT / "examples" / "model-quality" / "walkthrough.py"
    try:
        done = subprocess.run(
            [sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=600
        )
    finally:
        for container in leftover_containers(docker_client, Settings(home=home)):
            container.remove(force=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "execution: CompletedWithViolations" in done.stdout
    assert "violated: Metric accuracy with" in done.stdout
