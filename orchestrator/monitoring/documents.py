"""Typed model-quality documents of SageMaker Model Monitor: statistics.json, constraints.json and
constraint_violations.json, as the analyzer in containers/model-quality writes them.

The layouts are the developer guide's: "Model quality metrics and Amazon CloudWatch monitoring"
(docs.aws.amazon.com/sagemaker/latest/dg/model-monitor-model-quality-metrics.html) for the
metric names and nesting, "Create a model quality baseline" and "Schema for Constraints
(constraints.json file)" for `<problem>_constraints`, and "Schema for Violations
(constraint_violations.json file)" for the violations. A metric is {"value", "standard_deviation"},
the deviation being the string "NaN" below 200 samples, as in the guide's examples.

Metric sections forbid unknown names (they are the documented, closed set); the document and
dataset levels, constraints and violations allow extra keys, since files written by AWS's own
analyzer or edited by hand may carry more.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ComparisonOperator = Literal[
    "LessThanThreshold",
    "GreaterThanThreshold",
    "LessThanOrEqualToThreshold",
    "GreaterThanOrEqualToThreshold",
]
ProblemType = Literal["Regression", "BinaryClassification", "MulticlassClassification"]
SECTIONS: dict[ProblemType, str] = {
    "Regression": "regression",
    "BinaryClassification": "binary_classification",
    "MulticlassClassification": "multiclass_classification",
}

# {actual label: {predicted label: count}}
ConfusionMatrix = dict[str, dict[str, int]]


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class Metric(_Closed):
    value: float
    standard_deviation: float | Literal["NaN"]


class RocCurve(_Closed):
    false_positive_rates: list[float]
    true_positive_rates: list[float]

    @model_validator(mode="after")
    def _paired(self) -> RocCurve:
        if len(self.false_positive_rates) != len(self.true_positive_rates):
            raise ValueError("the ROC curve's rate lists differ in length")
        return self


class PrecisionRecallCurve(_Closed):
    precisions: list[float]
    recalls: list[float]

    @model_validator(mode="after")
    def _paired(self) -> PrecisionRecallCurve:
        if len(self.precisions) != len(self.recalls):
            raise ValueError("the precision-recall curve's lists differ in length")
        return self


class RegressionMetrics(_Closed):
    mae: Metric
    mse: Metric
    rmse: Metric
    r2: Metric


class BinaryClassificationMetrics(_Closed):
    confusion_matrix: ConfusionMatrix
    recall: Metric
    precision: Metric
    accuracy: Metric
    recall_best_constant_classifier: Metric
    precision_best_constant_classifier: Metric
    accuracy_best_constant_classifier: Metric
    true_positive_rate: Metric
    true_negative_rate: Metric
    false_positive_rate: Metric
    false_negative_rate: Metric
    receiver_operating_characteristic_curve: RocCurve
    precision_recall_curve: PrecisionRecallCurve
    auc: Metric
    f0_5: Metric
    f1: Metric
    f2: Metric
    f0_5_best_constant_classifier: Metric
    f1_best_constant_classifier: Metric
    f2_best_constant_classifier: Metric


class MulticlassClassificationMetrics(_Closed):
    confusion_matrix: ConfusionMatrix
    accuracy: Metric
    weighted_recall: Metric
    weighted_precision: Metric
    weighted_f0_5: Metric
    weighted_f1: Metric
    weighted_f2: Metric
    accuracy_best_constant_classifier: Metric
    weighted_recall_best_constant_classifier: Metric
    weighted_precision_best_constant_classifier: Metric
    weighted_f0_5_best_constant_classifier: Metric
    weighted_f1_best_constant_classifier: Metric
    weighted_f2_best_constant_classifier: Metric


class Dataset(_Open):
    item_count: int = Field(ge=0)


def _one_section(document: BaseModel, suffix: str) -> ProblemType:
    """The problem type of a document that must hold exactly one `<section><suffix>` key."""
    present = [
        problem
        for problem, section in SECTIONS.items()
        if getattr(document, f"{section}{suffix}") is not None
    ]
    if len(present) != 1:
        names = ", ".join(f"{section}{suffix}" for section in SECTIONS.values())
        raise ValueError(f"exactly one of {names} is expected, found {len(present)}")
    return present[0]


class ModelQualityStatistics(_Open):
    """statistics.json of a model-quality baseline or monitoring execution."""

    version: float = 0.0
    dataset: Dataset
    regression_metrics: RegressionMetrics | None = None
    binary_classification_metrics: BinaryClassificationMetrics | None = None
    multiclass_classification_metrics: MulticlassClassificationMetrics | None = None

    @model_validator(mode="after")
    def _one_problem(self) -> ModelQualityStatistics:
        _one_section(self, "_metrics")
        return self

    @property
    def problem_type(self) -> ProblemType:
        return _one_section(self, "_metrics")


class Constraint(_Open):
    threshold: float
    comparison_operator: ComparisonOperator


class ModelQualityConstraints(_Open):
    """constraints.json: a threshold and comparison per metric, for one problem type."""

    version: float = 0.0
    regression_constraints: dict[str, Constraint] | None = None
    binary_classification_constraints: dict[str, Constraint] | None = None
    multiclass_classification_constraints: dict[str, Constraint] | None = None

    @model_validator(mode="after")
    def _one_problem(self) -> ModelQualityConstraints:
        _one_section(self, "_constraints")
        return self

    @property
    def problem_type(self) -> ProblemType:
        return _one_section(self, "_constraints")


class Violation(_Open):
    """One entry: for model quality the check type is the comparison operator that held."""

    constraint_check_type: str
    description: str
    metric_name: str | None = None
    # Data-quality violations name a feature instead of a metric.
    feature_name: str | None = None


class ConstraintViolations(_Open):
    """constraint_violations.json of a monitoring execution."""

    violations: list[Violation]
