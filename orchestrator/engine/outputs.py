"""What a finished container leaves to upload: /opt/ml/model and /opt/ml/output/data."""

from __future__ import annotations

import tempfile
from pathlib import Path

from orchestrator.engine.workspace import Workspace
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
