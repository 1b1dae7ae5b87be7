"""`orchestrator`: run, list, describe, stop and follow SageMaker training jobs locally."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from orchestrator.cli.gpus import show_gpus
from orchestrator.cli.metrics import show_metrics
from orchestrator.cli.pools import show_pools
from orchestrator.cli.render import local_time, summaries_table, to_json
from orchestrator.cli.requests import load_request
from orchestrator.cli.run import run_job
from orchestrator.cli.search import show_search
from orchestrator.config import DEFAULT_PORT, settings_from_env
from orchestrator.errors import OrchestratorError
from orchestrator.local import Orchestrator
from orchestrator.spec import host_names

EXIT_BAD_INPUT = 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="orchestrator", description=__doc__)
    parser.add_argument(
        "--home", help="state directory (default $ORCHESTRATOR_HOME or ~/.local/share/orchestrator)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser("run", help="run a CreateTrainingJob request and follow it")
    run.add_argument("request", help="JSON file, file://path, '-' for stdin, or inline JSON")
    run.add_argument("--name", help="override TrainingJobName")
    run.add_argument("--quiet", action="store_true", help="status changes only, no container log")

    lister = commands.add_parser("list", help="ListTrainingJobs")
    lister.add_argument("--name-contains")
    lister.add_argument(
        "--status", choices=["InProgress", "Completed", "Failed", "Stopping", "Stopped"]
    )
    for flag in ("--created-after", "--created-before", "--modified-after", "--modified-before"):
        lister.add_argument(flag, help="epoch seconds or ISO 8601")
    lister.add_argument(
        "--sort-by", choices=["Name", "CreationTime", "Status"], default="CreationTime"
    )
    lister.add_argument("--sort-order", choices=["Ascending", "Descending"], default="Descending")
    lister.add_argument("--max-results", type=int, default=10)
    lister.add_argument("--next-token")
    lister.add_argument("--json", action="store_true", help="the ListTrainingJobs response")

    describe = commands.add_parser("describe", help="DescribeTrainingJob as JSON")
    describe.add_argument("name")
    stop = commands.add_parser("stop", help="StopTrainingJob: SIGTERM, grace period, SIGKILL")
    stop.add_argument("name")
    fault = commands.add_parser(
        "fault", help="inject a platform fault into a running job (exercises RetryStrategy)"
    )
    fault.add_argument("name")
    fault.add_argument(
        "kind", choices=["internal-error", "spot-interruption"], help="what happens to the job"
    )
    fault.add_argument(
        "--after", type=float, metavar="SECONDS", help="when, from now (default: at once)"
    )
    delete = commands.add_parser("delete", help="delete a job that has ended (DeleteTrainingJob)")
    delete.add_argument("name")
    gpus = commands.add_parser("gpus", help="the GPUs jobs may use, and which job holds each")
    gpus.add_argument("--json", action="store_true", help="print JSON instead of a table")
    pools = commands.add_parser("pools", help="list warm pools, or release one")
    pools.add_argument("action", nargs="?", choices=["list", "release"], default="list")
    pools.add_argument("name", nargs="?", help="with release: the job whose pool to end")
    logs = commands.add_parser("logs", help="the job's container output")
    logs.add_argument("name")
    logs.add_argument("-f", "--follow", action="store_true", help="keep following until it ends")
    metrics = commands.add_parser("metrics", help="a job's metrics: table and curves")
    metrics.add_argument("name")
    metrics.add_argument("-f", "--follow", action="store_true", help="redraw until the job ends")
    metrics.add_argument("--json", action="store_true", help="every point, as JSON")
    search = commands.add_parser("search", help="Search training jobs (SearchExpression JSON)")
    search.add_argument(
        "request",
        nargs="?",
        default="{}",
        help="Search request JSON (inline, file://path or '-'); default all jobs",
    )
    search.add_argument("--json", action="store_true", help="the Search response")
    for operation in ("batch-put-metrics", "batch-get-metrics"):
        command = commands.add_parser(operation, help=f"{operation} with the API's request JSON")
        command.add_argument("request", help="JSON file, file://path, '-' or inline JSON")
    commands.add_parser("recover", help="adopt jobs whose supervising process died")
    serve = commands.add_parser("serve", help="the engine plus the SageMaker-compatible HTTP API")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port ({DEFAULT_PORT})")
    serve.add_argument(
        "--dashboard",
        choices=("auto", "on", "off"),
        help="the dashboard at / (default ORCHESTRATOR_DASHBOARD or auto: on without credentials)",
    )
    upload = commands.add_parser(
        "upload", help="copy a local file or folder to s3:// (local store)"
    )
    upload.add_argument("source")
    upload.add_argument("uri")
    return parser


def _list_request(args: argparse.Namespace) -> dict[str, object]:
    pairs = {
        "NameContains": args.name_contains,
        "StatusEquals": args.status,
        "CreationTimeAfter": args.created_after,
        "CreationTimeBefore": args.created_before,
        "LastModifiedTimeAfter": args.modified_after,
        "LastModifiedTimeBefore": args.modified_before,
        "SortBy": args.sort_by,
        "SortOrder": args.sort_order,
        "MaxResults": args.max_results,
        "NextToken": args.next_token,
    }
    return {key: value for key, value in pairs.items() if value is not None}


def _timestamps_as_iso(request: dict[str, object]) -> dict[str, object]:
    """Time filters given as epoch strings become numbers; ISO strings pass through."""
    for key, value in request.items():
        if key.endswith(("After", "Before")) and isinstance(value, str):
            with contextlib.suppress(ValueError):
                request[key] = float(value)
    return request


def _dispatch(args: argparse.Namespace, orch: Orchestrator) -> int:
    if args.command == "run":
        request = load_request(args.request)
        if args.name:
            request["TrainingJobName"] = args.name
        return run_job(orch, request, quiet=args.quiet)
    if args.command == "list":
        response = orch.list_training_jobs(**_timestamps_as_iso(_list_request(args)))
        print(to_json(response) if args.json else summaries_table(response["TrainingJobSummaries"]))
        if not args.json and "NextToken" in response:
            print(f"(more: --next-token {response['NextToken']})")
        return 0
    if args.command == "describe":
        print(to_json(orch.describe_training_job(args.name)))
        return 0
    if args.command == "stop":
        # A job whose owner died is stopped by this process itself: wait until it is done.
        if orch.stop_training_job(args.name, wait=True):
            status = orch.describe_training_job(args.name)["SecondaryStatus"]
            print(f"stopped {args.name} ({status}); its supervising process had died")
        else:
            print(f"stopping {args.name}")
        return 0
    if args.command == "fault":
        orch.inject_fault(args.name, args.kind, args.after)
        when = f"in {args.after:g} s" if args.after else "now"
        print(f"{args.kind} fault set for {args.name} ({when})")
        return 0
    if args.command == "pools":
        return show_pools(orch, args.action, args.name)
    if args.command == "gpus":
        return show_gpus(orch, args.json)
    if args.command == "delete":
        orch.delete_training_job(args.name)
        print(f"deleted {args.name}")
        return 0
    if args.command == "logs":
        hosts = len(host_names(orch.store.require(args.name).request))
        for stamp, host, text in orch.host_log_events(args.name, follow=args.follow):
            prefix = f"{host} | " if hosts > 1 else ""  # one host: its lines as they are
            print(f"{local_time(stamp)} {prefix}{text}", flush=True)
        return 0
    if args.command == "serve":
        from orchestrator.cli.serve import serve  # the HTTP server: off `run`'s start path

        return serve(orch, args.host, args.port, args.dashboard or orch.settings.dashboard)
    if args.command == "search":
        return show_search(orch, load_request(args.request), args.json)
    if args.command == "metrics":
        return show_metrics(orch, args.name, args.json, args.follow)
    if args.command in ("batch-put-metrics", "batch-get-metrics"):
        request = load_request(args.request)
        call = (
            orch.batch_put_metrics
            if args.command == "batch-put-metrics"
            else (orch.batch_get_metrics)
        )
        print(to_json(call(**request)))
        return 0
    if args.command == "upload":
        count = orch.upload(Path(args.source), args.uri)
        print(f"uploaded {count} file(s) to {args.uri}")
        return 0
    adopted = orch.recover()
    for name in adopted:
        print(f"adopted {name}; following it until it ends")
    for name in adopted:
        orch.wait(name)
        print(f"{name}: {orch.describe_training_job(name)['TrainingJobStatus']}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    env = dict(os.environ)
    if args.home:
        env["ORCHESTRATOR_HOME"] = str(Path(args.home).expanduser())
    try:
        # Only `serve` keeps taking on jobs whose owner died: `run`, `stop` and `recover`
        # exit once their own jobs are done (recover adopts once, explicitly, and waits).
        adopt = args.command == "serve"
        orch = Orchestrator(settings_from_env(env), adopt_orphans=adopt)
        return _dispatch(args, orch)
    except OrchestratorError as exc:
        code = getattr(exc, "code", type(exc).__name__)
        print(f"orchestrator: {code}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:
        return 0
