"""`orchestrator serve`: the engine plus an HTTP endpoint that unmodified AWS clients use.

One port answers SageMaker (AWS JSON 1.1, `X-Amz-Target: SageMaker.*`), sagemaker-metrics
(rest-json `PUT /BatchPutMetrics`, `POST /BatchGetMetrics`) and the CloudWatch Logs subset
(`X-Amz-Target: Logs_20140328.*`). Every answer carries `x-amzn-RequestId`; every error is
`{"__type", "message"}` with `x-amzn-ErrorType`, and never a stack trace.

The dashboard (orchestrator/dashboard) answers GET / and the paths under /static/ and
/dashboard/; the API refuses requests a browser sent (dashboard/security.py says why).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from orchestrator.api import cbor
from orchestrator.api.dispatch import CLOUDWATCH_PATH, Dispatcher
from orchestrator.api.sigv4 import Credentials, SignedRequest, verify
from orchestrator.dashboard import routes as dashboard
from orchestrator.dashboard.security import Gate, from_browser, host_name, is_loopback_name
from orchestrator.errors import ApiError, ProtocolError, ValidationError
from orchestrator.local import Orchestrator

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 16 * 1024 * 1024
JSON_TYPES = ("application/x-amz-json-1.1", "application/x-amz-json-1.0", "application/json")


class ApiServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        orch: Orchestrator,
        host: str,
        port: int,
        credentials: Credentials | None = None,
        dashboard_mode: str = "auto",
    ) -> None:
        if not is_loopback_name(host) and credentials is None:
            raise ValidationError(
                f"--host {host} is not loopback: configure credentials"
                " (ORCHESTRATOR_ACCESS_KEY_ID and ORCHESTRATOR_SECRET_ACCESS_KEY) so every"
                " request must be signed"
            )
        self.orch = orch
        self.dispatcher = Dispatcher(orch)
        self.credentials = credentials
        self.dashboard = dashboard.Dashboard(orch, Gate(dashboard_mode, credentials))
        super().__init__((host, port), _Handler)

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes; with Nagle on, each keep-alive response would
    # wait ~40 ms for the client's delayed ACK.
    disable_nagle_algorithm = True
    server: ApiServer
    cbor = False  # this request speaks RPC v2 CBOR (CloudWatch), set per request

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_GET(self) -> None:
        self._handle()

    do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Errors the HTTP layer itself raises (bad request line, unknown method), as JSON."""
        self.close_connection = True
        name = "UnknownOperationException" if code == 501 else "BadRequestException"
        status = 404 if code == 501 else code
        self._send_error(name, message or explain or "Bad request.", status, str(uuid.uuid4()))

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)

    def _handle(self) -> None:
        request_id = str(uuid.uuid4())
        path = self.path.split("?", 1)[0]
        headers = {name.lower(): value for name, value in self.headers.items()}
        if len(self.headers.get_all("Host") or []) > 1:  # RFC 9112: answer 400
            self.close_connection = True
            self._send_error("BadRequestException", "More than one Host header.", 400, request_id)
            return
        if dashboard.claims(self.command, path, headers):
            self._dashboard(headers, request_id)
            return
        self.cbor = path.startswith(CLOUDWATCH_PATH)
        try:
            body = self._read_body()
            if from_browser(headers):
                raise ProtocolError(
                    "AccessDeniedException",
                    "The API does not answer browsers; the dashboard is at /.",
                    403,
                )
            self._authenticate(body, headers)
            operation = self.server.dispatcher.resolve(
                self.command, path, self.headers.get("X-Amz-Target")
            )
            request = cbor.decode(body) if self.cbor else self._parse(body)
            self._send(200, operation(request), request_id)
        except ApiError as exc:
            self._send_error(exc.code, exc.message, exc.http_status, request_id)
        except Exception:  # a bug must still answer as the API does, with no trace
            log.exception("request %s failed", request_id)
            self._send_error(
                "InternalFailure",
                "The request processing has failed because of an unknown error.",
                500,
                request_id,
            )

    def _dashboard(self, headers: dict[str, str], request_id: str) -> None:
        try:
            self._read_body()  # actions carry none; read it so the connection stays usable
        except ApiError as exc:
            self._send_error(exc.code, exc.message, exc.http_status, request_id)
            return
        try:
            answer = self.server.dashboard.handle(
                self.command, self.path, self.client_address[0], headers
            )
        except Exception:  # a bug: answer 500 as the API does, with no trace
            log.exception("dashboard request %s failed", request_id)
            answer = dashboard.Response(500, b'{"error":"InternalFailure"}', "application/json")
        self._write(answer.status, answer.content_type, answer.body, answer.headers)

    def _read_body(self) -> bytes:
        length = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked" or length is None:
            if self.command in ("GET", "HEAD", "OPTIONS"):
                return b""
            raise ProtocolError("MissingContentLengthException", "Content-Length is required.", 411)
        try:
            size = int(length)
        except ValueError:
            raise ProtocolError(
                "SerializationException", "Content-Length is not a number."
            ) from None
        if size > MAX_BODY_BYTES or size < 0:
            self.close_connection = True  # the body is not read; the connection cannot be reused
            raise ProtocolError(
                "RequestEntityTooLargeException",
                f"Request body is larger than {MAX_BODY_BYTES} bytes.",
                413,
            )
        return self.rfile.read(size)

    def _authenticate(self, body: bytes, headers: dict[str, str]) -> None:
        if self.server.credentials is None:
            # Unsigned is for this machine's clients, which name a loopback Host; a page whose
            # DNS name was re-pointed at 127.0.0.1 names its own (and is a browser anyway).
            host = headers.get("host")
            if host is not None and not is_loopback_name(host_name(host)):
                raise ProtocolError(
                    "AccessDeniedException",
                    f"Unsigned requests are answered for a loopback Host only, not {host!r}.",
                    403,
                )
            return
        request = SignedRequest(self.command, self.path, headers, body)
        verify(request, self.server.credentials, dt.datetime.now(dt.timezone.utc))

    def _parse(self, body: bytes) -> dict[str, Any]:
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type not in JSON_TYPES:
            raise ProtocolError(
                "UnsupportedMediaTypeException",
                f"Content-Type {content_type or '(none)'!r} is not supported; use"
                " application/x-amz-json-1.1",
                415,
            )
        try:
            payload = json.loads(body or b"{}", object_hook=_without_nulls)
        except (ValueError, UnicodeDecodeError):
            raise ProtocolError(
                "SerializationException", "The request body is not valid JSON."
            ) from None
        if not isinstance(payload, dict):
            raise ProtocolError("SerializationException", "The request body must be a JSON object.")
        return payload

    def _send(
        self, status: int, document: dict[str, Any], request_id: str, error_type: str | None = None
    ) -> None:
        if self.cbor:
            data, content_type = cbor.encode(document), cbor.CONTENT_TYPE
        else:
            data = json.dumps(document, default=_epoch).encode()
            content_type = "application/x-amz-json-1.1"
        headers = {"x-amzn-RequestId": request_id}
        if self.cbor:
            headers["smithy-protocol"] = "rpc-v2-cbor"
        if error_type:
            headers["x-amzn-ErrorType"] = error_type
        self._write(status, content_type, data, headers)

    def _write(self, status: int, content_type: str, data: bytes, headers: dict[str, str]) -> None:
        """One response, the API's or the dashboard's (a HEAD gets the headers alone)."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _send_error(self, code: str, message: str, status: int, request_id: str) -> None:
        self._send(status, {"__type": code, "message": message}, request_id, error_type=code)


def _epoch(value: Any) -> float:
    """Timestamps in AWS's JSON protocols: epoch seconds."""
    if isinstance(value, dt.datetime):
        return value.timestamp()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _without_nulls(members: dict[str, Any]) -> dict[str, Any]:
    """AWS's JSON protocol reads a member set to null as a member not sent."""
    return {name: value for name, value in members.items() if value is not None}
