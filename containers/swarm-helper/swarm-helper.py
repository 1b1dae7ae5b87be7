"""Moves a Swarm host run's files between the object store and a folder of its node.

Runs as a one-shot service on the node, with the folder's parent bound at /parent, and takes
its orders as JSON in ORCHESTRATOR_PLAN (orchestrator/runtime/staging.py writes them):

  {"folder": "orchestrator-swarm/<service>",                   below /parent
   "fill":  {"m0": "<presigned GET url of a tar>", ...},    unpack each into folder/m0, ...
   "drain": {"m0": "<presigned PUT url>", ...}}             pack what changed, upload, clear

Without "fill", the folder is removed at the end. Only the standard library: the image is the
base image and this file.
"""

import json
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.request

PARENT = "/parent"
MANIFEST = "filled.json"  # beside the parts: what the fill wrote, so a drain sends only news


def local(folder):
    """The folder, given relative to the bound parent (never outside it)."""
    path = os.path.normpath(os.path.join(PARENT, folder))
    if not path.startswith(PARENT + "/"):
        raise SystemExit(f"folder {folder!r} is outside {PARENT}")
    return path


def listing(root):
    found = {}
    for path, _, files in os.walk(root):
        for name in files:
            full = os.path.join(path, name)
            stat = os.lstat(full)
            found[os.path.relpath(full, root)] = [stat.st_size, stat.st_mtime_ns]
    return found


def fill(folder, parts):
    os.makedirs(folder, exist_ok=True)
    written = {}
    for part, url in parts.items():
        target = os.path.join(folder, part)
        os.makedirs(target, exist_ok=True)
        with urllib.request.urlopen(url, timeout=60) as response:
            with tarfile.open(fileobj=response, mode="r|") as tar:
                tar.extractall(target)
        written[part] = listing(target)
    with open(os.path.join(folder, MANIFEST), "w") as manifest:
        json.dump(written, manifest)


def drain(folder, parts):
    try:
        with open(os.path.join(folder, MANIFEST)) as manifest:
            before = json.load(manifest)
    except FileNotFoundError:
        before = {}
    for part, url in parts.items():
        root = os.path.join(folder, part)
        old = before.get(part, {})
        with tempfile.TemporaryFile() as packed:
            with tarfile.open(fileobj=packed, mode="w") as tar:
                for name, seen in sorted(listing(root).items() if os.path.isdir(root) else []):
                    if old.get(name) != seen:
                        tar.add(os.path.join(root, name), arcname=name, recursive=False)
            size = packed.tell()
            packed.seek(0)
            request = urllib.request.Request(url, data=packed, method="PUT")
            request.add_header("Content-Length", str(size))
            # Not urllib's form default, which servers may parse (and so swallow) as a form.
            request.add_header("Content-Type", "application/x-tar")
            with urllib.request.urlopen(request, timeout=300):
                pass


def main():
    plan = json.loads(os.environ["ORCHESTRATOR_PLAN"])
    folder = local(plan["folder"])
    if "fill" in plan:
        fill(folder, plan["fill"])
        return 0
    try:
        if "drain" in plan:
            drain(folder, plan["drain"])
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
