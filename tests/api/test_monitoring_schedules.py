"""Monitoring schedules through unmodified boto3: the operations, their errors, and an
execution that cannot start."""

from __future__ import annotations

from typing import Any

import botocore.exceptions
import pytest

from tests.api.test_model_quality_definitions import definition
from tests.integration.conftest import wait_until

pytestmark = pytest.mark.docker


def schedule(name: str, expression: str = "cron(0 * ? * * *)", **config: Any) -> dict[str, Any]:
    return {
        "MonitoringScheduleName": name,
        "MonitoringScheduleConfig": {
            "ScheduleConfig": {"ScheduleExpression": expression, **config},
            "MonitoringJobDefinitionName": "mq-s",
            "MonitoringType": "ModelQuality",
        },
    }


def _error(call: Any, **request: Any) -> tuple[str, str]:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        call(**request)
    error = caught.value.response["Error"]
    return str(error["Code"]), str(error["Message"])


def test_a_schedule_is_created_stopped_started_and_deleted(sm: Any) -> None:
    sm.create_model_quality_job_definition(**definition(JobDefinitionName="mq-s"))
    arn = sm.create_monitoring_schedule(**schedule("hourly"))["MonitoringScheduleArn"]
    assert arn.endswith(":monitoring-schedule/hourly")
    described = sm.describe_monitoring_schedule(MonitoringScheduleName="hourly")
    assert described["MonitoringScheduleStatus"] == "Scheduled"
    assert described["MonitoringType"] == "ModelQuality"
    assert described["MonitoringScheduleConfig"]["MonitoringJobDefinitionName"] == "mq-s"
    sm.stop_monitoring_schedule(MonitoringScheduleName="hourly")
    listed = sm.list_monitoring_schedules(StatusEquals="Stopped")["MonitoringScheduleSummaries"]
    assert [s["MonitoringScheduleName"] for s in listed] == ["hourly"]
    sm.start_monitoring_schedule(MonitoringScheduleName="hourly")
    status = sm.describe_monitoring_schedule(MonitoringScheduleName="hourly")
    assert status["MonitoringScheduleStatus"] == "Scheduled"
    code, message = _error(sm.delete_model_quality_job_definition, JobDefinitionName="mq-s")
    assert code == "ResourceInUse" and "hourly" in message
    sm.delete_monitoring_schedule(MonitoringScheduleName="hourly")
    code, _ = _error(sm.describe_monitoring_schedule, MonitoringScheduleName="hourly")
    assert code == "ResourceNotFound"
    sm.delete_model_quality_job_definition(JobDefinitionName="mq-s")


@pytest.mark.parametrize(
    ("request_", "code", "expected"),
    [
        (schedule("bad-cron", "cron(30 * ? * * *)"), "ValidationException", "on the hour"),
        (schedule("bad-now", "NOW"), "ValidationException", "DataAnalysisStartTime"),
        (
            schedule(
                "bad-offset", "NOW", DataAnalysisStartTime="PT1H", DataAnalysisEndTime="-PT0H"
            ),
            "ValidationException",
            "negative ISO 8601 duration",
        ),
    ],
)
def test_bad_schedules_are_refused(
    sm: Any, request_: dict[str, Any], code: str, expected: str
) -> None:
    sm.create_model_quality_job_definition(**definition(JobDefinitionName="mq-s"))
    got, message = _error(sm.create_monitoring_schedule, **request_)
    assert got == code and expected in message, message


def test_an_unknown_definition_or_type_is_refused(sm: Any) -> None:
    code, _ = _error(sm.create_monitoring_schedule, **schedule("orphan"))
    assert code == "ResourceNotFound"
    sm.create_model_quality_job_definition(**definition(JobDefinitionName="mq-s"))
    other = schedule("data-quality")
    other["MonitoringScheduleConfig"]["MonitoringType"] = "DataQuality"
    code, message = _error(sm.create_monitoring_schedule, **other)
    assert code == "ValidationException" and "not supported by this orchestrator yet" in message


def test_an_execution_without_captured_data_fails_saying_so(sm: Any) -> None:
    sm.create_model_quality_job_definition(**definition(JobDefinitionName="mq-s"))
    window = {"DataAnalysisStartTime": "-PT1H", "DataAnalysisEndTime": "-PT0H"}
    sm.create_monitoring_schedule(**schedule("once", "NOW", **window))

    def executions() -> list[dict[str, Any]]:
        found = sm.list_monitoring_executions(MonitoringScheduleName="once")
        return list(found["MonitoringExecutionSummaries"])

    wait_until(lambda: bool(executions()), "the one-time execution")
    (execution,) = executions()
    assert execution["MonitoringExecutionStatus"] == "Failed"
    assert "s3://mq/captured" in execution["FailureReason"]
