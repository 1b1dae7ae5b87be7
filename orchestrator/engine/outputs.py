"""What a finished container leaves: artifacts to upload and a reason when it failed."""

from __future__ import annotations

import tempfile
from pathlib import Path

from orchestrator.engine.workspace import Workspace
from orchestrator.runtime.protocol import ExitStatus
from orchestrator.spec import JobSpec
from orchestrator.storage.protocol import ObjectStore


def output_prefix(spec: JobSpec) -> str:
    """<S3OutputPath>/<job>/output, where SageMaker puts model.tar.gz and output.tar.gz."""
    return f"{spec.output_path.rstrip('/')}/{spec.name}/output"


def upload_artifacts(objects: ObjectStore, spec: JobSpec, workspace: Workspace) -> str:
    """Upload /opt/ml/model and /opt/ml/output/data; return the S3ModelArtifacts URI."""
    prefix = output_prefix(spec)
    with tempfile.TemporaryDirectory(prefix="orchestrator-upload-") as scratch:
        output_tar = workspace.archive(workspace.output_data_dir, Path(scratch) / "output.tar.gz")
        objects.upload_file(output_tar, f"{prefix}/output.tar.gz")
        if not spec.compress_model:
            objects.upload_tree(workspace.model_dir, f"{prefix}/model")
            return f"{prefix}/model/"
        model_tar = workspace.archive(workspace.model_dir, Path(scratch) / "model.tar.gz")
        objects.upload_file(model_tar, f"{prefix}/model.tar.gz")
    return f"{prefix}/model.tar.gz"


def describe_exit(status: ExitStatus) -> str:
    """FailureReason for a container that failed without writing /opt/ml/output/failure."""
    if status.oom_killed:
        return (
            f"AlgorithmError: the training container ran out of memory and was killed"
            f" (exit code {status.code}, OOMKilled)"
        )
    if status.code > 128:
        return (
            f"AlgorithmError: the training container was killed by signal {status.code - 128}"
            f" (exit code {status.code})"
        )
    return f"AlgorithmError: the training container exited with code {status.code}"
