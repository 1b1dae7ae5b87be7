"""`orchestrator metrics NAME`: each metric's last/min/max/count and its curve."""

from __future__ import annotations

import json
import time
from typing import Any

from orchestrator.cli.plot import plot
from orchestrator.cli.render import table
from orchestrator.local import Orchestrator

CLEAR = "\x1b[H\x1b[2J"


def metrics_document(orch: Orchestrator, name: str) -> dict[str, Any]:
    metrics = []
    for summary in orch.metric_summaries(name):
        points = orch.metric_series(name, summary.metric)
        metrics.append(
            {
                "MetricName": summary.metric,
                "Last": summary.last,
                "LastTimestamp": summary.last_timestamp,
                "Min": summary.minimum,
                "Max": summary.maximum,
                "Count": summary.count,
                "Points": [
                    {"Iteration": p.iteration, "Timestamp": p.timestamp, "Value": p.value}
                    for p in points
                ],
            }
        )
    return {"TrainingJobName": name, "Metrics": metrics}


def render(document: dict[str, Any]) -> str:
    metrics = document["Metrics"]
    if not metrics:
        return f"{document['TrainingJobName']}: no metric points yet"
    rows = [
        [m["MetricName"], f"{m['Last']:.6g}", f"{m['Min']:.6g}", f"{m['Max']:.6g}", str(m["Count"])]
        for m in metrics
    ]
    parts = [table(["METRIC", "LAST", "MIN", "MAX", "COUNT"], rows)]
    for metric in metrics:
        parts.append(f"\n{metric['MetricName']} ({metric['Count']} points)")
        parts.extend(plot([p["Value"] for p in metric["Points"]]))
    return "\n".join(parts)


def show_metrics(orch: Orchestrator, name: str, as_json: bool, follow: bool) -> int:
    if as_json:
        print(json.dumps(metrics_document(orch, name), indent=2))
        return 0
    while True:
        ended = orch.settled(name)
        text = render(metrics_document(orch, name))
        print(f"{CLEAR}{text}" if follow else text, flush=True)
        if not follow or ended:
            return 0
        time.sleep(1.0)
