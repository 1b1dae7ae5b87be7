"""The /opt/ml directory of one host: config files in, artifacts and failure reason out."""

from __future__ import annotations

import json
import os
import posixpath
import shutil
import tarfile
from pathlib import Path
from typing import Any

from orchestrator.spec import ChannelSpec, JobSpec

FAILURE_REASON_LIMIT = 1024


class Workspace:
    """Host-side layout of /opt/ml for one host of one job; removed when the job ends."""

    def __init__(self, root: Path, host: str = "algo-1", processing: bool = False) -> None:
        self.root = root
        self.host = host
        self.processing = processing  # a processing job's /opt/ml (processing_spec.py)

    def in_container(self, path: str) -> Path:
        """The host side of a container path under /opt/ml (validated to be there)."""
        return self.root / posixpath.relpath(path, "/opt/ml")

    def input_dir(self, channel: ChannelSpec) -> Path:
        return self.in_container(channel.container_path)

    @property
    def config_dir(self) -> Path:
        return self.root / "input" / "config"

    def channel_dir(self, channel: str) -> Path:
        return self.root / "input" / "data" / channel

    @property
    def model_dir(self) -> Path:
        return self.root / "model"

    @property
    def output_data_dir(self) -> Path:
        return self.root / "output" / "data"

    @property
    def failure_file(self) -> Path:
        """Why it failed: /opt/ml/output/failure; a processing job's /opt/ml/output/message
        (its ExitMessage, whatever the outcome)."""
        return self.root / "output" / ("message" if self.processing else "failure")

    def create(self, spec: JobSpec) -> None:
        """Lay out the directories and the three config files the container reads."""
        if spec.processing:
            self._create_processing(spec)
            return
        for directory in (
            self.config_dir,
            self.model_dir,
            self.output_data_dir,
            self.root / "checkpoints",
            self.root / "output" / "intermediate",
        ):
            directory.mkdir(parents=True, exist_ok=True)
        for channel in channels_of(spec, self.host):
            if channel.input_mode == "Pipe":  # FIFOs <channel>_<epoch> instead (pipes.py)
                self.channel_dir(channel.name).parent.mkdir(parents=True, exist_ok=True)
            else:
                self.channel_dir(channel.name).mkdir(parents=True, exist_ok=True)
        self._write_json("hyperparameters.json", dict(spec.hyperparameters))
        self._write_json("resourceconfig.json", resource_config(spec, self.host))
        self._write_json("inputdataconfig.json", input_data_config(spec, self.host))
        if spec.tensorboard is not None:  # where smdebug and the SDK's helpers look for it
            self._write_json(
                "tensorboardoutputconfig.json",
                {"LocalPath": spec.tensorboard.local_path, "S3OutputPath": spec.tensorboard.s3_uri},
            )
        if spec.checkpoint is not None:  # as the platform writes it; frameworks read it
            self._write_json(
                "checkpointconfig.json",
                {"LocalPath": spec.checkpoint.local_path, "S3Uri": spec.checkpoint.s3_uri},
            )

    def _create_processing(self, spec: JobSpec) -> None:
        """/opt/ml/config/processingjobconfig.json (the job as created, with its ARN) and
        resourceconfig.json ({"current_host", "hosts"}), each input's and output's LocalPath,
        and /opt/ml/output for the message."""
        config = self.root / "config"
        for directory in (config, self.root / "output"):
            directory.mkdir(parents=True, exist_ok=True)
        for channel in channels_of(spec, self.host):
            self.input_dir(channel).mkdir(parents=True, exist_ok=True)
        for output in spec.outputs:
            self.in_container(output.local_path).mkdir(parents=True, exist_ok=True)
        hosts = sorted(h.name for h in spec.hosts)
        (config / "processingjobconfig.json").write_text(json.dumps(spec.document, indent=2))
        resources = {"current_host": self.host, "hosts": hosts}
        (config / "resourceconfig.json").write_text(json.dumps(resources, indent=2))

    @property
    def checkpoint_dir(self) -> Path:
        """The host side of CheckpointConfig.LocalPath: beside /opt/ml, mounted on its own, so
        it can be synced to the end after the container is gone, whatever LocalPath is."""
        return self.root.parent / f"{self.host}.checkpoints"

    def _write_json(self, name: str, content: Any) -> None:
        (self.config_dir / name).write_text(json.dumps(content, indent=2))

    def failure_reason(self) -> str | None:
        """First 1024 characters of /opt/ml/output/failure; a symlink is never followed."""
        try:
            fd = os.open(self.failure_file, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            return None
        with os.fdopen(fd, "rb") as handle:
            raw = handle.read(FAILURE_REASON_LIMIT * 4)
        text = raw.decode("utf-8", errors="replace").strip()
        return text[:FAILURE_REASON_LIMIT] or None

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def archive_merged(sources: list[Path], target: Path) -> Path:
    """One tar.gz of the contents of several directories (the hosts' /opt/ml/model, in host
    order); a path in more than one is taken from the first that has it. Symlinks are stored
    as links, never followed."""
    target.parent.mkdir(parents=True, exist_ok=True)
    chosen: dict[str, Path] = {}
    for source in sources:
        for path in _entries(source):
            chosen.setdefault(path.relative_to(source).as_posix(), path)
    with tarfile.open(target, "w:gz", compresslevel=6) as tar:
        for name in sorted(chosen):
            if _under_a_non_directory(name, chosen):
                continue  # a later host's `x/f` where an earlier host has a file `x`
            tar.add(chosen[name], arcname=name, recursive=False)
    return target


def _under_a_non_directory(name: str, chosen: dict[str, Path]) -> bool:
    parts = name.split("/")
    for depth in range(1, len(parts)):
        parent = chosen.get("/".join(parts[:depth]))
        if parent is not None and (parent.is_symlink() or not parent.is_dir()):
            return True
    return False


def _entries(root: Path) -> list[Path]:
    """Every file, link and directory below `root`, without following links."""
    if not root.is_dir() or root.is_symlink():
        return []
    found: list[Path] = []
    for directory, dirs, files in os.walk(root):
        base = Path(directory)
        found.extend(base / name for name in dirs + files)
    return found


def resource_config(spec: JobSpec, host: str) -> dict[str, Any]:
    """/opt/ml/input/config/resourceconfig.json of one host. `hosts` is "sorted
    lexicographically" (developer guide, "How Amazon SageMaker AI Runs Your Training Image"),
    so algo-10 comes before algo-2; each group lists its own hosts."""
    me = next(h for h in spec.hosts if h.name == host)
    return {
        "current_host": host,
        "current_instance_type": me.instance_type,
        "current_group_name": me.group,
        "hosts": sorted(h.name for h in spec.hosts),
        "instance_groups": [
            {
                "instance_group_name": group.name,
                "instance_type": group.instance_type,
                "hosts": sorted(h.name for h in spec.hosts if h.group == group.name),
            }
            for group in spec.groups
        ],
        "network_interface_name": "eth0",
    }


def channels_of(spec: JobSpec, host: str) -> list[ChannelSpec]:
    """The channels this host gets: all, but for those whose InstanceGroupNames leave out
    its group (a heterogeneous cluster)."""
    group = next(h.group for h in spec.hosts if h.name == host)
    return [channel for channel in spec.channels if channel.reaches(group)]


def input_data_config(spec: JobSpec, host: str) -> dict[str, dict[str, str]]:
    config: dict[str, dict[str, str]] = {}
    for channel in channels_of(spec, host):
        entry = {
            "TrainingInputMode": channel.input_mode,
            "S3DistributionType": channel.distribution,
            "RecordWrapperType": channel.record_wrapper or "None",
        }
        if channel.content_type:
            entry["ContentType"] = channel.content_type
        config[channel.name] = entry
    return config
