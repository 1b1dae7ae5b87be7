"""SageMaker Model Monitor's model-quality analyzer, our own (Python standard library + numpy).

The container behind `ModelQualityMonitor.suggest_baseline(...)` and model-quality monitoring
executions: it reads a Model Monitor processing job's environment, computes the model quality
metrics of the records under `dataset_source`, and writes statistics.json, constraints.json and,
given `baseline_constraints`, constraint_violations.json to `output_path`, laid out as AWS's own
analyzer ("sagemaker-model-monitor-analyzer") lays them out.

Formats followed (SageMaker developer guide, docs.aws.amazon.com/sagemaker/latest/dg/<page>.html):
- "Container Contract Inputs" (model-monitor-byoc-contract-inputs): dataset_format,
  dataset_source, output_path, publish_cloudwatch_metrics, start_time/end_time,
  baseline_constraints, sagemaker_endpoint_name, sagemaker_monitoring_schedule_name. The
  model-quality variables (analysis_type=MODEL_QUALITY, problem_type, inference_attribute,
  probability_attribute, probability_threshold_attribute, ground_truth_attribute) and the
  dataset_format JSON in every spelling are the SageMaker Python SDK v2's (model_monitoring.py
  `_generate_env_map`; dataset_format.py DatasetFormat and MonitoringDatasetFormat).
- "Model quality metrics and Amazon CloudWatch monitoring" (model-monitor-model-quality-metrics):
  the metric names and nesting, each metric {"value", "standard_deviation"}; the deviation only
  from 200 samples on, "randomly sampling 80% of the data five times, computing the metric, and
  taking the standard deviation for those results", else "NaN" (a string, as in its examples).
- "Create a model quality baseline" (model-monitor-model-quality-baseline) and "Schema for
  Constraints" (model-monitor-byoc-constraints): `<problem>_constraints: {metric: {threshold,
  comparison_operator}}`, version 0.0.
- "Schema for Violations (constraint_violations.json file)" (model-monitor-interpreting-violations):
  {"violations": [...]}; the model-quality entry {constraint_check_type: the operator, description:
  "Metric <m> with <value> was <operator> <threshold>", metric_name} is as AWS's published
  companion code writes it (github.com/amzn/MonitoringCustomMetrics, "follows the formats and
  standards defined by Amazon SageMaker Model Monitor").
- "Container Contract Outputs" (model-monitor-byoc-contract-outputs), "CloudWatch Metrics for
  Bring Your Own Containers" (model-monitor-byoc-cloudwatch), "Save and Access Metadata
  Information About Your Processing Job" (byoc-metadata: /opt/ml/output/message = ExitMessage).

Where the documents are silent, the choices made here:
- Confusion matrix {actual: {predicted: count}}: the one reading under which the guide's examples
  agree with their own recall and precision.
- Binary best constant classifier: always answers 1 (the guide's example numbers are exactly
  that); multiclass: the most frequent true class (ties: first label). The guide's multiclass
  example fits no obvious rule.
- Binary labels are 0/1 or true/false (1.0 counts). Label = probability >= threshold when
  probability_attribute and probability_threshold_attribute are both given; a probability alone
  uses 0.5. Without a probability the curves and auc rank by the predicted label.
- Curves as Spark's BinaryClassificationMetrics (which the guide's example matches): a point per
  distinct score, descending; ROC gets (0,0) and (1,1) at its ends, PR starts at (recall 0, first
  precision); auc is the trapezoid area under that ROC. Over 1000 points a curve is thinned for
  the document (auc comes from the full curve).
- A zero denominator gives 0.0; r2 of a constant ground truth is 1.0 if exact, else 0.0.
- Standard deviation: 5 subsamples of floor(0.8 n) rows without replacement from numpy's
  default_rng with a fixed seed (reruns agree), sample standard deviation (n-1).
- Suggested constraints: threshold = baseline value, "LessThanThreshold" for higher-is-better
  metrics, "GreaterThanThreshold" for mae/mse/rmse/false_*_rate; best-constant metrics, the
  confusion matrix and curves get none. The ...OrEqualToThreshold operators are accepted too.
- Records missing a needed value are skipped (logged); item_count counts the records used. CSV
  without header: columns _c0, _c1, ... (the SDK examples' "auto-populated headers") or a bare
  index; JSON: a key or a simple JSONPath ($.a.b[0]). output_columns_position is ignored;
  Parquet and sagemakerCaptureJson are refused with a message.
- ExitMessage "Completed: ..." or "CompletedWithViolations: ... N violations." (exit 0), or
  "Error: <reason>" (exit 1). CloudWatch records go to <dir>/model_quality_metrics.jsonl.
Test hooks: ANALYZER_MESSAGE_PATH and ANALYZER_CLOUDWATCH_DIR replace the two /opt/ml paths.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

MESSAGE_PATH = "/opt/ml/output/message"
CLOUDWATCH_DIR = "/opt/ml/output/metrics/cloudwatch"
SECTIONS = {
    "Regression": "regression",
    "BinaryClassification": "binary_classification",
    "MulticlassClassification": "multiclass_classification",
}
MIN_ROWS_FOR_STD = 200
SUBSAMPLE_FRACTION = 0.8
SUBSAMPLE_ROUNDS = 5
SUBSAMPLE_SEED = 20201201
MAX_CURVE_POINTS = 1000
F_BETAS = {"f0_5": 0.5, "f1": 1.0, "f2": 2.0}
BEST = "_best_constant_classifier"
LOWER_IS_BETTER = frozenset({"mae", "mse", "rmse", "false_positive_rate", "false_negative_rate"})
# The order of each section follows the guide's examples.
ORDER = {
    "regression": ("mae", "mse", "rmse", "r2"),
    "binary_classification": (
        "confusion_matrix", "recall", "precision", "accuracy", "recall_best_constant_classifier",
        "precision_best_constant_classifier", "accuracy_best_constant_classifier",
        "true_positive_rate", "true_negative_rate", "false_positive_rate", "false_negative_rate",
        "receiver_operating_characteristic_curve", "precision_recall_curve", "auc", "f0_5", "f1",
        "f2", "f0_5_best_constant_classifier", "f1_best_constant_classifier",
        "f2_best_constant_classifier",
    ),
    "multiclass_classification": (
        "confusion_matrix", "accuracy", "weighted_recall", "weighted_precision", "weighted_f0_5",
        "weighted_f1", "weighted_f2", "accuracy_best_constant_classifier",
        "weighted_recall_best_constant_classifier", "weighted_precision_best_constant_classifier",
        "weighted_f0_5_best_constant_classifier", "weighted_f1_best_constant_classifier",
        "weighted_f2_best_constant_classifier",
    ),
}  # fmt: skip
OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "LessThanThreshold": lambda value, threshold: value < threshold,
    "GreaterThanThreshold": lambda value, threshold: value > threshold,
    "LessThanOrEqualToThreshold": lambda value, threshold: value <= threshold,
    "GreaterThanOrEqualToThreshold": lambda value, threshold: value >= threshold,
}
COLUMN_INDEX = re.compile(r"^(?:_c)?(\d+)$")


class AnalyzerError(Exception):
    """Bad input: the message becomes the processing job's ExitMessage."""


@dataclass(frozen=True)
class Config:
    section: str
    source: Path
    output: Path
    kind: str  # "csv" or "json"
    header: bool
    lines: bool
    ground_truth: str
    inference: str | None
    probability: str | None
    threshold: float | None
    baseline_constraints: Path | None
    env: Mapping[str, str]


def load_config(env: Mapping[str, str]) -> Config:
    analysis = env.get("analysis_type", "MODEL_QUALITY")
    if analysis != "MODEL_QUALITY":
        raise AnalyzerError(f"analysis_type {analysis!r}: this analyzer does MODEL_QUALITY only")
    problem = env.get("problem_type", "")
    if problem not in SECTIONS:
        raise AnalyzerError(f"problem_type {problem!r} is not one of {', '.join(SECTIONS)}")
    kind, header, lines = parse_dataset_format(env.get("dataset_format", ""))
    constraints = env.get("baseline_constraints")
    return Config(
        section=SECTIONS[problem],
        source=Path(required(env, "dataset_source")),
        output=Path(required(env, "output_path")),
        kind=kind,
        header=header,
        lines=lines,
        ground_truth=required(env, "ground_truth_attribute"),
        inference=env.get("inference_attribute") or None,
        probability=env.get("probability_attribute") or None,
        threshold=parse_threshold(env.get("probability_threshold_attribute")),
        baseline_constraints=Path(constraints) if constraints else None,
        env=env,
    )


def required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "")
    if not value:
        raise AnalyzerError(f"the environment variable {name} is not set")
    return value


def parse_threshold(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise AnalyzerError(f"probability_threshold_attribute {text!r} is not a number") from None


def parse_dataset_format(text: str) -> tuple[str, bool, bool]:
    """(kind, header, lines) from the SDK's DatasetFormat ({"csv": {"header": true}},
    {"json": {"lines": true}}), MonitoringDatasetFormat ({"Csv": {"Header": true}},
    {"Json": {"Line": true}}) or the guide's forms (booleans may be strings)."""
    try:
        parsed = json.loads(text) if text else None
    except json.JSONDecodeError:
        raise AnalyzerError(f"dataset_format is not JSON: {text!r}") from None
    if not isinstance(parsed, dict) or len(parsed) != 1:
        raise AnalyzerError(f"dataset_format must name one format, got {text!r}")
    ((name, options),) = parsed.items()
    options = {str(k).lower(): v for k, v in (options or {}).items()}
    kind = str(name).lower()
    if kind == "csv":
        return "csv", as_bool(options.get("header", True)), True
    if kind == "json":
        return "json", False, as_bool(options.get("lines", options.get("line", True)))
    raise AnalyzerError(f"dataset_format {name!r} is not supported here: give csv or json")


def as_bool(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).strip().lower() == "true"


def dataset_files(source: Path) -> list[Path]:
    if source.is_file():
        return [source]
    if not source.is_dir():
        raise AnalyzerError(f"dataset_source {source} does not exist")
    # Hidden files are editor/OS litter, never data.
    files = [p for p in sorted(source.rglob("*")) if p.is_file() and not p.name.startswith(".")]
    if not files:
        raise AnalyzerError(f"no data: dataset_source {source} holds no files")
    return files


def read_rows(config: Config, attributes: dict[str, str]) -> list[dict[str, Any]]:
    """One dict {role: value or None} per record; `attributes` maps roles to attribute names."""
    rows: list[dict[str, Any]] = []
    for path in dataset_files(config.source):
        reader = read_csv if config.kind == "csv" else read_json
        rows.extend(reader(path, config, attributes))
    if not rows:
        raise AnalyzerError(f"no data: the files under {config.source} hold no records")
    if config.kind == "json":
        for role, name in attributes.items():
            if all(row[role] is None for row in rows):
                raise AnalyzerError(f"{role}_attribute {name!r} is in no record")
    return rows


def read_csv(path: Path, config: Config, attributes: dict[str, str]) -> Iterator[dict[str, Any]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        records = (row for row in csv.reader(handle) if row)
        header = next(records, None) if config.header else None
        if config.header and header is None:
            return
        columns = {role: column_of(name, header, role, path) for role, name in attributes.items()}
        for row in records:
            yield {role: row[i] if i < len(row) else None for role, i in columns.items()}


def column_of(name: str, header: list[str] | None, role: str, path: Path) -> int:
    if header is not None and name in header:
        return header.index(name)
    match = COLUMN_INDEX.match(name)
    if match:
        return int(match.group(1))
    known = ", ".join(header or [])
    raise AnalyzerError(f"{role}_attribute {name!r} is not a column of {path.name} ({known})")


def read_json(path: Path, config: Config, attributes: dict[str, str]) -> Iterator[dict[str, Any]]:
    text = path.read_text(encoding="utf-8-sig")
    try:
        if config.lines:
            records = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            loaded = json.loads(text) if text.strip() else []
            records = loaded if isinstance(loaded, list) else [loaded]
    except json.JSONDecodeError as error:
        raise AnalyzerError(f"{path.name} is not valid JSON: {error}") from None
    for record in records:
        yield {role: json_value(record, name) for role, name in attributes.items()}


def json_value(record: Any, name: str) -> Any:
    if isinstance(record, dict) and name in record:
        return record[name]
    steps = re.findall(r"[^.\[\]]+|\[\d+\]", name.removeprefix("$").lstrip("."))
    value = record
    for step in steps:
        if step.startswith("[") and isinstance(value, list) and int(step[1:-1]) < len(value):
            value = value[int(step[1:-1])]
        elif isinstance(value, dict) and step in value:
            value = value[step]
        else:
            return None
    return value


def complete(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    kept = [row for row in rows if all(v is not None and v != "" for v in row.values())]
    if not kept:
        raise AnalyzerError("no data: no record has a value for every attribute needed")
    if len(kept) < len(rows):
        print(f"skipped {len(rows) - len(kept)} of {len(rows)} records missing a needed value")
    return kept


def numbers(rows: list[dict[str, Any]], role: str, name: str) -> np.ndarray:
    bad = next((row[role] for row in rows if not is_number(row[role])), None)
    if bad is not None:
        raise AnalyzerError(f"{role}_attribute {name!r} holds a non-number: {bad!r}")
    return np.array([float(row[role]) for row in rows], dtype=float)


def is_number(value: Any) -> bool:
    """Finite numbers only: a NaN would poison every metric (and is no valid JSON)."""
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def label(value: Any) -> str:
    """A class label's canonical text: 1, 1.0 and "1" are one class; True is 1."""
    if isinstance(value, bool):
        return "1" if value else "0"
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text
    if math.isfinite(number) and number == int(number):
        return str(int(number))
    return repr(number)


def binary(values: list[Any], role: str, name: str) -> np.ndarray:
    out = []
    for value in values:
        text = label(value).lower()
        if text not in ("0", "1", "true", "false"):
            hint = "scores need probability_attribute and probability_threshold_attribute"
            raise AnalyzerError(f"BinaryClassification needs 0/1 labels; {role}_attribute "
                                f"{name!r} holds {value!r} ({hint})")  # fmt: skip
        out.append(1 if text in ("1", "true") else 0)
    return np.array(out, dtype=int)


def label_order(labels: set[str]) -> list[str]:
    return sorted(labels, key=lambda t: (0, float(t), "") if is_number(t) else (1, 0, t))


def ratio(numerator: float, denominator: float) -> float:
    return float(numerator) / float(denominator) if denominator else 0.0


def f_beta(precision: float, recall: float, beta: float) -> float:
    b2 = beta * beta
    return ratio((1 + b2) * precision * recall, b2 * precision + recall)


def regression_scalars(y: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    errors = predicted - y
    mse = float(np.mean(errors**2))
    total = float(np.sum((y - np.mean(y)) ** 2))
    residual = float(np.sum(errors**2))
    r2 = (1.0 if residual == 0 else 0.0) if total == 0 else 1.0 - residual / total
    return {"mae": float(np.mean(np.abs(errors))), "mse": mse, "rmse": math.sqrt(mse), "r2": r2}


def binary_scalars(y: np.ndarray, predicted: np.ndarray, score: np.ndarray) -> dict[str, float]:
    tp = int(np.sum((y == 1) & (predicted == 1)))
    fp = int(np.sum((y == 0) & (predicted == 1)))
    fn = int(np.sum((y == 1) & (predicted == 0)))
    tn = len(y) - tp - fp - fn
    precision, recall = ratio(tp, tp + fp), ratio(tp, tp + fn)
    # The constant classifier that always answers 1: precision and accuracy are the positive rate.
    base_precision, base_recall = ratio(tp + fn, len(y)), 1.0 if tp + fn else 0.0
    out = {
        "recall": recall,
        "precision": precision,
        "accuracy": ratio(tp + tn, len(y)),
        "recall_best_constant_classifier": base_recall,
        "precision_best_constant_classifier": base_precision,
        "accuracy_best_constant_classifier": base_precision,
        "true_positive_rate": recall,
        "true_negative_rate": ratio(tn, tn + fp),
        "false_positive_rate": ratio(fp, fp + tn),
        "false_negative_rate": ratio(fn, fn + tp),
        "auc": binary_curves(y, score)[2],
    }
    for name, beta in F_BETAS.items():
        out[name] = f_beta(precision, recall, beta)
        out[f"{name}_best_constant_classifier"] = f_beta(base_precision, base_recall, beta)
    return out


def binary_curves(y: np.ndarray, score: np.ndarray) -> tuple[dict[str, Any], dict[str, Any], float]:
    """ROC and precision-recall curves (one point per distinct score, descending) and auc."""
    order = np.argsort(-score, kind="stable")
    scores, truth = score[order], y[order]
    last = np.r_[np.nonzero(np.diff(scores))[0], len(scores) - 1]
    tp, fp = np.cumsum(truth)[last], np.cumsum(1 - truth)[last]
    positives, negatives = tp[-1], fp[-1]
    tpr = tp / positives if positives else np.zeros(len(tp))
    fpr = fp / negatives if negatives else np.zeros(len(fp))
    precision = tp / (tp + fp)
    roc_x, roc_y = np.r_[0.0, fpr, 1.0], np.r_[0.0, tpr, 1.0]
    auc = float(np.sum(np.diff(roc_x) * (roc_y[1:] + roc_y[:-1]) / 2))
    roc = {"false_positive_rates": thin(roc_x), "true_positive_rates": thin(roc_y)}
    pr = {"precisions": thin(np.r_[precision[0], precision]), "recalls": thin(np.r_[0.0, tpr])}
    return roc, pr, auc


def thin(points: np.ndarray) -> list[float]:
    """At most MAX_CURVE_POINTS, always keeping both ends, so large datasets stay readable."""
    if len(points) > MAX_CURVE_POINTS:
        keep = np.unique(np.linspace(0, len(points) - 1, MAX_CURVE_POINTS).round().astype(int))
        points = points[keep]
    return [float(p) for p in points]


def weighted_scores(y: np.ndarray, predicted: np.ndarray, k: int, prefix: str) -> dict[str, float]:
    """Accuracy and support-weighted recall/precision/F-scores over k classes (indices)."""
    matrix = np.bincount(y * k + predicted, minlength=k * k).reshape(k, k)
    support, chosen, hits = matrix.sum(axis=1), matrix.sum(axis=0), np.diag(matrix)
    recall = np.divide(hits, support, out=np.zeros(k), where=support > 0)
    precision = np.divide(hits, chosen, out=np.zeros(k), where=chosen > 0)
    n = len(y)
    out = {
        f"accuracy{prefix}": ratio(hits.sum(), n),
        f"weighted_recall{prefix}": ratio(float(np.dot(support, recall)), n),
        f"weighted_precision{prefix}": ratio(float(np.dot(support, precision)), n),
    }
    for name, beta in F_BETAS.items():
        per_class = [f_beta(p, r, beta) for p, r in zip(precision, recall, strict=True)]
        out[f"weighted_{name}{prefix}"] = ratio(float(np.dot(support, per_class)), n)
    return out


def multiclass_scalars(y: np.ndarray, predicted: np.ndarray, k: int) -> dict[str, float]:
    # Ties between most frequent classes go to the first label in order (argmax's choice).
    majority = int(np.argmax(np.bincount(y, minlength=k)))
    constant = np.full(len(y), majority)
    return {**weighted_scores(y, predicted, k, ""), **weighted_scores(y, constant, k, BEST)}


def deviations(n: int, scalars: Callable[[np.ndarray], dict[str, float]]) -> dict[str, Any]:
    """The guide's standard deviation: the metric over 5 random 80% subsamples."""
    if n < MIN_ROWS_FOR_STD:
        return {}
    rng = np.random.default_rng(SUBSAMPLE_SEED)
    size = int(n * SUBSAMPLE_FRACTION)
    runs = [scalars(np.sort(rng.choice(n, size, replace=False))) for _ in range(SUBSAMPLE_ROUNDS)]
    return {name: float(np.std([run[name] for run in runs], ddof=1)) for name in runs[0]}


def confusion(actual: list[str], predicted: list[str], labels: list[str]) -> dict[str, Any]:
    matrix = {a: dict.fromkeys(labels, 0) for a in labels}
    for a, p in zip(actual, predicted, strict=True):
        matrix[a][p] += 1
    return matrix


def needed_attributes(config: Config) -> dict[str, str]:
    needed = {"ground_truth": config.ground_truth}
    if config.section == "binary_classification":
        if config.probability:
            needed["probability"] = config.probability
        if config.inference and not (config.probability and config.threshold is not None):
            needed["inference"] = config.inference
        if len(needed) == 1:
            raise AnalyzerError("BinaryClassification needs inference or probability_attribute")
    elif config.inference:
        needed["inference"] = config.inference
    else:
        raise AnalyzerError(f"{config.section} needs inference_attribute")
    return needed


def analyze(config: Config, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The `<section>_metrics` object, in the guide's order."""
    if config.section == "regression":
        y = numbers(rows, "ground_truth", config.ground_truth)
        predicted = numbers(rows, "inference", config.inference or "")
        extra: dict[str, Any] = {}
        scalars = lambda i: regression_scalars(y[i], predicted[i])  # noqa: E731
    elif config.section == "binary_classification":
        y, predicted, score = binary_columns(config, rows)
        roc, pr, _ = binary_curves(y, score)
        extra = {
            "confusion_matrix": confusion(
                [str(v) for v in y], [str(v) for v in predicted], ["0", "1"]
            ),
            "receiver_operating_characteristic_curve": roc,
            "precision_recall_curve": pr,
        }
        scalars = lambda i: binary_scalars(y[i], predicted[i], score[i])  # noqa: E731
    else:
        actual = [label(row["ground_truth"]) for row in rows]
        chosen = [label(row["inference"]) for row in rows]
        labels = label_order(set(actual) | set(chosen))
        index = {text: i for i, text in enumerate(labels)}
        y, predicted = (np.array([index[t] for t in col], dtype=int) for col in (actual, chosen))
        extra = {"confusion_matrix": confusion(actual, chosen, labels)}
        scalars = lambda i: multiclass_scalars(y[i], predicted[i], len(labels))  # noqa: E731
    values = scalars(np.arange(len(rows)))
    spread = deviations(len(rows), scalars)
    for name, value in values.items():
        extra[name] = {"value": value, "standard_deviation": spread.get(name, "NaN")}
    return {name: extra[name] for name in ORDER[config.section]}


def binary_columns(config: Config, rows: list[dict[str, Any]]) -> tuple[np.ndarray, ...]:
    y = binary([row["ground_truth"] for row in rows], "ground_truth", config.ground_truth)
    if "inference" in rows[0]:
        predicted = binary([row["inference"] for row in rows], "inference", config.inference or "")
    else:
        threshold = 0.5 if config.threshold is None else config.threshold
        probability = numbers(rows, "probability", config.probability or "")
        predicted = (probability >= threshold).astype(int)
    has_score = "probability" in rows[0]
    score = numbers(rows, "probability", config.probability or "") if has_score else predicted
    return y, predicted, score.astype(float)


def suggest_constraints(section: str, metrics: dict[str, Any]) -> dict[str, Any]:
    suggested = {}
    for name, metric in metrics.items():
        if name in ("confusion_matrix", "receiver_operating_characteristic_curve",
                    "precision_recall_curve") or name.endswith(BEST):  # fmt: skip
            continue
        operator = "GreaterThanThreshold" if name in LOWER_IS_BETTER else "LessThanThreshold"
        suggested[name] = {"threshold": metric["value"], "comparison_operator": operator}
    return {"version": 0.0, f"{section}_constraints": suggested}


def load_constraints(path: Path, section: str) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise AnalyzerError(f"baseline_constraints {path} cannot be read: {error}") from None
    constraints = document.get(f"{section}_constraints") if isinstance(document, dict) else None
    if not isinstance(constraints, dict):
        raise AnalyzerError(f"baseline_constraints {path} has no {section}_constraints")
    return constraints


def violations(constraints: dict[str, Any], metrics: dict[str, Any]) -> list[dict[str, str]]:
    found = []
    for name, constraint in constraints.items():
        metric = metrics.get(name)
        if not isinstance(metric, dict) or "value" not in metric:
            raise AnalyzerError(f"baseline_constraints name {name!r}, not a metric computed here")
        operator = str(constraint.get("comparison_operator", ""))
        if operator not in OPERATORS:
            raise AnalyzerError(f"constraint {name}: unknown comparison_operator {operator!r}")
        threshold, value = float(constraint["threshold"]), metric["value"]
        if OPERATORS[operator](value, threshold):
            found.append({
                "constraint_check_type": operator,
                "description": f"Metric {name} with {value} was {operator} {threshold}",
                "metric_name": name,
            })  # fmt: skip
    return found


def write_json(path: Path, document: dict[str, Any]) -> None:
    # allow_nan=False: a NaN must never reach the documents except as the string "NaN".
    path.write_text(json.dumps(document, indent=2, allow_nan=False) + "\n", encoding="utf-8")


def publish_cloudwatch(config: Config, metrics: dict[str, Any]) -> None:
    env = config.env
    names = {"Endpoint": "sagemaker_endpoint_name"}
    names["MonitoringSchedule"] = "sagemaker_monitoring_schedule_name"
    dimensions = [{"Name": key, "Value": env[name]} for key, name in names.items() if env.get(name)]
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    timestamp = env.get("end_time") or now
    directory = Path(env.get("ANALYZER_CLOUDWATCH_DIR", CLOUDWATCH_DIR))
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "model_quality_metrics.jsonl").open("w", encoding="utf-8") as handle:
        for name, metric in metrics.items():
            if isinstance(metric, dict) and "value" in metric:
                record = {"MetricName": name, "Timestamp": timestamp, "Dimensions": dimensions}
                handle.write(json.dumps({**record, "Value": metric["value"]}) + "\n")


def run(env: Mapping[str, str]) -> str:
    """The whole job; returns the success ExitMessage. Bad input fails before any output."""
    config = load_config(env)
    baseline = config.baseline_constraints
    constraints = None if baseline is None else load_constraints(baseline, config.section)
    rows = complete(read_rows(config, needed_attributes(config)))
    metrics = analyze(config, rows)
    found = None if constraints is None else violations(constraints, metrics)
    config.output.mkdir(parents=True, exist_ok=True)
    statistics = {"version": 0.0, "dataset": {"item_count": len(rows)}}
    statistics[f"{config.section}_metrics"] = metrics
    write_json(config.output / "statistics.json", statistics)
    write_json(config.output / "constraints.json", suggest_constraints(config.section, metrics))
    if env.get("publish_cloudwatch_metrics") == "Enabled":
        publish_cloudwatch(config, metrics)
    print(f"{config.section}: {len(rows)} records, documents in {config.output}")
    if found is None:
        return "Completed: Job completed successfully."
    write_json(config.output / "constraint_violations.json", {"violations": found})
    if not found:
        return "Completed: Job completed successfully with no violations."
    return f"CompletedWithViolations: Job completed successfully with {len(found)} violations."


def write_message(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # ExitMessage keeps the first 1 KB: one line, cut to fit.
        path.write_text(" ".join(text.split())[:1000], encoding="utf-8")
    except OSError as error:
        print(f"cannot write the exit message to {path}: {error}", file=sys.stderr)


def main(environ: Mapping[str, str] | None = None) -> int:
    env = dict(os.environ if environ is None else environ)
    message_path = Path(env.get("ANALYZER_MESSAGE_PATH", MESSAGE_PATH))
    try:
        outcome = run(env)
    except AnalyzerError as error:
        print(f"Error: {error}", file=sys.stderr)
        write_message(message_path, f"Error: {error}")
        return 1
    except Exception as error:  # a bug or an unreadable file: still a one-line reason
        traceback.print_exc()
        write_message(message_path, f"Error: {type(error).__name__}: {error}")
        return 1
    print(outcome)
    write_message(message_path, outcome)
    return 0


if __name__ == "__main__":
    sys.exit(main())
