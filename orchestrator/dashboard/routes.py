"""The dashboard's HTTP routes: its page and files, JSON reads, and the two actions.

GET  /                                       the page (a single page; views by #fragment)
GET  /static/<file>, /static/vendor/<file>   our files; Plotly.js and its licence
GET  /dashboard/api/session                  the token actions must carry
GET  /dashboard/api/jobs?kind&status&name&q&sort&order&limit&next
GET  /dashboard/api/{training,processing}-jobs/<name>[/metrics|/logs?host&offset]
GET  /dashboard/api/compare?names=a,b
GET  /dashboard/api/capacity
POST /dashboard/api/training-jobs/<name>/{stop,release}, /processing-jobs/<name>/stop
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

from orchestrator.dashboard import assets, jobs
from orchestrator.dashboard.capacity_view import capacity_view
from orchestrator.dashboard.compare import compare
from orchestrator.dashboard.security import REALM, Caller, Denied, Gate
from orchestrator.errors import ApiError, training_job_not_found
from orchestrator.local import Orchestrator

API = "/dashboard/api/"
_JOB = re.compile(r"^(training|processing)-jobs/([^/]+)(?:/(metrics|logs|stop|release))?$")
# The page may only load its own files; Plotly sets inline styles on the elements it draws.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:;"
        " frame-ancestors 'none'"
    ),
}


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)


Params = Mapping[str, str]


def claims(method: str, path: str, headers: Mapping[str, str]) -> bool:
    """Whether a request is the dashboard's (the API has POST / with X-Amz-Target, and
    paths of its own)."""
    if path.startswith(("/dashboard/", "/static/")):
        return True
    return (
        path in ("/", "/index.html")
        and method in ("GET", "HEAD")
        and ("x-amz-target" not in headers)
    )


def _json(document: Any, status: int = 200) -> Response:
    body = json.dumps(document, separators=(",", ":"), default=str).encode()
    return Response(status, body, "application/json", {"Cache-Control": "no-store"})


def _error(exc: ApiError) -> Response:
    response = _json({"error": exc.code, "message": exc.message}, exc.http_status)
    if isinstance(exc, Denied) and exc.challenge:
        response.headers["WWW-Authenticate"] = REALM
    return response


class Dashboard:
    def __init__(self, orch: Orchestrator, gate: Gate) -> None:
        self.orch = orch
        self.gate = gate
        self.reads: dict[str, Callable[[Params], Any]] = {
            "session": lambda _: {"token": self.gate.token},
            "jobs": lambda p: jobs.job_list(self.orch, p),
            "compare": lambda p: compare(self.orch, p.get("names")),
            "capacity": lambda _: capacity_view(self.orch),
        }

    def handle(self, method: str, target: str, peer: str, headers: Mapping[str, str]) -> Response:
        """`target` is the request's path with its query; `headers` names are lower-cased."""
        path, _, query = target.partition("?")
        params = dict(parse_qsl(query, keep_blank_values=True))
        caller = Caller(method, peer, headers)
        try:
            if not path.startswith(API):
                self.gate.check_read(caller)
                response = self._file(path, headers)
            else:
                response = self._api(caller, unquote(path[len(API) :]), params)
        except ApiError as exc:
            response = _error(exc)
        response.headers.update(SECURITY_HEADERS)
        return response

    def _api(self, caller: Caller, route: str, params: Params) -> Response:
        match = _JOB.match(route)
        action = match.group(3) if match else None
        if action in ("stop", "release"):
            self.gate.check_action(caller)
            assert match is not None
            return _json(self._act(match.group(1), match.group(2), action))
        self.gate.check_read(caller)
        if caller.method not in ("GET", "HEAD"):
            raise Denied("Read routes answer GET.", 405)
        if match is not None:
            return _json(self._job_read(match.group(1), match.group(2), action, params))
        if route in self.reads:
            return _json(self.reads[route](params))
        return _json({"error": "NotFound", "message": f"No dashboard route {route!r}."}, 404)

    def _job_read(self, kind: str, name: str, what: str | None, params: Params) -> Any:
        if what is None:
            return jobs.job_detail(self.orch, kind, name)
        if what == "logs":
            return jobs.log_page(self.orch, kind, name, params)
        if kind != "training":
            raise training_job_not_found(name)  # processing jobs report no metrics
        return jobs.metric_series(self.orch, name)

    def _act(self, kind: str, name: str, action: str) -> dict[str, Any]:
        if kind == "processing" and action == "stop":
            self.orch.stop_processing_job(name)
        elif action == "stop":
            self.orch.stop_training_job(name)
        elif kind == "training":
            self.orch.release_warm_pool(name)
        else:
            raise Denied("Processing jobs have no warm pool to release.", 400)
        return {"ok": True, "action": action, "name": name}

    def _file(self, path: str, headers: Mapping[str, str]) -> Response:
        if path in ("/", "/index.html"):
            found = assets.static("index.html")
        elif path.startswith("/static/vendor/"):
            found = assets.vendor(path.removeprefix("/static/vendor/"))
        elif path.startswith("/static/"):
            found = assets.static(path.removeprefix("/static/"))
        else:
            found = None
        if found is None:
            return _json({"error": "NotFound", "message": f"No file {path!r}."}, 404)
        return _served(found, headers)


def _served(asset: assets.Asset, headers: Mapping[str, str]) -> Response:
    cache = "public, max-age=86400" if asset.immutable else "no-cache"
    common = {"ETag": asset.etag, "Cache-Control": cache, "Vary": "Accept-Encoding"}
    if headers.get("if-none-match") == asset.etag:
        return Response(304, b"", asset.content_type, common)
    if "gzip" in headers.get("accept-encoding", ""):
        return Response(
            200, asset.gzipped, asset.content_type, {**common, "Content-Encoding": "gzip"}
        )
    return Response(200, asset.body, asset.content_type, common)
