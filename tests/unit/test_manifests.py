"""ManifestFile channels: the manifest's form, its entries, and a job that reads one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from orchestrator.engine.manifests import download_manifest, parse_manifest
from orchestrator.errors import StorageFailure
from orchestrator.storage.local import LocalObjectStore
from tests.unit.harness import Harness, request

MANIFEST = [{"prefix": "s3://data/images/"}, "cats/1.jpg", "dogs/2.jpg", "3.jpg"]


def test_entries_are_the_prefix_joined_with_each_relative_path() -> None:
    assert parse_manifest(json.dumps(MANIFEST), "s3://data/manifest") == [
        ("s3://data/images/cats/1.jpg", "cats/1.jpg"),
        ("s3://data/images/dogs/2.jpg", "dogs/2.jpg"),
        ("s3://data/images/3.jpg", "3.jpg"),
    ]


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("not json", "not JSON"),
        (json.dumps(["a", "b"]), "a manifest is"),
        (json.dumps([{"prefix": "s3://b/"}, 3]), "a manifest is"),
        (json.dumps([{"prefix": "http://x/"}, "a"]), "is not an s3:// URI"),
        (json.dumps([{"prefix": "s3://data/p/"}, "../../escape"]), "outside the channel"),
        (json.dumps([{"prefix": "s3://other/p/"}, "a"]), "objects in another bucket"),
        (json.dumps([{"prefix": "file:///etc/"}, "passwd"]), "is not an s3:// URI"),
    ],
)
def test_anything_else_is_refused_clearly(text: str, rule: str) -> None:
    with pytest.raises(StorageFailure, match=rule):
        parse_manifest(text, "s3://data/manifest")


def _store(tmp_path: Path) -> LocalObjectStore:
    objects = LocalObjectStore(tmp_path / "s3")
    for key in ("cats/1.jpg", "dogs/2.jpg", "3.jpg"):
        path = tmp_path / "s3" / "data" / "images" / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(key)
    manifest = tmp_path / "s3" / "data" / "train.manifest"
    manifest.write_text(json.dumps(MANIFEST))
    return objects


def test_a_share_of_the_listed_objects(tmp_path: Path) -> None:
    objects = _store(tmp_path)
    assert download_manifest(objects, "s3://data/train.manifest", tmp_path / "a", (0, 2)) == 2
    assert sorted(p.name for p in (tmp_path / "a").rglob("*.jpg")) == ["1.jpg", "3.jpg"]


def test_a_job_reads_a_manifest_channel(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    _store(h.settings.home)  # the harness's store root is <home>/s3
    seen: list[str] = []
    h.program(
        "fake/look:latest",
        duration=5,
        on_start=lambda opt_ml: seen.extend(
            sorted(
                str(p.relative_to(opt_ml / "input/data/train"))
                for p in (opt_ml / "input/data/train").rglob("*.jpg")
            )
        ),
    )
    source = {"S3DataType": "ManifestFile", "S3Uri": "s3://data/train.manifest"}
    channel = {"ChannelName": "train", "DataSource": {"S3DataSource": source}}
    algorithm = {"TrainingImage": "fake/look:latest", "TrainingInputMode": "File"}
    h.run(request(InputDataConfig=[channel], AlgorithmSpecification=algorithm))
    assert h.store.require("job-1").status == "Completed"
    assert seen == ["3.jpg", "cats/1.jpg", "dogs/2.jpg"]
