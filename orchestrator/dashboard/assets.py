"""The dashboard's static files: ours from the package's `static/` folder, and Plotly.js from
the installed `plotly` package (its own bundled, minified copy, MIT licensed), so nothing is
built and no CDN is asked. Each file is read once, with its ETag and a gzip copy."""

from __future__ import annotations

import functools
import gzip
import hashlib
import importlib.metadata
import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

STATIC = Path(__file__).parent / "static"
_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]*\.(?:js|css|html|svg)$")
TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
}
VENDOR = {"plotly.min.js", "plotly-license.txt"}


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes
    content_type: str
    etag: str
    immutable: bool  # a vendored library: cached for a day; ours revalidate every load


def _asset(data: bytes, suffix: str, immutable: bool) -> Asset:
    digest = hashlib.sha256(data).hexdigest()[:20]
    return Asset(data, gzip.compress(data, 6), TYPES[suffix], f'"{digest}"', immutable)


def _plotly_dir() -> Path:
    """The installed plotly package's folder, found without importing it (that is slow)."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("the plotly package is not installed (pip install plotly)")
    return Path(next(iter(spec.submodule_search_locations)))


def _plotly_license() -> bytes:
    files = importlib.metadata.distribution("plotly").files or []
    for file in files:
        if file.name.upper().startswith("LICENSE"):
            return Path(str(file.locate())).read_bytes()
    raise FileNotFoundError("plotly's licence file is missing from its installed metadata")


@functools.lru_cache(maxsize=32)
def vendor(name: str) -> Asset | None:
    if name == "plotly.min.js":
        data = (_plotly_dir() / "package_data" / "plotly.min.js").read_bytes()
        return _asset(data, ".js", immutable=True)
    if name == "plotly-license.txt":
        return _asset(_plotly_license(), ".txt", immutable=True)
    return None


@functools.lru_cache(maxsize=32)
def static(name: str) -> Asset | None:
    """One of our files by its bare name, or None (no paths, nothing outside `static/`)."""
    if not _NAME.match(name):
        return None
    path = STATIC / name
    if not path.is_file():
        return None
    return _asset(path.read_bytes(), path.suffix, immutable=False)
