"""A pytest session's private stores, and what it leaves behind.

Every store a session makes lives in one folder, `<base>/session-<pid>-<random>`, with the
pytest process's pid in it. Containers and networks carry their store's path as a label, and
images the session built carry the session's name: at the end of the session all of it is
removed (unless kept for debugging), and a session that was killed before it could clean up is
reaped by the next one, once its pid is gone.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from orchestrator.runtime.protocol import LABEL_STORE

if TYPE_CHECKING:
    from orchestrator.runtime.docker import DockerRuntime

LABEL_SESSION = "orchestrator.testing.session"
PID_FILE = "pid"
KEPT = "kept"
DATABASE = "orchestrator.db"


def default_base() -> Path:
    return Path(tempfile.gettempdir()) / "orchestrator-pytest"


class TestSession:
    """The folder of one pytest session's stores."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    def __init__(self, base: Path) -> None:
        self.base = base
        self.name = f"session-{os.getpid()}-{secrets.token_hex(3)}"
        self.root = base / self.name
        self.root.mkdir(parents=True)
        (self.root / PID_FILE).write_text(str(os.getpid()))
        self._homes = 0

    def new_home(self, label: str) -> Path:
        """A fresh ORCHESTRATOR_HOME for one store of this session."""
        self._homes += 1
        safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in label)[:40]
        return self.root / f"{self._homes:03d}-{safe}"

    def clean(self, runtime: DockerRuntime | None, keep: bool) -> None:
        if runtime is not None:
            reap(self.root, runtime)
        if keep:  # the files stay for debugging; no later session reaps them
            (self.root / KEPT).write_text("kept with --orchestrator-keep\n")
        else:
            shutil.rmtree(self.root, ignore_errors=True)


def stores_under(root: Path) -> list[Path]:
    """The database paths of the stores in a session folder: the label their containers have."""
    return sorted(root.glob(f"*/{DATABASE}"))


def reap(root: Path, runtime: DockerRuntime) -> int:
    """Remove the containers, networks and images of the session in `root`."""
    removed = sum(reap_store(runtime, database) for database in stores_under(root))
    return removed + runtime.remove_images({LABEL_SESSION: root.name})


def reap_store(runtime: DockerRuntime, database: Path) -> int:
    """Remove one store's containers, then its networks (labelled with its database path)."""
    removed = 0
    labels = {LABEL_STORE: str(database)}
    for container in runtime.find(labels):
        with contextlib.suppress(Exception):  # gone meanwhile
            runtime.remove(container.id)
            removed += 1
    for network in runtime.find_networks(labels):
        with contextlib.suppress(Exception):
            runtime.remove_network(network.id)
            removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def reap_dead_sessions(base: Path, runtime: DockerRuntime | None) -> list[str]:
    """Sessions under `base` whose pytest process is gone (killed before its clean-up): their
    Docker leftovers and folders removed; their names."""
    reaped = []
    for folder in sorted(base.glob("session-*")) if base.is_dir() else []:
        try:
            pid = int((folder / PID_FILE).read_text())
        except (OSError, ValueError):
            continue
        if pid == os.getpid() or _alive(pid) or (folder / KEPT).exists():
            continue
        if runtime is not None:
            reap(folder, runtime)
        shutil.rmtree(folder, ignore_errors=True)
        reaped.append(folder.name)
    return reaped
