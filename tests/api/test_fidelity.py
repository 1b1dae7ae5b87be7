"""What an audit against SageMaker found (issue 16), through boto3 and raw requests."""

from __future__ import annotations

import itertools
import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest

from orchestrator import Orchestrator
from orchestrator.api.server import ApiServer
from tests.api.test_wire import JSON11, call, error_of
from tests.integration.conftest import job, logged, orphaned, wait_until
from tests.integration.test_cli import cli, start, write_job

pytestmark = pytest.mark.docker

MISSING_ARN = "arn:aws:sagemaker:us-east-1:000000000000:training-job/nope"


def _code(error: botocore.exceptions.ClientError) -> str:
    return str(error.response["Error"]["Code"])


def test_search_needs_a_resource_over_http(server: ApiServer) -> None:
    headers = {"Content-Type": JSON11, "X-Amz-Target": "SageMaker.Search"}
    error = error_of(*call(server, "POST", "/", json.dumps({}).encode(), headers))
    assert error["__type"] == "ValidationException" and "Resource" in error["message"]


def test_tag_keys_starting_with_aws_are_refused(sm: Any) -> None:
    with pytest.raises(botocore.exceptions.ClientError) as created:
        sm.create_training_job(**job("reserved", Tags=[{"Key": "aws:team", "Value": "x"}]))
    assert _code(created.value) == "ValidationException" and "aws:" in str(created.value)
    arn = sm.create_training_job(**job("tagged", ["ok"]))["TrainingJobArn"]
    with pytest.raises(botocore.exceptions.ClientError) as added:
        sm.add_tags(ResourceArn=arn, Tags=[{"Key": "AWS:cost", "Value": "1"}])
    assert _code(added.value) == "ValidationException"


@pytest.mark.parametrize("operation", ["list_tags", "add_tags", "delete_tags"])
def test_tags_of_an_unknown_arn_are_a_validation_error(sm: Any, operation: str) -> None:
    arguments: dict[str, Any] = {"ResourceArn": MISSING_ARN}
    if operation == "add_tags":
        arguments["Tags"] = [{"Key": "k", "Value": "v"}]
    if operation == "delete_tags":
        arguments["TagKeys"] = ["k"]
    with pytest.raises(botocore.exceptions.ClientError) as missing:
        getattr(sm, operation)(**arguments)
    assert _code(missing.value) == "ValidationException"
    assert "Requested resource not found" in str(missing.value)


def test_a_job_that_never_started_reports_no_training_times(sm: Any) -> None:
    request = job("no-image")
    request["AlgorithmSpecification"]["TrainingImage"] = "orchestrator/does-not-exist:1"
    sm.create_training_job(**request)
    with pytest.raises(botocore.exceptions.WaiterError):
        sm.get_waiter("training_job_completed_or_stopped").wait(
            TrainingJobName="no-image", WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )
    described = sm.describe_training_job(TrainingJobName="no-image")
    assert described["TrainingJobStatus"] == "Failed"
    for absent in ("TrainingStartTime", "TrainingTimeInSeconds", "BillableTimeInSeconds"):
        assert absent not in described


def test_metrics_of_a_missing_job_is_one_line_not_a_traceback(env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "orchestrator", "metrics", "nope"],
        env=env,
        text=True,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "orchestrator: ValidationException: Requested resource not found. (TrainingJob 'nope')"
    ]


def test_names_are_unique_without_regard_to_case(sm: Any) -> None:
    arn = sm.create_training_job(**job("MyJob", ["sleep", "60"]))["TrainingJobArn"]
    assert arn.endswith(":training-job/myjob")
    with pytest.raises(sm.exceptions.ResourceInUse):
        sm.create_training_job(**job("myjob", ["ok"]))  # would share MyJob's ARN
    described = sm.describe_training_job(TrainingJobName="MYJOB")
    assert described["TrainingJobName"] == "MyJob" and described["TrainingJobArn"] == arn
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": "team", "Value": "vision"}])
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "vision"}]
    sm.stop_training_job(TrainingJobName="myjob")  # any case reaches the one job
    sm.get_waiter("training_job_completed_or_stopped").wait(
        TrainingJobName="myJob", WaiterConfig={"Delay": 1, "MaxAttempts": 60}
    )
    assert sm.describe_training_job(TrainingJobName="MyJob")["TrainingJobStatus"] == "Stopped"
    names = [s["TrainingJobName"] for s in sm.list_training_jobs()["TrainingJobSummaries"]]
    assert names == ["MyJob"]


def test_a_search_expression_forty_levels_deep_is_answered(sm: Any) -> None:
    sm.create_training_job(**job("deep-search", ["ok"]))
    expression: dict[str, Any] = {
        "Filters": [{"Name": "TrainingJobName", "Operator": "Equals", "Value": "deep-search"}]
    }
    for level in range(40):
        expression = {"Operator": ["And", "Or"][level % 2], "SubExpressions": [expression]}
    found = sm.search(Resource="TrainingJob", SearchExpression=expression)
    assert [r["TrainingJob"]["TrainingJobName"] for r in found["Results"]] == ["deep-search"]


def test_visibility_conditions_and_cross_account_filter(sm: Any) -> None:
    sm.create_training_job(**job("seen", ["ok"], Tags=[{"Key": "team", "Value": "vision"}]))
    sm.create_training_job(**job("unseen", ["ok"]))
    visible = sm.search(
        Resource="TrainingJob", VisibilityConditions=[{"Key": "Tags.team", "Value": "vision"}]
    )
    assert [r["TrainingJob"]["TrainingJobName"] for r in visible["Results"]] == ["seen"]
    cross = sm.search(Resource="TrainingJob", CrossAccountFilterOption="CrossAccount")
    assert cross["Results"] == [] and cross["TotalHits"]["Value"] == 0
    with pytest.raises(botocore.exceptions.ClientError) as bad:
        sm.search(Resource="TrainingJob", VisibilityConditions=[{"Key": "team", "Value": "x"}])
    assert _code(bad.value) == "ValidationException"


@pytest.mark.parametrize(
    "resource", ["Endpoint", "Pipeline", "ModelPackage", "HyperParameterTuningJob"]
)
def test_search_over_a_resource_type_never_held_is_empty(sm: Any, resource: str) -> None:
    found = sm.search(Resource=resource)
    assert found["Results"] == [] and found["TotalHits"] == {"Value": 0, "Relation": "EqualTo"}


def test_an_adopted_jobs_metric_points_keep_the_times_their_lines_were_written(
    sm: Any, orch: Orchestrator, env: dict[str, str], tmp_path: Path
) -> None:
    request = job("adopted-metrics", ["metrics", "12", "0.25"])
    request["AlgorithmSpecification"]["MetricDefinitions"] = [
        {"Name": "loss", "Regex": r"loss=([0-9.]+)"}
    ]
    runner = start(env, "run", write_job(tmp_path, request))
    try:
        wait_until(lambda: orch.store.get("adopted-metrics") is not None, "the job")
        wait_until(lambda: logged(orch, "adopted-metrics", "step=2 "), "three points")
        runner.send_signal(signal.SIGKILL)  # the rest is written while no engine reads it
        runner.communicate(timeout=30)
        wait_until(lambda: orphaned(orch, "adopted-metrics"), "the lease to run out")
        assert cli(env, "recover").returncode == 0
    finally:
        runner.kill()
    written = [stamp for stamp, text in orch.log_events("adopted-metrics") if "loss=" in text]
    points = orch.metric_series("adopted-metrics", "loss")
    assert len(points) == len(written) == 12
    assert [p.timestamp for p in points] == pytest.approx(written, abs=1e-3)
    gaps = [b - a for a, b in itertools.pairwise(written)]
    assert min(gaps) > 0.1  # as the container wrote them, not bunched at the adoption
    final = sm.describe_training_job(TrainingJobName="adopted-metrics")["FinalMetricDataList"]
    assert final[0]["Timestamp"].timestamp() == pytest.approx(written[-1], abs=1e-3)


def test_delete_training_job(sm: Any) -> None:
    sm.create_training_job(**job("to-delete", ["sleep", "600"]))
    with pytest.raises(sm.exceptions.ResourceInUse):
        sm.delete_training_job(TrainingJobName="to-delete")  # InProgress
    sm.stop_training_job(TrainingJobName="to-delete")
    sm.get_waiter("training_job_completed_or_stopped").wait(
        TrainingJobName="to-delete", WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    sm.delete_training_job(TrainingJobName="to-delete")
    with pytest.raises(botocore.exceptions.ClientError) as gone:
        sm.describe_training_job(TrainingJobName="to-delete")
    assert _code(gone.value) == "ValidationException"
    with pytest.raises(sm.exceptions.ResourceNotFound):
        sm.delete_training_job(TrainingJobName="to-delete")
    sm.create_training_job(**job("to-delete", ["ok"]))  # the name can be used again
