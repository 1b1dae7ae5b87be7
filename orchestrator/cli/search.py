"""`orchestrator search`: the Search request's JSON in, a table or the response out."""

from __future__ import annotations

from typing import Any

from orchestrator.cli.render import local_time, table, to_json
from orchestrator.local import Orchestrator


def _row(job: dict[str, Any]) -> list[str]:
    metrics = ", ".join(
        f"{m['MetricName']}={m['Value']:.6g}" for m in job.get("FinalMetricDataList", [])
    )
    return [
        job["TrainingJobName"],
        job["TrainingJobStatus"],
        local_time(job["CreationTime"]),
        metrics or "-",
    ]


def show_search(orch: Orchestrator, request: dict[str, Any], as_json: bool) -> int:
    response = orch.search(**request)
    if as_json:
        print(to_json(response))
        return 0
    rows = [_row(result["TrainingJob"]) for result in response["Results"]]
    print(table(["NAME", "STATUS", "CREATED", "FINAL METRICS"], rows))
    total = response["TotalHits"]["Value"]
    print(f"({len(rows)} of {total} matching)")
    if "NextToken" in response:
        print(f'(more: add "NextToken": "{response["NextToken"]}" to the request)')
    return 0
