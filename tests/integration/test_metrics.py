"""MetricDefinitions scraped from real containers, including across a supervisor crash."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from orchestrator import Orchestrator
from tests.integration.conftest import job, logged, orphaned, wait_until
from tests.integration.test_cli import cli, start, wait_for, write_job

pytestmark = pytest.mark.docker

DEFINITIONS = [
    {"Name": "loss", "Regex": r"loss=([0-9.]+)"},
    {"Name": "accuracy", "Regex": r"accuracy=([^ ]+)"},  # always 'nan': never stored
    {"Name": "step", "Regex": r"step=(\d+)"},
]


def metrics_job(name: str, count: int, pause: float) -> dict[str, object]:
    request = job(name, ["metrics", str(count), str(pause)])
    request["AlgorithmSpecification"]["MetricDefinitions"] = DEFINITIONS  # type: ignore[index]
    return request


def test_metrics_are_scraped_into_the_store(orch: Orchestrator) -> None:
    orch.create_training_job(metrics_job("scraped", 25, 0.0))
    described = orch.wait("scraped", timeout=60)
    final = {m["MetricName"]: m["Value"] for m in described["FinalMetricDataList"]}
    assert final == {"loss": pytest.approx(1 / 25), "step": 24.0}
    series = orch.metric_series("scraped", "loss")
    assert [p.iteration for p in series] == list(range(25))
    assert [p.value for p in series] == [round(1 / (i + 1), 6) for i in range(25)]
    result = orch.batch_get_metrics(
        MetricQueries=[
            {
                "MetricName": "step",
                "ResourceArn": described["TrainingJobArn"],
                "MetricStat": "Max",
                "Period": "OneHour",
                "XAxisType": "Timestamp",
            }
        ]
    )["MetricQueryResults"][0]
    assert result["Status"] == "Complete" and result["MetricValues"] == [24.0]


def test_metrics_survive_the_supervisor_being_killed(
    env: dict[str, str], tmp_path: Path, orch: Orchestrator
) -> None:
    runner = start(env, "run", write_job(tmp_path, metrics_job("crashy", 40, 0.1)))
    wait_for(env, "crashy", "Training")
    # Some points stored, some lines only in the log file, some still to come.
    wait_until(lambda: logged(orch, "crashy", "step=", times=12), "a dozen metric lines")
    runner.send_signal(signal.SIGKILL)
    runner.communicate(timeout=10)
    wait_until(lambda: orphaned(orch, "crashy"), "the lease to run out")
    recovered = cli(env, "recover")
    assert "crashy: Completed" in recovered.stdout, recovered.stderr
    shown = json.loads(cli(env, "metrics", "crashy", "--json").stdout)
    loss = next(m for m in shown["Metrics"] if m["MetricName"] == "loss")
    assert [p["Iteration"] for p in loss["Points"]] == list(range(40))
    assert [p["Value"] for p in loss["Points"]] == [round(1 / (i + 1), 6) for i in range(40)]
    assert {m["MetricName"] for m in shown["Metrics"]} == {"loss", "step"}
    table = cli(env, "metrics", "crashy").stdout
    assert table.splitlines()[0].split() == ["METRIC", "LAST", "MIN", "MAX", "COUNT"]
    assert "loss (40 points)" in table
