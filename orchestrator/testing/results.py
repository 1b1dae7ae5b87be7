"""A training job run to its end, and assertions whose failures say what a developer needs when
a container test fails in CI: the status history with its messages, the failure reason and the
last log lines."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

LOG_TAIL = 25


@dataclass(frozen=True)
class TrainingJobResult:
    name: str
    description: dict[str, Any]
    log_lines: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return str(self.description.get("TrainingJobStatus"))

    @property
    def failure_reason(self) -> str | None:
        reason = self.description.get("FailureReason")
        return str(reason) if reason is not None else None

    @property
    def metrics(self) -> dict[str, float]:
        """FinalMetricDataList: each metric's last value."""
        return {
            str(m["MetricName"]): float(m["Value"])
            for m in self.description.get("FinalMetricDataList") or []
        }

    @property
    def model_artifacts(self) -> str | None:
        artifacts = self.description.get("ModelArtifacts") or {}
        return artifacts.get("S3ModelArtifacts")

    def explain(self) -> str:
        """The job's story: statuses with their messages, why it failed, its last log lines."""
        lines = [f"training job {self.name}: {self.status}"]
        for step in self.description.get("SecondaryStatusTransitions") or []:
            lines.append(f"  {step.get('Status')}: {step.get('StatusMessage', '')}")
        if self.failure_reason:
            lines.append(f"FailureReason: {self.failure_reason}")
        tail = self.log_lines[-LOG_TAIL:]
        if tail:
            skipped = len(self.log_lines) - len(tail)
            more = f" (the last {len(tail)} of {len(self.log_lines)})" if skipped else ""
            lines.append(f"log{more}:")
            lines += [f"  | {line}" for line in tail]
        else:
            lines.append("log: (empty)")
        return "\n".join(lines)

    def _fail(self, wanted: str) -> None:
        raise AssertionError(f"{wanted}\n{self.explain()}")

    def assert_completed(self) -> TrainingJobResult:
        if self.status != "Completed":
            self._fail(f"expected training job {self.name} to complete; it ended {self.status}")
        return self

    def assert_failed(self, reason_contains: str | None = None) -> TrainingJobResult:
        if self.status != "Failed":
            self._fail(f"expected training job {self.name} to fail; it ended {self.status}")
        if reason_contains is not None and reason_contains not in (self.failure_reason or ""):
            self._fail(f"expected the FailureReason to contain {reason_contains!r}")
        return self

    def assert_stopped(self) -> TrainingJobResult:
        if self.status != "Stopped":
            self._fail(f"expected training job {self.name} to stop; it ended {self.status}")
        return self

    def assert_metric(
        self, name: str, at_least: float | None = None, at_most: float | None = None
    ) -> float:
        """The metric's final value, checked against the bounds given."""
        if name not in self.metrics:
            self._fail(f"expected a final value of metric {name!r}; it has {sorted(self.metrics)}")
        value = self.metrics[name]
        if at_least is not None and value < at_least:
            self._fail(f"expected metric {name} >= {at_least}; it ended at {value}")
        if at_most is not None and value > at_most:
            self._fail(f"expected metric {name} <= {at_most}; it ended at {value}")
        return value

    def assert_logged(self, text: str) -> TrainingJobResult:
        if not any(text in line for line in self.log_lines):
            self._fail(f"expected a log line containing {text!r}")
        return self
