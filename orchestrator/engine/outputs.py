"""What a finished container leaves to upload: /opt/ml/model and /opt/ml/output/data."""

from __future__ import annotations

import tempfile
from pathlib import Path

from orchestrator.engine.workspace import Workspace, archive_merged
from orchestrator.errors import StorageFailure
from orchestrator.spec import JobSpec
from orchestrator.storage.protocol import ObjectStore


def output_prefix(spec: JobSpec) -> str:
    """<S3OutputPath>/<job>/output, where SageMaker puts model.tar.gz and output.tar.gz."""
    return f"{spec.output_path.rstrip('/')}/{spec.name}/output"


def upload_artifacts(objects: ObjectStore, spec: JobSpec, workspaces: list[Workspace]) -> str:
    """Upload /opt/ml/model and /opt/ml/output/data of every host, each merged into one
    archive; return the S3ModelArtifacts URI.

    The developer guide ("How Amazon SageMaker processes training output"): if several
    containers write to these directories "they should ensure no file/directory names clash.
    SageMaker aggregates the result in a TAR file and uploads to S3". What wins a clash is not
    documented; here algo-1's file does (the host frameworks treat as the leader)."""
    prefix = output_prefix(spec)
    with tempfile.TemporaryDirectory(prefix="orchestrator-upload-") as scratch:
        outputs = [w.output_data_dir for w in workspaces]
        output_tar = archive_merged(outputs, Path(scratch) / "output.tar.gz")
        objects.upload_file(output_tar, f"{prefix}/output.tar.gz")
        models = [w.model_dir for w in workspaces]
        if not spec.compress_model:
            for model in reversed(models):  # algo-1 last: its files win
                objects.upload_tree(model, f"{prefix}/model")
            return f"{prefix}/model/"
        model_tar = archive_merged(models, Path(scratch) / "model.tar.gz")
        objects.upload_file(model_tar, f"{prefix}/model.tar.gz")
    return f"{prefix}/model.tar.gz"


def upload_outputs(objects: ObjectStore, spec: JobSpec, workspaces: list[Workspace]) -> None:
    """A processing job's EndOfJob outputs: each host's LocalPath below the output's S3Uri
    (developer guide, "How Amazon SageMaker AI Provides Input and Output for Processing": hosts
    should write distinct file names; on a clash algo-1's file wins here). Continuous outputs
    were uploaded as they appeared, their last changes flushed before this. Uploaded whatever
    the outcome, as a training job's artifacts are: the sources do not say, and a failed job's
    partial output helps find why."""
    for output in spec.outputs:
        if output.upload_mode != "EndOfJob":
            continue
        for workspace in reversed(workspaces):  # algo-1 last: its files win
            folder = workspace.in_container(output.local_path)
            if folder.is_dir():
                objects.upload_tree(folder, output.uri)


def upload_results(objects: ObjectStore, spec: JobSpec, workspaces: list[Workspace]) -> str | None:
    """A training job's artifacts (their URI), or a processing job's EndOfJob outputs. A
    failure keeps its class: an outage is retried, bad data is not."""
    what = "processing outputs" if spec.processing else "training artifacts"
    try:
        if spec.processing:
            upload_outputs(objects, spec, workspaces)
            return None
        return upload_artifacts(objects, spec, workspaces)
    except StorageFailure as exc:
        raise type(exc)(f"could not upload the {what}: {exc}") from exc
