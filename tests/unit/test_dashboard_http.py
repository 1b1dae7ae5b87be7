"""The dashboard beside the API on one port: each answers its own requests, and the API
answers no browser."""

from __future__ import annotations

import http.client
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.api.server import ApiServer
from orchestrator.api.sigv4 import Credentials
from orchestrator.config import Settings
from orchestrator.errors import ProtocolError
from orchestrator.local import Orchestrator

TARGET = {
    "X-Amz-Target": "SageMaker.ListTrainingJobs",
    "Content-Type": "application/x-amz-json-1.1",
}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ApiServer]:
    orch = Orchestrator(Settings(home=tmp_path / "home"))
    api = ApiServer(orch, "127.0.0.1", 0)
    thread = threading.Thread(target=api.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    yield api
    api.shutdown()
    api.server_close()
    thread.join()
    orch.close()


def call(
    api: ApiServer, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    host, port = api.server_address[:2]
    connection = http.client.HTTPConnection(str(host), int(port), timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def test_the_root_is_the_page_and_post_root_is_still_the_api(server: ApiServer) -> None:
    status, headers, body = call(server, "GET", "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b"/static/app.js" in body
    status, _, body = call(server, "POST", "/", b"{}", TARGET)
    assert status == 200 and json.loads(body) == {"TrainingJobSummaries": []}
    status, headers, body = call(server, "HEAD", "/static/app.css")
    assert status == 200 and body == b"" and int(headers["Content-Length"]) > 0


@pytest.mark.parametrize(
    "browser",
    [
        {"Origin": "http://127.0.0.1:1"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Mode": "cors"},
    ],
)
def test_the_api_refuses_what_a_browser_sends(server: ApiServer, browser: dict[str, str]) -> None:
    status, headers, body = call(server, "POST", "/", b"{}", {**TARGET, **browser})
    assert status == 403 and headers["x-amzn-ErrorType"] == "AccessDeniedException"
    assert "dashboard" in json.loads(body)["message"]
    status, _, _ = call(server, "PUT", "/BatchPutMetrics", b"{}", {"Origin": "http://x"})
    assert status == 403


def test_a_rebound_host_name_gets_nothing(server: ApiServer) -> None:
    status, _, body = call(server, "GET", "/dashboard/api/session", headers={"Host": "evil.test"})
    assert status == 403 and b"token" not in body


def test_sigv4_mode_hides_the_dashboard_unless_turned_on(tmp_path: Path) -> None:
    orch = Orchestrator(Settings(home=tmp_path / "home"))
    keys = Credentials("AKID", "secret")
    for mode, expected in (("auto", 404), ("on", 401)):
        api = ApiServer(orch, "127.0.0.1", 0, keys, dashboard_mode=mode)
        thread = threading.Thread(target=api.serve_forever, kwargs={"poll_interval": 0.05})
        thread.start()
        try:
            status, headers, _ = call(api, "GET", "/dashboard/api/jobs")
            assert status == expected
            if expected == 401:
                assert headers["WWW-Authenticate"].startswith("Basic")
        finally:
            api.shutdown()
            api.server_close()
            thread.join()
    orch.close()


def raw(api: ApiServer, request: bytes) -> bytes:
    """What the server answers to bytes sent as they are (no client fills in headers)."""
    host, port = api.server_address[:2]
    with socket.create_connection((str(host), int(port)), timeout=30) as connection:
        connection.sendall(request)
        connection.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_head_needs_no_content_length_and_gets_no_body(server: ApiServer) -> None:
    answer = raw(server, b"HEAD / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and body == b""


def test_two_host_headers_are_refused(server: ApiServer) -> None:
    answer = raw(
        server,
        b"GET /dashboard/api/session HTTP/1.1\r\nHost: evil.test\r\nHost: 127.0.0.1\r\n"
        b"Connection: close\r\n\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 400") and b"token" not in answer


def test_unsigned_api_requests_must_name_a_loopback_host(server: ApiServer) -> None:
    status, headers, _ = call(server, "POST", "/", b"{}", {**TARGET, "Host": "evil.test"})
    assert status == 403 and headers["x-amzn-ErrorType"] == "AccessDeniedException"
    status, _, _ = call(server, "POST", "/", b"{}", {**TARGET, "Host": "localhost:8777"})
    assert status == 200


def test_no_api_operation_is_a_get(server: ApiServer) -> None:
    """Browsers send Origin on every POST and PUT: the API's browser check relies on there
    being no GET operation (a GET carries no Origin)."""
    dispatcher = server.dispatcher
    assert {method for method, _ in dispatcher.metrics} <= {"POST", "PUT"}
    for path in ("/", "/BatchGetMetrics", "/service/GraniteServiceVersion20100801/operation/x"):
        with pytest.raises(ProtocolError):
            dispatcher.resolve("GET", path, "SageMaker.ListTrainingJobs")
