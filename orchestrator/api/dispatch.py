"""Which operation a request names, its input validated against the model, and the call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from orchestrator.api.cloudwatch import CloudWatchApi
from orchestrator.api.logs import LogsApi
from orchestrator.errors import ProtocolError, ValidationError
from orchestrator.local import Orchestrator
from orchestrator.operations import resources
from orchestrator.validation.model import input_shape, validate_shape

Handler = Callable[[dict[str, Any]], dict[str, Any]]

SAGEMAKER_PREFIX = "SageMaker."
LOGS_PREFIX = "Logs_20140328."
# Smithy RPC v2 CBOR, which botocore speaks to CloudWatch: POST /service/<id>/operation/<op>
CLOUDWATCH_PATH = "/service/GraniteServiceVersion20100801/operation/"
# ... or AWS JSON 1.0 (botocore picks one of the protocols the model lists)
CLOUDWATCH_PREFIX = "GraniteServiceVersion20100801."
# Operations of our own, beside the AWS ones (not in any AWS model): fault injection.
ORCHESTRATOR_PREFIX = "Orchestrator."


class Dispatcher:
    def __init__(self, orch: Orchestrator) -> None:
        self.orch = orch
        logs = LogsApi(orch.store, orch.settings)
        store, clock = orch.store, orch.clock
        # Operations that validate their own input (with more specific rules) are marked True.
        self.sagemaker: dict[str, tuple[Handler, bool]] = {
            "CreateTrainingJob": (self._create, True),
            "DescribeTrainingJob": (
                lambda r: orch.describe_training_job(r["TrainingJobName"]),
                False,
            ),
            "ListTrainingJobs": (lambda r: orch.list_training_jobs(**r), True),
            "StopTrainingJob": (self._stop, False),
            "DeleteTrainingJob": (self._delete, False),
            "CreateProcessingJob": (lambda r: orch.create_processing_job(r), True),
            "DescribeProcessingJob": (
                lambda r: orch.describe_processing_job(r["ProcessingJobName"]),
                True,
            ),
            "ListProcessingJobs": (lambda r: orch.list_processing_jobs(**r), True),
            "StopProcessingJob": (self._stop_processing, True),
            "CreateModelQualityJobDefinition": (lambda r: orch.model_quality("create", r), True),
            "DescribeModelQualityJobDefinition": (
                lambda r: orch.model_quality("describe", r),
                True,
            ),
            "ListModelQualityJobDefinitions": (lambda r: orch.model_quality("list", r), True),
            "DeleteModelQualityJobDefinition": (lambda r: orch.model_quality("delete", r), True),
            **{
                f"{operation}MonitoringSchedule": (self._schedules(operation), True)
                for operation in ("Create", "Describe", "Delete", "Start", "Stop")
            },
            "ListMonitoringSchedules": (self._schedules("List"), True),
            "ListMonitoringExecutions": (self._schedules("Executions"), True),
            "DescribeTrialComponent": (
                lambda r: orch.describe_trial_component(r["TrialComponentName"]),
                False,
            ),
            "UpdateTrainingJob": (lambda r: resources.update_training_job(store, clock, r), False),
            "AddTags": (lambda r: resources.add_tags(store, r), False),
            "ListTags": (lambda r: resources.list_tags(store, r), False),
            "DeleteTags": (lambda r: resources.delete_tags(store, r), False),
            # The model requires Resource over HTTP; the Python API defaults it to TrainingJob.
            "Search": (self._search, True),
        }
        self.logs: dict[str, Handler] = {
            "DescribeLogStreams": logs.describe_log_streams,
            "GetLogEvents": logs.get_log_events,
            "FilterLogEvents": logs.filter_log_events,
        }
        cloudwatch = CloudWatchApi(orch.store, orch.metrics)
        self.cloudwatch: dict[str, Handler] = {
            "GetMetricStatistics": cloudwatch.get_metric_statistics,
            "ListMetrics": cloudwatch.list_metrics,
        }
        self.own: dict[str, Handler] = {"InjectFault": self._inject_fault}
        self.metrics: dict[tuple[str, str], Handler] = {
            ("PUT", "/BatchPutMetrics"): lambda r: orch.batch_put_metrics(**r),
            ("POST", "/BatchGetMetrics"): lambda r: orch.batch_get_metrics(**r),
        }

    def resolve(self, method: str, path: str, target: str | None) -> Handler:
        """The operation a request names: by X-Amz-Target (JSON 1.1), by its path (RPC v2
        CBOR: CloudWatch), or by method and path (sagemaker-metrics)."""
        if target and method == "POST" and path == "/":
            return self._target(target)
        if path.startswith(CLOUDWATCH_PATH) and method == "POST":
            handler = self.cloudwatch.get(path[len(CLOUDWATCH_PATH) :])
            if handler is None:
                raise ProtocolError("UnknownOperationException", f"Unknown operation {path}.", 404)
            return handler
        return self._rest(method, path)

    def _target(self, target: str) -> Handler:
        if target.startswith(SAGEMAKER_PREFIX):
            operation = target[len(SAGEMAKER_PREFIX) :]
            if operation in self.sagemaker:
                handler, validates_itself = self.sagemaker[operation]
                return handler if validates_itself else _validated(operation, handler)
        watch = self.cloudwatch.get(target.removeprefix(CLOUDWATCH_PREFIX))
        if target.startswith(CLOUDWATCH_PREFIX) and watch is not None:
            return watch
        if target.startswith(LOGS_PREFIX) and target[len(LOGS_PREFIX) :] in self.logs:
            return self.logs[target[len(LOGS_PREFIX) :]]
        if (
            target.startswith(ORCHESTRATOR_PREFIX)
            and target[len(ORCHESTRATOR_PREFIX) :] in self.own
        ):
            return self.own[target[len(ORCHESTRATOR_PREFIX) :]]
        raise ProtocolError("UnknownOperationException", f"Unknown operation {target!r}.")

    def _rest(self, method: str, path: str) -> Handler:
        """A sagemaker-metrics rest-json call."""
        handler = self.metrics.get((method, path))
        if handler is None:
            raise ProtocolError(
                "UnknownOperationException", f"Unknown operation {method} {path}.", 404
            )
        return handler

    def _create(self, request: dict[str, Any]) -> dict[str, Any]:
        return self.orch.create_training_job(request)

    def _search(self, request: dict[str, Any]) -> dict[str, Any]:
        if "Resource" not in request:
            raise ValidationError("1 validation error detected: Resource is required for Search")
        return self.orch.search(**request)

    def _inject_fault(self, request: dict[str, Any]) -> dict[str, Any]:
        """{"TrainingJobName", "FaultType": "internal-error", "AfterSeconds"?: number}"""
        name, kind = request.get("TrainingJobName"), request.get("FaultType")
        for field, value in (("TrainingJobName", name), ("FaultType", kind)):
            if not isinstance(value, str) or not value:
                raise ValidationError(f"{field} is required and must be a string")
        after = request.get("AfterSeconds")
        if after is not None and (isinstance(after, bool) or not isinstance(after, int | float)):
            raise ValidationError(f"AfterSeconds must be a number, got {after!r}")
        return self.orch.inject_fault(str(name), str(kind), after)

    def _stop(self, request: dict[str, Any]) -> dict[str, Any]:
        self.orch.stop_training_job(request["TrainingJobName"])
        return {}

    def _schedules(self, operation: str) -> Handler:
        return lambda request: self.orch.monitoring_schedule(operation, request)

    def _stop_processing(self, request: dict[str, Any]) -> dict[str, Any]:
        validate_shape(request, "StopProcessingJobRequest")
        self.orch.stop_processing_job(request["ProcessingJobName"])
        return {}

    def _delete(self, request: dict[str, Any]) -> dict[str, Any]:
        self.orch.delete_training_job(request["TrainingJobName"])
        return {}


def _validated(operation: str, handler: Handler) -> Handler:
    def call(body: dict[str, Any]) -> dict[str, Any]:
        validate_shape(body, input_shape(operation))
        return handler(body)

    return call
