"""The model-quality analyzer (containers/model-quality/analyzer.py), run in-process on datasets
written to tmp_path: every number checked against scikit-learn, every document against the
pydantic models of orchestrator.monitoring.documents, constraints against worse data, and bad
input against the one-line ExitMessage and exit status 1. No Docker."""

from __future__ import annotations

import csv
import importlib.util
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from sklearn import metrics as skm

from orchestrator.monitoring.documents import (
    ConstraintViolations,
    ModelQualityConstraints,
    ModelQualityStatistics,
)

ROOT = Path(__file__).resolve().parents[2]
ANALYZER = ROOT / "containers" / "model-quality" / "analyzer.py"
N = 300  # over the 200 rows from which the guide gives standard deviations


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("model_quality_analyzer", ANALYZER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their annotations through it
    spec.loader.exec_module(module)
    return module


analyzer = _load()


@dataclass
class Run:
    code: int
    message: str
    out: Path

    def document(self, name: str) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads((self.out / name).read_text())
        return loaded

    @property
    def statistics(self) -> dict[str, Any]:
        return self.document("statistics.json")

    def metrics(self, section: str) -> dict[str, Any]:
        metrics: dict[str, Any] = self.statistics[f"{section}_metrics"]
        return metrics

    def value(self, section: str, name: str) -> float:
        return float(self.metrics(section)[name]["value"])


def run(
    tmp_path: Path, data: Path, problem: str, fmt: dict[str, Any], name: str = "out", **env: str
) -> Run:
    out, message = tmp_path / name, tmp_path / f"{name}.message"
    code = analyzer.main(
        {
            "dataset_format": json.dumps(fmt),
            "dataset_source": str(data),
            "output_path": str(out),
            "analysis_type": "MODEL_QUALITY",
            "problem_type": problem,
            "ANALYZER_MESSAGE_PATH": str(message),
            **env,
        }
    )
    result = Run(code, message.read_text() if message.exists() else "", out)
    if code == 0:  # every document written must validate against the typed models
        ModelQualityStatistics.model_validate_json((out / "statistics.json").read_text())
        ModelQualityConstraints.model_validate_json((out / "constraints.json").read_text())
        if (out / "constraint_violations.json").exists():
            ConstraintViolations.model_validate_json(
                (out / "constraint_violations.json").read_text()
            )
    return result


CSV_HEADER = {"csv": {"header": True, "output_columns_position": "START"}}
CSV_NO_HEADER = {"csv": {"header": False, "output_columns_position": "START"}}
JSON_LINES = {"json": {"lines": True}}
# The attributes of the CSV fixtures with a header: columns "label" and "prediction".
COLUMNS = {"ground_truth_attribute": "label", "inference_attribute": "prediction"}


def write_csv(directory: Path, columns: dict[str, list[Any]], header: bool = True) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    rows = list(zip(*columns.values(), strict=True))
    # Two files, so reading every file under dataset_source (each with its header) is exercised.
    for index, part in enumerate((rows[: len(rows) // 2], rows[len(rows) // 2 :])):
        with (directory / f"part-{index}.csv").open("w", newline="") as handle:
            writer = csv.writer(handle)
            if header:
                writer.writerow(columns)
            writer.writerows(part)
    return directory


def write_json_lines(directory: Path, records: list[dict[str, Any]]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    lines = "\n".join(json.dumps(record) for record in records)
    (directory / "records.jsonl").write_text(lines + "\n")
    return directory


def regression_data(seed: int = 1, noise: float = 1.0, n: int = N) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    truth = rng.normal(10.0, 3.0, n).round(4)
    return truth, (truth + rng.normal(0.0, noise, n)).round(4)


def binary_data(seed: int = 2, n: int = N) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = (rng.random(n) < 0.35).astype(int)
    # Rounded to two decimals so tied scores exercise the curves' one-point-per-threshold rule.
    scores = np.clip(0.35 + 0.3 * truth + rng.normal(0.0, 0.2, n), 0.0, 1.0).round(2)
    return truth, scores


def multiclass_data(seed: int = 3, n: int = N) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(seed)
    names = np.array(["bird", "cat", "dog", "fish"])
    truth = names[rng.choice(4, n, p=[0.1, 0.4, 0.3, 0.2])]
    guesses = names[rng.choice(4, n)]
    predicted = np.where(rng.random(n) < 0.7, truth, guesses)
    return [str(t) for t in truth], [str(p) for p in predicted]


def assert_metric(actual: float, expected: float) -> None:
    assert actual == pytest.approx(expected, rel=1e-12, abs=1e-12)


# ---------------------------------------------------------------- regression


@pytest.mark.parametrize("header", [True, False])
def test_regression_metrics_match_scikit_learn(tmp_path: Path, header: bool) -> None:
    truth, predicted = regression_data()
    if header:
        data = write_csv(tmp_path / "data", {"prediction": predicted, "label": truth})
        result = run(tmp_path, data, "Regression", CSV_HEADER, **COLUMNS)
    else:  # without a header the columns are _c0, _c1, ... as the SDK's examples name them
        data = write_csv(tmp_path / "data", {"p": predicted, "y": truth}, header=False)
        result = run(
            tmp_path,
            data,
            "Regression",
            CSV_NO_HEADER,
            inference_attribute="_c0",
            ground_truth_attribute="_c1",
        )
    assert result.code == 0, result.message
    assert result.message == "Completed: Job completed successfully."
    assert result.statistics["dataset"] == {"item_count": N}
    assert list(result.metrics("regression")) == ["mae", "mse", "rmse", "r2"]
    mse = skm.mean_squared_error(truth, predicted)
    assert_metric(result.value("regression", "mae"), skm.mean_absolute_error(truth, predicted))
    assert_metric(result.value("regression", "mse"), mse)
    assert_metric(result.value("regression", "rmse"), float(np.sqrt(mse)))
    assert_metric(result.value("regression", "r2"), skm.r2_score(truth, predicted))


def test_standard_deviation_is_over_five_80_percent_subsamples(tmp_path: Path) -> None:
    truth, predicted = regression_data()
    data = write_csv(tmp_path / "data", {"prediction": predicted, "label": truth})
    result = run(tmp_path, data, "Regression", CSV_HEADER, **COLUMNS)
    rng = np.random.default_rng(analyzer.SUBSAMPLE_SEED)
    samples = [np.sort(rng.choice(N, int(N * 0.8), replace=False)) for _ in range(5)]
    maes = [skm.mean_absolute_error(truth[s], predicted[s]) for s in samples]
    reported = result.metrics("regression")["mae"]["standard_deviation"]
    assert_metric(reported, float(np.std(maes, ddof=1)))
    again = run(tmp_path, data, "Regression", CSV_HEADER, name="again", **COLUMNS)
    assert again.statistics == result.statistics  # a fixed seed: reruns agree to the bit


def test_below_200_rows_the_standard_deviation_is_nan(tmp_path: Path) -> None:
    truth, predicted = regression_data(n=150)
    data = write_csv(tmp_path / "data", {"prediction": predicted, "label": truth})
    result = run(tmp_path, data, "Regression", CSV_HEADER, **COLUMNS)
    assert result.code == 0
    assert {m["standard_deviation"] for m in result.metrics("regression").values()} == {"NaN"}
    assert "NaN" not in (result.out / "statistics.json").read_text().replace('"NaN"', "")


# ---------------------------------------------------------------- binary classification


def check_binary(result: Run, truth: np.ndarray, predicted: np.ndarray, scores: np.ndarray) -> None:
    metrics = result.metrics("binary_classification")
    assert list(metrics) == list(analyzer.ORDER["binary_classification"])
    (tn, fp), (fn, tp) = skm.confusion_matrix(truth, predicted, labels=[0, 1])
    assert metrics["confusion_matrix"] == {"0": {"0": tn, "1": fp}, "1": {"0": fn, "1": tp}}
    expected = {
        "recall": skm.recall_score(truth, predicted),
        "precision": skm.precision_score(truth, predicted, zero_division=0),
        "accuracy": skm.accuracy_score(truth, predicted),
        "true_positive_rate": tp / (tp + fn),
        "true_negative_rate": tn / (tn + fp),
        "false_positive_rate": fp / (fp + tn),
        "false_negative_rate": fn / (fn + tp),
        "auc": skm.roc_auc_score(truth, scores),
    }
    constant = np.ones_like(truth)  # the best constant classifier answers 1 (the guide's numbers)
    expected["recall_best_constant_classifier"] = skm.recall_score(truth, constant)
    expected["precision_best_constant_classifier"] = skm.precision_score(truth, constant)
    expected["accuracy_best_constant_classifier"] = skm.accuracy_score(truth, constant)
    for name, beta in (("f0_5", 0.5), ("f1", 1.0), ("f2", 2.0)):
        expected[name] = skm.fbeta_score(truth, predicted, beta=beta, zero_division=0)
        expected[f"{name}_best_constant_classifier"] = skm.fbeta_score(truth, constant, beta=beta)
    for name, value in expected.items():
        assert_metric(metrics[name]["value"], float(value))
        assert isinstance(metrics[name]["standard_deviation"], float)
    check_curves(metrics, truth, scores)


def check_curves(metrics: dict[str, Any], truth: np.ndarray, scores: np.ndarray) -> None:
    # scikit-learn's ROC starts at (0, 0) and has a point per distinct score; Spark's (which the
    # guide's example follows) appends (1, 1) as well.
    fpr, tpr, _ = skm.roc_curve(truth, scores, drop_intermediate=False)
    roc = metrics["receiver_operating_characteristic_curve"]
    np.testing.assert_allclose(roc["false_positive_rates"], [*fpr, 1.0])
    np.testing.assert_allclose(roc["true_positive_rates"], [*tpr, 1.0])
    # scikit-learn's PR curve runs by increasing threshold and ends at (precision 1, recall 0);
    # ours runs by decreasing threshold and starts at (first precision, recall 0).
    precision, recall, _ = skm.precision_recall_curve(truth, scores)
    descending_p, descending_r = precision[::-1][1:], recall[::-1][1:]
    pr = metrics["precision_recall_curve"]
    np.testing.assert_allclose(pr["precisions"], [descending_p[0], *descending_p])
    np.testing.assert_allclose(pr["recalls"], [0.0, *descending_r])


def test_binary_from_probabilities_and_threshold_in_json_lines(tmp_path: Path) -> None:
    truth, scores = binary_data()
    records = [
        {"label": int(y), "output": {"score": float(s), "predicted": 0}}
        for y, s in zip(truth, scores, strict=True)
    ]
    data = write_json_lines(tmp_path / "data", records)
    result = run(
        tmp_path,
        data,
        "BinaryClassification",
        JSON_LINES,
        ground_truth_attribute="label",
        probability_attribute="$.output.score",
        # the threshold wins over inference_attribute: label = probability >= 0.45
        inference_attribute="$.output.predicted",
        probability_threshold_attribute="0.45",
    )
    assert result.code == 0, result.message
    check_binary(result, truth, (scores >= 0.45).astype(int), scores)


def test_binary_from_labels_in_csv_without_header(tmp_path: Path) -> None:
    truth, scores = binary_data(seed=4)
    predicted = (scores >= 0.5).astype(int)
    # Labels spelled as the SDK's users do: floats for the truth, booleans for the prediction.
    columns = {"y": [f"{y:.1f}" for y in truth], "p": [str(bool(p)).lower() for p in predicted]}
    data = write_csv(tmp_path / "data", columns, header=False)
    result = run(
        tmp_path,
        data,
        "BinaryClassification",
        CSV_NO_HEADER,
        ground_truth_attribute="_c0",
        inference_attribute="_c1",
    )
    assert result.code == 0, result.message
    # With no probability the curves and auc rank by the predicted label itself.
    check_binary(result, truth, predicted, predicted.astype(float))


def test_the_guide_example_counts_give_the_guide_values(tmp_path: Path) -> None:
    """The developer guide's binary example: confusion {"0": {"0": 1, "1": 2}, "1": {"1": 1}}."""
    data = write_csv(tmp_path / "data", {"label": [0, 0, 0, 1], "prediction": [0, 1, 1, 1]})
    result = run(tmp_path, data, "BinaryClassification", CSV_HEADER, **COLUMNS)
    metrics = result.metrics("binary_classification")
    assert metrics["confusion_matrix"] == {"0": {"0": 1, "1": 2}, "1": {"0": 0, "1": 1}}
    guide = {
        "recall": 1.0,
        "precision": 1 / 3,
        "accuracy": 0.5,
        "true_negative_rate": 1 / 3,
        "false_positive_rate": 2 / 3,
        "false_negative_rate": 0.0,
        "f0_5": 0.3846153846153846,
        "f1": 0.5,
        "f2": 0.7142857142857143,
        "recall_best_constant_classifier": 1.0,
        "precision_best_constant_classifier": 0.25,
        "accuracy_best_constant_classifier": 0.25,
        "f0_5_best_constant_classifier": 0.29411764705882354,
        "f1_best_constant_classifier": 0.4,
        "f2_best_constant_classifier": 0.625,
    }
    for name, value in guide.items():
        assert_metric(metrics[name]["value"], value)
        assert metrics[name]["standard_deviation"] == "NaN"


# ---------------------------------------------------------------- multiclass classification


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_multiclass_metrics_match_scikit_learn(tmp_path: Path, fmt: str) -> None:
    truth, predicted = multiclass_data()
    if fmt == "csv":
        data = write_csv(tmp_path / "data", {"star": truth, "guess": predicted})
        result = run(
            tmp_path,
            data,
            "MulticlassClassification",
            CSV_HEADER,
            ground_truth_attribute="star",
            inference_attribute="guess",
        )
    else:
        records = [{"star": t, "guess": p} for t, p in zip(truth, predicted, strict=True)]
        data = write_json_lines(tmp_path / "data", records)
        result = run(
            tmp_path,
            data,
            "MulticlassClassification",
            JSON_LINES,
            ground_truth_attribute="$.star",
            inference_attribute="guess",
        )
    assert result.code == 0, result.message
    metrics = result.metrics("multiclass_classification")
    assert list(metrics) == list(analyzer.ORDER["multiclass_classification"])
    labels = sorted(set(truth) | set(predicted))
    matrix = skm.confusion_matrix(truth, predicted, labels=labels)
    expected_matrix = {
        a: {p: int(matrix[i][j]) for j, p in enumerate(labels)} for i, a in enumerate(labels)
    }
    assert metrics["confusion_matrix"] == expected_matrix
    majority = max(labels, key=truth.count)
    for suffix, guesses in (("", predicted), ("_best_constant_classifier", [majority] * N)):
        expected = {
            "accuracy": skm.accuracy_score(truth, guesses),
            "weighted_recall": skm.recall_score(
                truth, guesses, average="weighted", zero_division=0
            ),
            "weighted_precision": skm.precision_score(
                truth, guesses, average="weighted", zero_division=0
            ),
        }
        for name, beta in (("f0_5", 0.5), ("f1", 1.0), ("f2", 2.0)):
            expected[f"weighted_{name}"] = skm.fbeta_score(
                truth, guesses, beta=beta, average="weighted", zero_division=0
            )
        for name, value in expected.items():
            assert_metric(metrics[name + suffix]["value"], float(value))
            assert isinstance(metrics[name + suffix]["standard_deviation"], float)


def test_numeric_multiclass_labels_are_one_class_however_spelled(tmp_path: Path) -> None:
    data = write_csv(
        tmp_path / "data", {"y": ["1", "2", "10", "2.0"], "p": ["1.0", "2", "2", "10"]}
    )
    result = run(
        tmp_path,
        data,
        "MulticlassClassification",
        CSV_HEADER,
        ground_truth_attribute="y",
        inference_attribute="p",
    )
    matrix = result.metrics("multiclass_classification")["confusion_matrix"]
    assert list(matrix) == ["1", "2", "10"]  # numeric order, not text order
    assert matrix["2"] == {"1": 0, "2": 1, "10": 1}


# ---------------------------------------------------------------- constraints and violations


def baseline_and_monitor(
    tmp_path: Path, problem: str, good: Path, bad: Path, **attributes: str
) -> tuple[Run, Run, Run]:
    baseline = run(tmp_path, good, problem, CSV_HEADER, name="baseline", **attributes)
    assert baseline.code == 0, baseline.message
    constraints = str(baseline.out / "constraints.json")
    same = run(
        tmp_path,
        good,
        problem,
        CSV_HEADER,
        name="same",
        baseline_constraints=constraints,
        **attributes,
    )
    worse = run(
        tmp_path,
        bad,
        problem,
        CSV_HEADER,
        name="worse",
        baseline_constraints=constraints,
        **attributes,
    )
    return baseline, same, worse


def test_regression_constraints_catch_a_worse_model(tmp_path: Path) -> None:
    truth, predicted = regression_data()
    _, noisier = regression_data(noise=3.0)
    good = write_csv(tmp_path / "good", {"prediction": predicted, "label": truth})
    bad = write_csv(tmp_path / "bad", {"prediction": noisier, "label": truth})
    baseline, same, worse = baseline_and_monitor(tmp_path, "Regression", good, bad, **COLUMNS)
    suggested = baseline.document("constraints.json")
    assert suggested["version"] == 0.0
    assert suggested["regression_constraints"]["mae"] == {
        "threshold": baseline.value("regression", "mae"),
        "comparison_operator": "GreaterThanThreshold",
    }
    assert suggested["regression_constraints"]["r2"]["comparison_operator"] == "LessThanThreshold"
    assert same.document("constraint_violations.json") == {"violations": []}
    assert same.message == "Completed: Job completed successfully with no violations."
    found = worse.document("constraint_violations.json")["violations"]
    assert {v["metric_name"] for v in found} == {"mae", "mse", "rmse", "r2"}
    mae = next(v for v in found if v["metric_name"] == "mae")
    assert mae["constraint_check_type"] == "GreaterThanThreshold"
    assert mae["description"] == (
        f"Metric mae with {worse.value('regression', 'mae')} was GreaterThanThreshold "
        f"{baseline.value('regression', 'mae')}"
    )
    assert worse.code == 0  # violations complete the job; the message says so
    assert worse.message == "CompletedWithViolations: Job completed successfully with 4 violations."


@pytest.mark.parametrize("problem", ["BinaryClassification", "MulticlassClassification"])
def test_classification_constraints_catch_a_worse_model(tmp_path: Path, problem: str) -> None:
    truth, scores = binary_data()
    predicted = (scores >= 0.5).astype(int)
    rng = np.random.default_rng(9)
    flipped = np.where(rng.random(N) < 0.3, 1 - predicted, predicted)
    good = write_csv(tmp_path / "good", {"label": truth, "prediction": predicted})
    bad = write_csv(tmp_path / "bad", {"label": truth, "prediction": flipped})
    _, same, worse = baseline_and_monitor(tmp_path, problem, good, bad, **COLUMNS)
    assert same.document("constraint_violations.json") == {"violations": []}
    found = worse.document("constraint_violations.json")["violations"]
    names = {v["metric_name"] for v in found}
    assert "accuracy" in names
    assert all(
        v["constraint_check_type"] in ("LessThanThreshold", "GreaterThanThreshold") for v in found
    )
    assert not any(name.endswith("_best_constant_classifier") for name in names)
    assert worse.message.startswith("CompletedWithViolations: ")


def test_hand_written_constraints_with_each_operator(tmp_path: Path) -> None:
    data = write_csv(tmp_path / "data", {"label": [0, 0, 1, 1], "prediction": [0, 1, 1, 1]})
    constraints = tmp_path / "constraints.json"
    constraints.write_text(
        json.dumps(
            {
                "version": 0.0,
                "binary_classification_constraints": {
                    "accuracy": {
                        "threshold": 0.75,
                        "comparison_operator": "LessThanOrEqualToThreshold",
                    },
                    "recall": {"threshold": 0.9, "comparison_operator": "GreaterThanThreshold"},
                    "precision": {"threshold": 0.9, "comparison_operator": "LessThanThreshold"},
                },
            }
        )
    )
    result = run(
        tmp_path,
        data,
        "BinaryClassification",
        CSV_HEADER,
        **COLUMNS,
        baseline_constraints=str(constraints),
    )
    found = result.document("constraint_violations.json")["violations"]
    assert [(v["metric_name"], v["constraint_check_type"]) for v in found] == [
        ("accuracy", "LessThanOrEqualToThreshold"),
        ("recall", "GreaterThanThreshold"),
        ("precision", "LessThanThreshold"),
    ]


# ---------------------------------------------------------------- the environment


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"csv": {"header": true, "output_columns_position": "START"}}', ("csv", True, True)),
        ('{"csv": {"header": "false"}}', ("csv", False, True)),
        ('{"Csv": {"Header": false}}', ("csv", False, True)),  # MonitoringDatasetFormat
        ('{"json": {"lines": true}}', ("json", False, True)),
        ('{"Json": {"Line": false}}', ("json", False, False)),
        ('{"json": {"line": "true"}}', ("json", False, True)),  # the guide's spelling
    ],
)
def test_dataset_format_in_every_spelling(text: str, expected: tuple[str, bool, bool]) -> None:
    assert analyzer.parse_dataset_format(text) == expected


def test_the_sdk_environment_runs_as_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The env map ModelQualityMonitor.suggest_baseline builds, as strings in a container."""
    monkeypatch.setenv("SAGEMAKER_SUPPRESS_V2_WARNING", "1")
    from sagemaker.model_monitor.dataset_format import DatasetFormat
    from sagemaker.model_monitor.model_monitoring import ModelMonitor

    truth, scores = binary_data()
    data = write_csv(tmp_path / "data", {"score": scores, "label": truth}, header=False)
    env = ModelMonitor._generate_env_map(
        env=None,
        output_path=str(tmp_path / "out"),
        enable_cloudwatch_metrics=False,
        dataset_format=DatasetFormat.csv(header=False),
        dataset_source_container_path=str(data),
        analysis_type="MODEL_QUALITY",
        problem_type="BinaryClassification",
        probability_attribute="_c0",
        ground_truth_attribute="_c1",
        probability_threshold_attribute=0.5,
    )
    env = {key: str(value) for key, value in env.items()}
    assert analyzer.main({**env, "ANALYZER_MESSAGE_PATH": str(tmp_path / "message")}) == 0
    result = Run(0, "", tmp_path / "out")
    check_binary(result, truth, (scores >= 0.5).astype(int), scores)


def test_cloudwatch_metrics_when_enabled(tmp_path: Path) -> None:
    truth, predicted = regression_data()
    data = write_csv(tmp_path / "data", {"prediction": predicted, "label": truth})
    metrics_dir = tmp_path / "cloudwatch"
    result = run(
        tmp_path,
        data,
        "Regression",
        CSV_HEADER,
        **COLUMNS,
        publish_cloudwatch_metrics="Enabled",
        sagemaker_monitoring_schedule_name="nightly",
        end_time="2024-05-01T10:00:00Z",
        ANALYZER_CLOUDWATCH_DIR=str(metrics_dir),
    )
    lines = (metrics_dir / "model_quality_metrics.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["MetricName"] for r in records] == ["mae", "mse", "rmse", "r2"]
    assert records[0] == {
        "MetricName": "mae",
        "Timestamp": "2024-05-01T10:00:00Z",
        "Dimensions": [{"Name": "MonitoringSchedule", "Value": "nightly"}],
        "Value": result.value("regression", "mae"),
    }


# ---------------------------------------------------------------- bad input


def bad_inputs(tmp_path: Path) -> dict[str, tuple[dict[str, str], str]]:
    good = write_csv(tmp_path / "good", {"label": [0, 1, 1], "prediction": [0, 1, 0]})
    empty = tmp_path / "empty"
    empty.mkdir()
    header_only = tmp_path / "header-only"
    header_only.mkdir()
    (header_only / "a.csv").write_text("label,prediction\n")
    scores = write_csv(tmp_path / "scores", {"label": [0, 1], "prediction": [0.2, 0.9]})
    base = {
        "dataset_format": json.dumps(CSV_HEADER),
        "dataset_source": str(good),
        "problem_type": "BinaryClassification",
        "ground_truth_attribute": "label",
        "inference_attribute": "prediction",
    }
    return {
        "missing attribute": ({**base, "ground_truth_attribute": "truth"}, "'truth'"),
        "unknown problem type": ({**base, "problem_type": "Ranking"}, "problem_type 'Ranking'"),
        "no files": ({**base, "dataset_source": str(empty)}, "no data"),
        "no records": ({**base, "dataset_source": str(header_only)}, "no data"),
        "no source": ({**base, "dataset_source": str(tmp_path / "nowhere")}, "does not exist"),
        "scores as labels": ({**base, "dataset_source": str(scores)}, "0/1 labels"),
        "parquet": ({**base, "dataset_format": '{"Parquet": {}}'}, "csv or json"),
        "unset variable": (
            {k: v for k, v in base.items() if k != "dataset_source"},
            "dataset_source",
        ),
        "bad threshold": ({**base, "probability_threshold_attribute": "half"}, "'half'"),
        "other analysis": ({**base, "analysis_type": "DATA_QUALITY"}, "MODEL_QUALITY"),
        "constraints for another problem": (
            {**base, "baseline_constraints": str(write_constraints(tmp_path))},
            "binary_classification_constraints",
        ),
    }


def write_constraints(tmp_path: Path) -> Path:
    path = tmp_path / "regression-constraints.json"
    path.write_text(json.dumps({"version": 0.0, "regression_constraints": {}}))
    return path


@pytest.mark.parametrize(
    "case",
    [
        "missing attribute",
        "unknown problem type",
        "no files",
        "no records",
        "no source",
        "scores as labels",
        "parquet",
        "unset variable",
        "bad threshold",
        "other analysis",
        "constraints for another problem",
    ],
)
def test_bad_input_gives_a_one_line_message_and_status_1(tmp_path: Path, case: str) -> None:
    env, reason = bad_inputs(tmp_path)[case]
    message = tmp_path / "message"
    out = tmp_path / "out"
    code = analyzer.main({**env, "output_path": str(out), "ANALYZER_MESSAGE_PATH": str(message)})
    assert code == 1
    text = message.read_text()
    assert text.startswith("Error: ") and "\n" not in text
    assert reason in text
    assert not (out / "statistics.json").exists()


def test_as_a_program_bad_input_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    message = tmp_path / "message"
    env = {"problem_type": "Ranking", "ANALYZER_MESSAGE_PATH": str(message), "PATH": ""}
    done = subprocess.run(
        [sys.executable, str(ANALYZER)], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert message.read_text() == (
        "Error: problem_type 'Ranking' is not one of Regression, BinaryClassification, "
        "MulticlassClassification"
    )


# ---------------------------------------------------------------- the documents' models


def test_the_models_reject_what_the_guide_does_not_allow(tmp_path: Path) -> None:
    truth, predicted = regression_data()
    data = write_csv(tmp_path / "data", {"prediction": predicted, "label": truth})
    result = run(tmp_path, data, "Regression", CSV_HEADER, **COLUMNS)
    statistics = result.statistics
    parsed = ModelQualityStatistics.model_validate(statistics)
    assert parsed.problem_type == "Regression"
    renamed = {
        **statistics,
        "regression_metrics": {
            **statistics["regression_metrics"],
            "mape": {"value": 1.0, "standard_deviation": "NaN"},
        },
    }
    with pytest.raises(ValueError, match="mape"):
        ModelQualityStatistics.model_validate(renamed)
    with pytest.raises(ValueError, match="exactly one"):
        ModelQualityStatistics.model_validate({"version": 0.0, "dataset": {"item_count": 1}})
    constraints = ModelQualityConstraints.model_validate(result.document("constraints.json"))
    assert constraints.regression_constraints is not None
    assert constraints.regression_constraints["mae"].comparison_operator == "GreaterThanThreshold"
    with pytest.raises(ValueError, match="comparison_operator"):
        ModelQualityConstraints.model_validate(
            {"regression_constraints": {"mae": {"threshold": 1.0, "comparison_operator": "Above"}}}
        )


def test_the_run_path_does_not_import_the_documents() -> None:
    code = (
        "import sys, orchestrator.cli.main; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'pydantic' "
        "or m == 'orchestrator.monitoring.documents'))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
