"""CreateProcessingJob: the model's constraints, the cross-field rules, and what runs here.

The API reference (ProcessingS3Input.LocalPath, ProcessingS3Output.LocalPath): a LocalPath "must
begin with /opt/ml/processing/"; it is required unless AppManaged. Inputs and outputs are named
uniquely within the job. Features that would change how a job runs but are not built are
refused by name.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from typing import Any

from orchestrator.instances import known
from orchestrator.validation.model import raise_for_errors, shape_errors

NOT_YET = "is not supported by this orchestrator yet"
ROOT = "/opt/ml/processing"

Request = Mapping[str, Any]


def validate_create_processing_job(request: Request) -> None:
    """Raise ValidationException listing every problem with a CreateProcessingJob request."""
    raise_for_errors(shape_errors(request, "CreateProcessingJobRequest"))
    raise_for_errors(_rule_errors(request))


def _rule_errors(request: Request) -> list[str]:
    cluster = request["ProcessingResources"]["ClusterConfig"]
    errors: list[str] = []
    if not known(cluster["InstanceType"]):
        errors.append(
            f"ProcessingResources.ClusterConfig.InstanceType {cluster['InstanceType']!r} is not"
            " an instance type this orchestrator knows"
        )
    inputs = request.get("ProcessingInputs") or []
    outputs = (request.get("ProcessingOutputConfig") or {}).get("Outputs") or []
    errors += _unique("ProcessingInputs", "InputName", inputs)
    errors += _unique("ProcessingOutputConfig.Outputs", "OutputName", outputs)
    for index, item in enumerate(inputs):
        errors += _input_errors(item, f"ProcessingInputs[{index}] ({item.get('InputName')!r})")
    for index, item in enumerate(outputs):
        where = f"ProcessingOutputConfig.Outputs[{index}] ({item.get('OutputName')!r})"
        errors += _output_errors(item, where)
    errors += _overlapping_paths(inputs, outputs)
    return errors


def _unique(where: str, key: str, items: list[Mapping[str, Any]]) -> list[str]:
    seen: set[str] = set()
    errors = []
    for item in items:
        name = item.get(key)
        if name in seen:
            errors.append(f"{where}: {key} {name!r} is used more than once")
        seen.add(str(name))
    return errors


def _input_errors(item: Mapping[str, Any], where: str) -> list[str]:
    s3, dataset = item.get("S3Input"), item.get("DatasetDefinition")
    if dataset:
        return [f"{where}: DatasetDefinition (Athena, Redshift) {NOT_YET}; use S3Input"]
    if not s3:
        return [f"{where}: give S3Input"]
    errors = _local_path_errors(s3.get("LocalPath"), f"{where}: S3Input.LocalPath", item)
    errors += _uri_errors(str(s3.get("S3Uri", "")), f"{where}: S3Input.S3Uri")
    if s3.get("S3InputMode") == "Pipe":
        errors.append(f"{where}: S3InputMode Pipe {NOT_YET} for processing; use File")
    if s3.get("S3CompressionType") == "Gzip":
        errors.append(
            f"{where}: S3CompressionType Gzip applies to Pipe input mode only; leave it None"
        )
    return errors


def _output_errors(item: Mapping[str, Any], where: str) -> list[str]:
    s3 = item.get("S3Output")
    if item.get("FeatureStoreOutput"):
        return [f"{where}: FeatureStoreOutput {NOT_YET}; use S3Output"]
    if not s3:
        return [f"{where}: give S3Output"]
    errors = _local_path_errors(s3.get("LocalPath"), f"{where}: S3Output.LocalPath", item)
    return errors + _uri_errors(str(s3.get("S3Uri", "")), f"{where}: S3Output.S3Uri")


def _local_path_errors(local: Any, field: str, item: Mapping[str, Any]) -> list[str]:
    if not local:
        return [] if item.get("AppManaged") else [f"{field} is required unless AppManaged"]
    text = str(local)
    if ".." in text.split("/"):
        return [f"{field} must not contain '..', got {text!r}"]
    path = posixpath.normpath(text)
    if not path.startswith(ROOT + "/"):
        return [f"{field} must begin with {ROOT}/, got {text!r}"]
    return []


def _uri_errors(uri: str, field: str) -> list[str]:
    if any(part == ".." for part in uri.split("://", 1)[-1].split("/")):
        return [f"{field} must not contain '..' path segments: {uri!r}"]
    return []


def _overlapping_paths(inputs: list[Any], outputs: list[Any]) -> list[str]:
    """Two inputs or outputs at one LocalPath, or one inside another, would overwrite or
    upload each other's files."""
    kinds = ((inputs, "S3Input", "InputName"), (outputs, "S3Output", "OutputName"))
    paths = [
        (str(item.get(key)), posixpath.normpath(str(s3["LocalPath"])))
        for items, kind, key in kinds
        for item in items
        if (s3 := item.get(kind)) and s3.get("LocalPath")
    ]
    errors = []
    for i, (name, path) in enumerate(paths):
        for other, other_path in paths[i + 1 :]:
            if posixpath.commonpath([path, other_path]) in (path, other_path):
                errors.append(
                    f"the LocalPaths of {name!r} ({path}) and {other!r} ({other_path}) overlap"
                )
    return errors
