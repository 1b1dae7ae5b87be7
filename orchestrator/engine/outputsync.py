"""Outputs SageMaker uploads while a job trains, beyond checkpoints: TensorBoard data
(TensorBoardOutputConfig: LocalPath to S3OutputPath) and `/opt/ml/output/intermediate` (to
`<S3OutputPath>/<job>/output/intermediate`, developer guide, "How Amazon SageMaker AI Processes
Training Output"). Both ride on the checkpoint sync (inotify plus a rescan, the last changes
uploaded at the end), upload only: nothing is restored, and nothing in S3 is deleted.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from orchestrator.engine.context import EngineContext
from orchestrator.engine.outputs import output_prefix
from orchestrator.engine.workspace import Workspace
from orchestrator.runtime.protocol import Mount
from orchestrator.spec import JobSpec

if TYPE_CHECKING:
    from orchestrator.engine.checkpoints import CheckpointSync

OPT_ML = "/opt/ml/"


def tensorboard_dir(spec: JobSpec, workspace: Workspace) -> Path | None:
    """Where the host's TensorBoard LocalPath lives on this machine: inside its /opt/ml when
    LocalPath is there, else a folder beside it, mounted at LocalPath."""
    if spec.tensorboard is None:
        return None
    local = spec.tensorboard.local_path
    if local.startswith(OPT_ML):
        return workspace.root / local[len(OPT_ML) :]
    return workspace.root.parent / f"{workspace.host}.tensorboard"


def tensorboard_mounts(spec: JobSpec, workspace: Workspace) -> list[Mount]:
    folder = tensorboard_dir(spec, workspace)
    if spec.tensorboard is None or folder is None or spec.tensorboard.local_path.startswith(OPT_ML):
        return []
    folder.mkdir(parents=True, exist_ok=True)
    return [Mount(folder, spec.tensorboard.local_path)]


class OutputSyncs:
    """The uploads of one host: started with the container, finished after it."""

    def __init__(self, ctx: EngineContext, spec: JobSpec, workspace: Workspace) -> None:
        from orchestrator.engine.checkpoints import CheckpointSync  # watchdog: only here

        self.workspace = workspace
        pairs: list[tuple[Path, str]] = [
            (workspace.root / "output" / "intermediate", f"{output_prefix(spec)}/intermediate")
        ]
        board = tensorboard_dir(spec, workspace)
        if spec.tensorboard is not None and board is not None:
            pairs.append((board, spec.tensorboard.s3_uri))
        self.syncs: list[CheckpointSync] = [
            CheckpointSync(
                folder,
                uri,
                ctx.objects,
                scan_seconds=ctx.settings.checkpoint_scan_seconds,
                mirror_deletes=False,
            )
            for folder, uri in pairs
        ]

    @property
    def error(self) -> str | None:
        return next((s.error for s in self.syncs if s.error), None)

    def start(self, resume: bool) -> None:
        """`resume`: an adopting engine, which compares with what S3 holds already."""
        for sync in self.syncs:
            sync.start(resume)

    def finish(self) -> None:
        for sync in self.syncs:
            sync.finish()

    def abandon(self) -> None:
        for sync in self.syncs:
            sync.abandon()

    def remove(self) -> None:
        """A TensorBoard folder kept beside /opt/ml goes with the attempt."""
        for sync in self.syncs:
            if not sync.local_dir.is_relative_to(self.workspace.root):
                shutil.rmtree(sync.local_dir, ignore_errors=True)
