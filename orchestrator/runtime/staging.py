"""How a Swarm host run on another node gets its mounts, and gives back what it wrote.

A node cannot see this machine's directories, so each host path a container mounts travels
through the object store (the S3 backend; ORCHESTRATOR_SWARM_STAGING names a prefix every
node reaches):

1. create: each mount's source is packed into a tar and uploaded under the staging prefix;
   a helper service (containers/swarm-helper) on the chosen node fetches the tars through
   presigned URLs into a folder of that node and notes what it wrote; the training service
   binds that folder's parts where the host paths would have been.
2. exit: the helper runs again, packs what the container added or changed in the writable
   mounts (model, output, checkpoints), uploads it through presigned PUT URLs and deletes
   the node's folder; the tars are unpacked over the host paths here, so the engine finds
   /opt/ml as a local container would have left it.

Presigned URLs keep credentials off the nodes: a helper can read or write exactly its own
objects, for a quarter of an hour. The helper needs only Python's standard library.
"""

from __future__ import annotations

import contextlib
import io
import json
import posixpath
import tarfile
import tempfile
from dataclasses import dataclass
from typing import Any

from orchestrator.runtime.protocol import Mount

HELPER_IMAGE = "orchestrator/swarm-helper:latest"
DEFAULT_NODE_DIR = "/var/lib/orchestrator-swarm"
URL_SECONDS = 900


@dataclass(frozen=True)
class StagedMount:
    """A mount as the node sees it: part `part` of the host run's folder there."""

    part: str
    mount: Mount

    @property
    def is_file(self) -> bool:
        return self.mount.source.is_file()

    def node_path(self, folder: str) -> str:
        """What the training service binds: the part, or the one file in it."""
        base = posixpath.join(folder, self.part)
        return posixpath.join(base, self.mount.source.name) if self.is_file else base


def staged(mounts: list[Mount]) -> list[StagedMount]:
    return [StagedMount(f"m{index}", mount) for index, mount in enumerate(mounts)]


def _split(uri: str) -> tuple[str, str]:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key.rstrip("/")


class Staging:
    """Tars of host runs' mounts under one S3 prefix, and the helper's plans for them.
    `client`: boto3's S3 client (the S3 object store's); `prefix`: s3://bucket/prefix."""

    def __init__(self, client: Any, prefix: str, node_dir: str = DEFAULT_NODE_DIR) -> None:
        self.client = client
        self.bucket, self.prefix = _split(prefix)
        self.node_dir = node_dir.rstrip("/")
        self._presigner: Any = None

    @property
    def presigner(self) -> Any:
        """The store's client, signing with SigV4: its presigned URLs sign only the host, so
        the helper's Content-Type is free (a SigV2 URL signs it, and real S3 then refuses)."""
        if self._presigner is None:
            import boto3
            from botocore.config import Config

            meta = self.client.meta
            self._presigner = boto3.client(
                "s3",
                endpoint_url=meta.endpoint_url,
                region_name=meta.region_name,
                config=meta.config.merge(Config(signature_version="s3v4")),
            )
        return self._presigner

    def folder(self, service: str) -> str:
        """The host run's folder on its node."""
        return posixpath.join(self.node_dir, service)

    @property
    def parent(self) -> str:
        """What the helper binds (at /parent): the folder above node_dir, which every node
        has, so the helper can make node_dir itself."""
        return posixpath.dirname(self.node_dir) or "/"

    def _in_parent(self, service: str) -> str:
        """The host run's folder as the helper sees it, below /parent."""
        return posixpath.relpath(self.folder(service), self.parent)

    def _key(self, service: str, name: str) -> str:
        return "/".join(p for p in (self.prefix, service, name) if p)

    def _url(self, method: str, service: str, name: str) -> str:
        return str(
            self.presigner.generate_presigned_url(
                method,
                Params={"Bucket": self.bucket, "Key": self._key(service, name)},
                ExpiresIn=URL_SECONDS,
            )
        )

    def upload(self, service: str, mounts: list[StagedMount]) -> None:
        """Each mount's source packed and uploaded (a missing source as an empty folder)."""
        for item in mounts:
            with tempfile.TemporaryFile() as packed:
                with tarfile.open(fileobj=packed, mode="w") as tar:
                    source = item.mount.source
                    if source.is_file():
                        tar.add(source, arcname=source.name)
                    elif source.is_dir():
                        tar.add(source, arcname=".")
                packed.seek(0)
                self.client.upload_fileobj(
                    packed, self.bucket, self._key(service, f"{item.part}.tar")
                )

    def fill_plan(self, service: str, mounts: list[StagedMount]) -> str:
        """The helper's orders to fetch every part into the node's folder."""
        fill = {m.part: self._url("get_object", service, f"{m.part}.tar") for m in mounts}
        return json.dumps({"folder": self._in_parent(service), "fill": fill})

    def drain_plan(self, service: str, mounts: list[StagedMount]) -> str:
        """The helper's orders to send back what changed in the writable parts, then clear
        the folder."""
        drain = {
            m.part: self._url("put_object", service, f"{m.part}.out.tar")
            for m in mounts
            if not m.mount.read_only
        }
        return json.dumps({"folder": self._in_parent(service), "drain": drain})

    def clear_plan(self, service: str) -> str:
        return json.dumps({"folder": self._in_parent(service)})

    def collect(self, service: str, mounts: list[StagedMount]) -> None:
        """Unpack what the helper sent back over the host paths."""
        for item in mounts:
            if item.mount.read_only:
                continue
            body = io.BytesIO()
            self.client.download_fileobj(
                self.bucket, self._key(service, f"{item.part}.out.tar"), body
            )
            body.seek(0)
            target = item.mount.source
            target = target.parent if item.is_file else target
            target.mkdir(parents=True, exist_ok=True)
            with tarfile.open(fileobj=body, mode="r") as tar:
                tar.extractall(target, filter="data")

    def forget(self, service: str) -> None:
        """Delete the host run's staged objects."""
        prefix = self._key(service, "") + "/"
        found = self.client.list_objects_v2(Bucket=self.bucket, Prefix=prefix)
        keys = [{"Key": item["Key"]} for item in found.get("Contents", [])]
        if keys:
            with contextlib.suppress(Exception):  # staging litter is never worth a failure
                self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": keys})
