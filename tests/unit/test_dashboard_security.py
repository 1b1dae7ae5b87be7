"""Who may read the dashboard and act through it."""

from __future__ import annotations

import base64

import pytest

from orchestrator.api.sigv4 import Credentials
from orchestrator.dashboard.security import Caller, Denied, Gate, from_browser, host_name

LOCAL = {"host": "127.0.0.1:8080"}
KEYS = Credentials("AKIDLOCAL", "s3cret/with:colon")


def caller(method: str = "GET", peer: str = "127.0.0.1", **headers: str) -> Caller:
    merged = {**LOCAL, **{k.replace("_", "-"): v for k, v in headers.items()}}
    return Caller(method, peer, merged)


def denied(check: object, *args: object) -> Denied:
    with pytest.raises(Denied) as raised:
        check(*args)  # type: ignore[operator]
    return raised.value


def test_loopback_reads_need_no_signature() -> None:
    gate = Gate("auto", None)
    gate.check_read(caller())
    gate.check_read(caller(host="localhost:8080"))
    gate.check_read(Caller("GET", "::1", {"host": "[::1]:8080"}))


def test_a_rebound_dns_name_or_a_remote_peer_is_refused() -> None:
    gate = Gate("auto", None)
    assert denied(gate.check_read, caller(host="evil.example:8080")).http_status == 403
    assert denied(gate.check_read, caller(peer="10.0.0.7")).http_status == 403
    assert denied(gate.check_read, Caller("GET", "127.0.0.1", {})).http_status == 403


def test_actions_need_the_token_and_the_same_origin() -> None:
    gate = Gate("auto", None)
    good = {"x_orchestrator_token": gate.token, "origin": "http://127.0.0.1:8080"}
    gate.check_action(caller("POST", **good))
    gate.check_action(caller("POST", **good, sec_fetch_site="same-origin"))
    assert "token" in denied(gate.check_action, caller("POST", origin=good["origin"])).message
    wrong = {**good, "x_orchestrator_token": "guess"}
    assert denied(gate.check_action, caller("POST", **wrong)).http_status == 403
    other = {**good, "origin": "http://evil.example"}
    assert "origin" in denied(gate.check_action, caller("POST", **other)).message
    assert (
        denied(gate.check_action, caller("POST", x_orchestrator_token=gate.token)).http_status
        == 403
    )
    cross = {**good, "sec_fetch_site": "cross-site"}
    assert denied(gate.check_action, caller("POST", **cross)).http_status == 403
    assert denied(gate.check_action, caller("GET", **good)).http_status == 405


def test_each_server_issues_its_own_token() -> None:
    assert Gate("auto", None).token != Gate("auto", None).token


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_sigv4_mode_is_off_by_default_and_asks_for_the_credentials_when_on() -> None:
    off = Gate("auto", KEYS)
    assert not off.enabled
    refused = denied(
        off.check_read, caller(authorization=basic("AKIDLOCAL", KEYS.secret_access_key))
    )
    assert refused.http_status == 404 and "ORCHESTRATOR_DASHBOARD=on" in refused.message
    on = Gate("on", KEYS)
    on.check_read(
        caller(
            peer="10.1.2.3",
            host="build-box:8080",
            authorization=basic("AKIDLOCAL", KEYS.secret_access_key),
        )
    )
    challenge = denied(on.check_read, caller())
    assert challenge.http_status == 401 and challenge.challenge
    assert (
        denied(on.check_read, caller(authorization=basic("AKIDLOCAL", "wrong"))).http_status == 401
    )
    assert denied(on.check_read, caller(authorization="Basic !!notbase64")).http_status == 401


def test_off_is_off_everywhere() -> None:
    assert denied(Gate("off", None).check_read, caller()).http_status == 404
    with pytest.raises(ValueError, match="dashboard mode"):
        Gate("maybe", None)


def test_browser_requests_are_recognised_and_host_names_parsed() -> None:
    assert from_browser({"origin": "http://x"}) and from_browser({"sec-fetch-site": "none"})
    assert not from_browser({"x-amz-target": "SageMaker.ListTrainingJobs"})
    assert host_name("[::1]:80") == "::1" and host_name("localhost:8080") == "localhost"
    assert host_name("127.0.0.1") == "127.0.0.1"
