"""Job start on the Swarm runtime vs the Docker runtime: create -> the first log line of every
host, for 1 and 4 hosts, on the local engine made a single-node swarm for the run (and left
again afterwards if it was in none). Median of R runs after a warm-up, both in one run.

Swarm adds its scheduler (a service, its task assigned and started by the node's agent) and
reads logs through the manager; the ratio says what that costs a job's start.

    .venv/bin/python benchmarks/swarm_start.py [--runs 5] [--hosts 1 4]
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import tempfile
from pathlib import Path

import docker

from benchmarks.distributed_start import ours
from orchestrator import Orchestrator, Settings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--hosts", type=int, nargs="+", default=[1, 4])
    args = parser.parse_args()
    client = docker.from_env()
    made = client.info()["Swarm"]["LocalNodeState"] == "inactive"
    if made:
        client.swarm.init(advertise_addr="127.0.0.1", listen_addr="127.0.0.1:2377")
    try:
        with tempfile.TemporaryDirectory(prefix="bench-swarm-") as tmp:
            base = Settings(home=Path(tmp) / "docker", poll_seconds=0.05)
            local = Orchestrator(base)  # stores of their own: neither reaps the other's
            swarm = Orchestrator(
                dataclasses.replace(base, home=Path(tmp) / "swarm", runtime="swarm")
            )
            print(f"median of {args.runs} runs after a warm-up: create -> every host's first line")
            for hosts in args.hosts:
                ours(local, f"warm-docker-{hosts}", hosts)
                ours(swarm, f"warm-swarm-{hosts}", hosts)
                mine = statistics.median(
                    ours(swarm, f"swarm-{hosts}-{i}", hosts) for i in range(args.runs)
                )
                theirs = statistics.median(
                    ours(local, f"docker-{hosts}-{i}", hosts) for i in range(args.runs)
                )
                print(
                    f"N={hosts}  swarm {mine:.3f} s  docker {theirs:.3f} s"
                    f"  ratio {mine / theirs:.2f}x  diff {mine - theirs:+.3f} s"
                )
            swarm.close()
            local.close()
    finally:
        if made:
            client.swarm.leave(force=True)


if __name__ == "__main__":
    main()
