"""Who may read the dashboard and who may act through it (stop a job, release a warm pool).

- With no credentials configured the server listens on loopback only (ApiServer insists), and
  the dashboard's read routes answer unsigned requests from a loopback peer that name a
  loopback Host (a page on another site that re-points its DNS name at 127.0.0.1 sends its own
  name as Host, and is refused).
- With credentials configured (SigV4 mode, needed to bind beyond loopback) the dashboard is off
  unless ORCHESTRATOR_DASHBOARD=on, and then every route asks for the same credentials by HTTP
  Basic (access key id, secret access key). Browsers cannot sign SigV4, so this is the only way
  a browser reaches job data in that mode; docs/dashboard.md says to prefer an SSH tunnel, as
  Basic sends the secret in clear over plain HTTP.
- Actions are POSTs carrying the token this server issued (GET /dashboard/api/session, which
  the same-origin policy keeps from other sites' pages) and an Origin equal to the server's own.
  A custom header also forces a CORS preflight, which nothing here grants.
- The SageMaker API itself refuses anything a browser sent (see `from_browser`), so no page can
  call it with the unsigned access loopback allows.
"""

from __future__ import annotations

import base64
import hmac
import ipaddress
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from orchestrator.api.sigv4 import Credentials
from orchestrator.errors import ProtocolError

MODES = ("auto", "on", "off")
TOKEN_HEADER = "x-orchestrator-token"
REALM = 'Basic realm="orchestrator dashboard", charset="UTF-8"'


@dataclass(frozen=True)
class Caller:
    """What the gate needs to know of a request (header names lower-cased)."""

    method: str
    peer: str
    headers: Mapping[str, str]

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


class Denied(ProtocolError):
    """A dashboard request refused; `challenge` asks the browser for Basic credentials."""

    def __init__(self, message: str, status: int, challenge: bool = False) -> None:
        super().__init__("AccessDeniedException", message, status)
        self.challenge = challenge


def is_loopback_name(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_name(host_header: str) -> str:
    """The host part of a Host header (`[::1]:8080` -> `::1`, `localhost:80` -> `localhost`)."""
    if host_header.startswith("["):
        return host_header[1 : host_header.find("]")] if "]" in host_header else host_header
    return host_header.rsplit(":", 1)[0] if host_header.count(":") == 1 else host_header


def from_browser(headers: Mapping[str, str]) -> bool:
    """AWS clients never send Origin or Fetch Metadata; every current browser does."""
    return any(name in headers for name in ("origin", "sec-fetch-site", "sec-fetch-mode"))


class Gate:
    def __init__(self, mode: str, credentials: Credentials | None) -> None:
        if mode not in MODES:
            raise ValueError(f"dashboard mode must be one of {MODES}, got {mode!r}")
        self.mode = mode
        self.credentials = credentials
        self.token = secrets.token_urlsafe(32)  # per server process; a restart issues a new one

    @property
    def enabled(self) -> bool:
        return self.mode == "on" or (self.mode == "auto" and self.credentials is None)

    def check_read(self, caller: Caller) -> None:
        if not self.enabled:
            why = (
                "set ORCHESTRATOR_DASHBOARD=on (it will ask for the configured credentials)"
                if self.credentials is not None and self.mode == "auto"
                else "ORCHESTRATOR_DASHBOARD=off"
            )
            raise Denied(f"The dashboard is off: {why}.", 404)
        if self.credentials is not None:
            self._check_basic(caller.header("authorization"))
            return
        host = caller.header("host") or ""
        if not (is_loopback_name(caller.peer) and is_loopback_name(host_name(host))):
            raise Denied("The dashboard answers loopback requests to a loopback name only.", 403)

    def check_action(self, caller: Caller) -> None:
        self.check_read(caller)
        if caller.method != "POST":
            raise Denied("Actions are POST requests.", 405)
        sent = caller.header(TOKEN_HEADER) or ""
        if not hmac.compare_digest(sent.encode(), self.token.encode()):
            raise Denied("This action needs the token the dashboard page was given.", 403)
        origin, host = caller.header("origin"), caller.header("host")
        if origin is None or host is None or origin.split("://", 1)[-1] != host:
            raise Denied("Actions are accepted from the dashboard's own origin only.", 403)
        if caller.header("sec-fetch-site") not in (None, "same-origin"):
            raise Denied("Actions are accepted from the dashboard's own origin only.", 403)

    def _check_basic(self, authorization: str | None) -> None:
        assert self.credentials is not None
        scheme, _, encoded = (authorization or "").partition(" ")
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            user = password = ""
        expected = self.credentials
        good_user = hmac.compare_digest(user.encode(), expected.access_key_id.encode())
        good_secret = hmac.compare_digest(password.encode(), expected.secret_access_key.encode())
        if scheme.lower() != "basic" or not (good_user and good_secret):
            raise Denied(
                "The dashboard needs the server's credentials: the access key id as user name,"
                " the secret access key as password.",
                401,
                challenge=True,
            )
