"""Outputs SageMaker uploads while a job trains, beyond checkpoints: TensorBoard data
(TensorBoardOutputConfig: LocalPath to S3OutputPath) and `/opt/ml/output/intermediate` (to
`<S3OutputPath>/<job>/output/intermediate`, developer guide, "How Amazon SageMaker AI Processes
Training Output"). Both ride on the checkpoint sync (inotify plus a rescan, the last changes
uploaded at the end), upload only: nothing is restored, and nothing in S3 is deleted.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from orchestrator.engine.context import EngineContext
from orchestrator.engine.outputs import output_prefix
from orchestrator.engine.workspace import Workspace
from orchestrator.errors import StorageFailure
from orchestrator.runtime.protocol import Mount
from orchestrator.spec import JobSpec

if TYPE_CHECKING:
    from orchestrator.engine.checkpoints import CheckpointSync

OPT_ML = "/opt/ml/"
WHAT = {"tensorboard": "TensorBoard output", "intermediate": "intermediate output"}
log = logging.getLogger(__name__)


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
    """The uploads of one host: TensorBoard watched from the start when configured; the
    intermediate folder watched once something appears in it (looked at every poll, one
    directory read), so a job that writes none pays nothing: no watcher, no thread, and no
    watchdog import on `orchestrator run`'s path."""

    def __init__(self, ctx: EngineContext, spec: JobSpec, workspace: Workspace) -> None:
        self.ctx = ctx
        self.workspace = workspace
        self.targets: dict[str, tuple[Path, str]] = {}
        self.eager: list[str] = []  # watched from the start; the others once they fill
        if spec.processing:  # S3UploadMode Continuous: uploaded as files appear
            for output in spec.outputs:
                if output.upload_mode == "Continuous":
                    name = f"output {output.name}"
                    self.targets[name] = (workspace.in_container(output.local_path), output.uri)
                    self.eager.append(name)
        else:
            self.targets["intermediate"] = (
                workspace.root / "output" / "intermediate",
                f"{output_prefix(spec)}/intermediate",
            )
        board = tensorboard_dir(spec, workspace)
        if spec.tensorboard is not None and board is not None:
            self.targets["tensorboard"] = (board, spec.tensorboard.s3_uri)
            self.eager.append("tensorboard")
        self.syncs: dict[str, CheckpointSync] = {}
        self.resume = False

    def _sync(self, name: str) -> CheckpointSync:
        if name not in self.syncs:
            from orchestrator.engine.checkpoints import CheckpointSync  # watchdog: only here

            folder, uri = self.targets[name]
            self.syncs[name] = CheckpointSync(
                folder,
                uri,
                self.ctx.objects,
                scan_seconds=self.ctx.settings.checkpoint_scan_seconds,
                mirror_deletes=False,
                what=WHAT.get(name, name),
            ).start(self.resume)
        return self.syncs[name]

    @property
    def failure(self) -> StorageFailure | None:
        return next((s.failure for s in self.syncs.values() if s.failure), None)

    def start(self, resume: bool) -> None:
        """`resume`: an adopting engine, which compares with what S3 holds already."""
        self.resume = resume
        for name in self.eager:
            self._sync(name)
        self.check()

    def check(self) -> None:
        """Start watching the intermediate folder once something is in it."""
        if "intermediate" in self.syncs or "intermediate" not in self.targets:
            return
        folder = self.targets["intermediate"][0]
        with contextlib.suppress(OSError), os.scandir(folder) as entries:
            if next(entries, None) is not None:
                try:
                    self._sync("intermediate")
                except StorageFailure as exc:  # asked again at the next poll, and at the end
                    log.warning("intermediate output of %s: %s", self.workspace.host, exc)

    def finish(self) -> None:
        self.check()  # written at the very end: still uploaded
        for sync in self.syncs.values():
            sync.finish()

    def abandon(self) -> None:
        for sync in self.syncs.values():
            sync.abandon()

    def remove(self) -> None:
        """A TensorBoard folder kept beside /opt/ml goes with the attempt."""
        for folder, _ in self.targets.values():
            if not folder.is_relative_to(self.workspace.root):
                shutil.rmtree(folder, ignore_errors=True)
