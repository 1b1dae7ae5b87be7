"""`orchestrator serve`: the engine and the HTTP API in one long-running process."""

from __future__ import annotations

import os
import sys

from orchestrator.api.server import ApiServer
from orchestrator.api.sigv4 import Credentials
from orchestrator.local import Orchestrator


def credentials_from_env() -> Credentials | None:
    key = os.environ.get("ORCHESTRATOR_ACCESS_KEY_ID")
    secret = os.environ.get("ORCHESTRATOR_SECRET_ACCESS_KEY")
    return Credentials(key, secret) if key and secret else None


def serve(orch: Orchestrator, host: str, port: int, dashboard: str = "auto") -> int:
    server = ApiServer(orch, host, port, credentials_from_env(), dashboard)
    adopted = orch.recover()
    for name in adopted:
        print(f"adopted {name}", flush=True)
    signing = "signed requests only" if server.credentials else "no authentication (loopback)"
    print(f"orchestrator listening on {server.url} ({signing}); Ctrl-C stops", flush=True)
    if server.dashboard.gate.enabled:
        login = " (log in with the credentials)" if server.credentials else ""
        print(f"dashboard: {server.url}/{login}", flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        print(
            "stopping; running jobs keep going and are adopted at the next start", file=sys.stderr
        )
    finally:
        server.server_close()
        orch.close()
    return 0
