"""`orchestrator run`: start a job in this process and show it until it ends."""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType
from typing import Any

from orchestrator.cli.render import local_time
from orchestrator.local import Orchestrator

EXIT_FAILED = 1
EXIT_STOPPED = 3
EXIT_INTERRUPTED = 130


class _Printer:
    """Status lines from the main thread and log lines from the pump never interleave."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.lock = threading.Lock()

    def line(self, text: str) -> None:
        with self.lock:
            print(text, flush=True)

    def log(self, stamp: float, host: str, text: str) -> None:
        if not self.quiet:
            self.line(f"  {host} | {text}")


def _print_transitions(printer: _Printer, description: dict[str, Any], shown: int) -> int:
    transitions = description["SecondaryStatusTransitions"]
    for entry in transitions[shown:]:
        printer.line(
            f"[{local_time(entry['StartTime'])}] {entry['Status']}: {entry['StatusMessage']}"
        )
    return len(transitions)


def _summary(printer: _Printer, orch: Orchestrator, description: dict[str, Any]) -> int:
    status = description["TrainingJobStatus"]
    printer.line(f"{description['TrainingJobName']}: {status} ({description['SecondaryStatus']})")
    if description.get("FailureReason"):
        printer.line(f"FailureReason: {description['FailureReason']}")
    artifact = description.get("ModelArtifacts", {}).get("S3ModelArtifacts")
    if artifact:
        printer.line(f"Model artifact: {artifact}")
        local = orch.local_path(artifact)
        if local is not None:
            printer.line(f"  stored at: {local}")
    return {"Completed": 0, "Failed": EXIT_FAILED}.get(status, EXIT_STOPPED)


def run_job(orch: Orchestrator, request: dict[str, Any], quiet: bool = False) -> int:
    """Exit code: 0 Completed, 1 Failed, 3 Stopped; Ctrl-C stops the job, twice detaches."""
    printer = _Printer(quiet)
    orch.create_training_job(request, on_line=printer.log)
    name = str(request["TrainingJobName"])
    interrupts = []

    def on_interrupt(signum: int, frame: FrameType | None) -> None:
        interrupts.append(signum)
        if len(interrupts) == 1:
            printer.line(
                f"stopping {name} (Ctrl-C again to detach; `orchestrator recover` adopts it)"
            )
            orch.stop_training_job(name)
        else:
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, on_interrupt)
    try:
        shown = 0
        while True:
            # Joining the supervisor doubles as the pause: it returns the moment the job ends.
            finished = orch.engine.wait(name, timeout=0.1).owner is None
            shown = _print_transitions(printer, orch.describe_training_job(name), shown)
            if finished and orch.settled(name):
                return _summary(printer, orch, orch.describe_training_job(name))
    except KeyboardInterrupt:
        print(f"detached from {name}", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        signal.signal(signal.SIGINT, previous)
