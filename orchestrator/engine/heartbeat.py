"""Keeps a supervisor's lease on its job alive, whatever the supervisor is blocked on."""

from __future__ import annotations

import logging
import threading

from orchestrator.clock import Clock
from orchestrator.store.jobs import JobStore

log = logging.getLogger(__name__)


class Heartbeat:
    """Renews the lease every third of its length on a background thread.

    A supervisor can block for a whole grace period (120 s) inside `docker stop`; renewing from
    its own loop would let the lease lapse and invite another engine to adopt a live job.
    """

    def __init__(self, store: JobStore, name: str, owner: str, clock: Clock, lease: float) -> None:
        self.store = store
        self.name = name
        self.owner = owner
        self.clock = clock
        self.lease = lease
        self.lost = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{name}", daemon=True)

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.lease / 3):
            try:
                renewed = self.store.claim(self.name, self.owner, self.clock.now(), self.lease)
            except Exception:  # a locked or busy store: try again at the next beat
                log.warning("could not renew the lease of %s", self.name, exc_info=True)
                continue
            if not renewed:
                self.lost = True
                return
