"""How a training container reaches the object store, as it reaches S3 on SageMaker.

On SageMaker a container calls S3 itself with the execution role's credentials, which the
platform serves through the container credentials endpoint (the AWS SDKs' "container
credential provider": `AWS_CONTAINER_CREDENTIALS_FULL_URI` and an authorization token), never
as a file. Ours does the same, so unmodified boto3 code in the image works:

- a Docker network of the orchestrator's own, `orchestrator-host-bridge`, 169.254.170.0/24,
  whose gateway (this machine's side of the bridge) is 169.254.170.2: the one address besides
  loopback where botocore's container provider accepts plain http (its `_ALLOWED_HOSTS`);
- on that address, in this process, a credentials endpoint answering each running host with
  this process's own credentials (boto3's chain, resolved once; temporary ones refresh) when
  it shows the token its container was given; the token stops working when the attempt ends;
- when AWS_ENDPOINT_URL_S3 is on this machine's loopback (a MinIO or moto in CI), which no
  container can reach, a relay on the same address to it, and the container gets
  `AWS_ENDPOINT_URL_S3=http://host.docker.internal:<relay>` with host.docker.internal mapped to
  that gateway. An endpoint elsewhere (real S3, a LAN server) is passed on as it is.

The container holds the token in its environment, never a credential. Both servers listen on
the bridge's address only: reachable from containers and this machine, not from the network.
Only jobs on the S3 store get this, and never an isolated job (EnableNetworkIsolation: no
outbound calls, as on SageMaker). Where the address cannot be bound (the orchestrator runs in
a container itself, or something else owns that subnet) jobs run without it, said once in the
log.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import json
import logging
import os
import secrets
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from orchestrator.errors import RuntimeFailure
from orchestrator.runtime.protocol import NetworkSpec, Runtime

log = logging.getLogger(__name__)

NETWORK = "orchestrator-host-bridge"
SUBNET = "169.254.170.0/24"
GATEWAY = "169.254.170.2"
LABEL_SHARED = "orchestrator.shared"
HOST_ALIAS = "host.docker.internal"
CREDENTIALS_PATH = "/credentials"
BRIDGE = ipaddress.ip_network(SUBNET)
CREDENTIAL_LIFETIME = datetime.timedelta(hours=1)


@dataclass(frozen=True)
class StoreAccess:
    """What one host's container gets: its network, environment and host names."""

    network: str
    environment: dict[str, str]
    extra_hosts: dict[str, str]
    token: str


def loopback_endpoint(url: str | None) -> tuple[str, int] | None:
    """(host, port) of an endpoint URL on this machine's loopback, else None."""
    if not url:
        return None
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if host == "localhost":
        return "127.0.0.1", port
    with contextlib.suppress(ValueError):
        if ipaddress.ip_address(host).is_loopback:
            return host, port
    return None


def relayed_url(url: str, relay_port: int) -> str:
    """The endpoint as a container addresses it: the relay, by the host alias."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, f"{HOST_ALIAS}:{relay_port}", parts.path, "", ""))


def credentials_document(
    credentials: Any, now: datetime.datetime, expires: datetime.datetime | None = None
) -> dict[str, str]:
    """The container provider's answer, from botocore's frozen credentials; never valid longer
    than the credentials it passes on (`expires`, for temporary ones)."""
    expiry = now + CREDENTIAL_LIFETIME
    if expires is not None:
        expiry = min(expiry, expires.astimezone(datetime.UTC))
    return {
        "AccessKeyId": credentials.access_key,
        "SecretAccessKey": credentials.secret_key,
        "Token": credentials.token or "",
        "Expiration": expiry.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


class HostBridge:
    """The credentials endpoint and the store relay of this process (one for all engines)."""

    def __init__(self) -> None:
        import boto3

        # boto3's chain, resolved once; its credentials refresh themselves when temporary.
        self.session: Any = boto3.session.Session()
        self.tokens: set[str] = set()
        self.relays: dict[tuple[str, int], _Relay] = {}
        self._lock = threading.Lock()
        self._credentials = _CredentialsServer((GATEWAY, 0), self)
        threading.Thread(
            target=self._credentials.serve_forever, name="host-bridge", daemon=True
        ).start()

    @property
    def credentials_port(self) -> int:
        return int(self._credentials.server_address[1])

    def grant(self) -> StoreAccess:
        """A new token, and the environment that hands it to one host's container with the
        endpoint this process uses now."""
        token = secrets.token_urlsafe(24)
        with self._lock:
            self.tokens.add(token)
        environment = {
            "AWS_CONTAINER_CREDENTIALS_FULL_URI": (
                f"http://{GATEWAY}:{self.credentials_port}{CREDENTIALS_PATH}"
            ),
            "AWS_CONTAINER_AUTHORIZATION_TOKEN": token,
        }
        region = self.session.region_name
        if region:
            environment["AWS_REGION"] = environment["AWS_DEFAULT_REGION"] = region
        hosts: dict[str, str] = {}
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        target = loopback_endpoint(endpoint)
        if endpoint and target is not None:
            environment["AWS_ENDPOINT_URL_S3"] = relayed_url(endpoint, self._relay(target).port)
            hosts[HOST_ALIAS] = GATEWAY
        elif endpoint:
            environment["AWS_ENDPOINT_URL_S3"] = endpoint
        return StoreAccess(NETWORK, environment, hosts, token)

    def _relay(self, target: tuple[str, int]) -> _Relay:
        with self._lock:
            if target not in self.relays:
                self.relays[target] = _Relay(target)
            return self.relays[target]

    def revoke(self, token: str) -> None:
        with self._lock:
            self.tokens.discard(token)

    def allowed(self, token: str | None) -> bool:
        with self._lock:
            return token is not None and token in self.tokens

    def close(self) -> None:
        self._credentials.shutdown()
        self._credentials.server_close()
        for relay in self.relays.values():
            relay.close()


class _CredentialsServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], bridge: HostBridge) -> None:
        self.bridge = bridge
        super().__init__(address, _CredentialsHandler)


class _CredentialsHandler(BaseHTTPRequestHandler):
    server: _CredentialsServer

    def do_GET(self) -> None:
        if self.path != CREDENTIALS_PATH:
            self._answer(404, {"message": "no such path"})
            return
        if not self.server.bridge.allowed(self.headers.get("Authorization")):
            self._answer(403, {"message": "this token belongs to no running training host"})
            return
        found = self.server.bridge.session.get_credentials()
        if found is None:
            self._answer(404, {"message": "the orchestrator has no AWS credentials to share"})
            return
        now = datetime.datetime.now(datetime.UTC)
        expires = getattr(found, "_expiry_time", None)  # refreshable (temporary) credentials
        document = credentials_document(found.get_frozen_credentials(), now, expires)
        self._answer(200, document)

    def _answer(self, status: int, body: dict[str, str]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("host bridge: " + format, *args)


class _Relay:
    """Bytes both ways between a container and the loopback endpoint, one thread per
    direction per connection (S3 clients keep few connections)."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server((GATEWAY, 0))
        self.port = int(self.listener.getsockname()[1])
        threading.Thread(target=self._accept, name="store-relay", daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, peer = self.listener.accept()
            except OSError:
                return  # closed
            if ipaddress.ip_address(peer[0]) not in BRIDGE:  # only our containers may relay
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=10)
            except OSError as exc:
                log.warning("store relay: %s:%d does not answer: %s", *self.target, exc)
                client.close()
                continue
            upstream.settimeout(None)
            _Connection(client, upstream)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.listener.close()


class _Connection:
    """One relayed connection: both sockets closed once both directions have ended."""

    def __init__(self, client: socket.socket, upstream: socket.socket) -> None:
        self.sockets = (client, upstream)
        self.open_directions = 2
        self.lock = threading.Lock()
        for source, sink in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(1 << 16):
                sink.sendall(data)
        except OSError:
            pass
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)  # the other side sees the end of what we relay
        with self.lock:
            self.open_directions -= 1
            done = self.open_directions == 0
        if done:
            for end in self.sockets:
                end.close()


_bridge: list[HostBridge | None] = []
_bridge_lock = threading.Lock()


def host_bridge(runtime: Runtime) -> HostBridge | None:
    """This process's bridge, made on first need; None (said once) where it cannot be."""
    with _bridge_lock:
        if not _bridge:
            _bridge.append(_open(runtime))
        return _bridge[0]


def _open(runtime: Runtime) -> HostBridge | None:
    try:
        runtime.create_network(
            NetworkSpec(NETWORK, {LABEL_SHARED: "host-bridge"}, subnet=SUBNET, gateway=GATEWAY)
        )
        return HostBridge()
    except (RuntimeFailure, OSError) as exc:
        log.warning(
            "training containers will not reach the object store: the host bridge %s (%s) is"
            " not available here: %s",
            NETWORK,
            SUBNET,
            exc,
        )
        return None
