"""Search over documents (trial components): the grammar evaluated on each document."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.errors import ValidationError
from orchestrator.search.documents import matches, page, values_at

A: dict[str, Any] = {
    "TrialComponentName": "a",
    "LastModifiedTime": 20.0,
    "Parameters": {"lr": {"StringValue": "0.1"}, "SageMaker.InstanceCount": {"NumberValue": 2.0}},
    "Metrics": [{"MetricName": "loss", "Last": 0.5, "Max": 2.0}],
    "Tags": [{"Key": "team", "Value": "vision"}],
    "Parents": [{"TrialName": "t1", "ExperimentName": "exp"}],
    "InputArtifacts": {"train": {"Value": "s3://b/train"}},
}
B: dict[str, Any] = {"TrialComponentName": "b", "LastModifiedTime": 10.0, "Parameters": {}}


def _f(name: str, operator: str = "Equals", value: str | None = None) -> dict[str, Any]:
    item = {"Name": name, "Operator": operator}
    return item if value is None else {**item, "Value": value}


@pytest.mark.parametrize(
    ("expression", "a", "b"),
    [
        ({"Filters": [_f("Parents.ExperimentName", value="exp")]}, True, False),
        ({"Filters": [_f("Parameters.lr", "GreaterThan", "0.05")]}, True, False),
        ({"Filters": [_f("Parameters.SageMaker.InstanceCount", value="2")]}, True, False),
        ({"Filters": [_f("Metrics.loss.Last", "LessThan", "1")]}, True, False),
        ({"Filters": [_f("Tags.team", "In", "nlp, vision")]}, True, False),
        ({"Filters": [_f("TrialComponentName", "Contains", "b")]}, False, True),
        ({"Filters": [_f("Metrics.loss.Last", "NotExists")]}, False, True),
        (
            {
                "Operator": "Or",
                "Filters": [_f("TrialComponentName", value="b")],
                "SubExpressions": [{"Filters": [_f("Tags.team", value="vision")]}],
            },
            True,
            True,
        ),
    ],
)
def test_filters_and_expressions(expression: dict[str, Any], a: bool, b: bool) -> None:
    assert (matches(A, expression), matches(B, expression)) == (a, b)


def test_values_reach_through_lists_and_maps() -> None:
    assert values_at(A, "Parents.TrialName") == ["t1"]
    assert values_at(A, "InputArtifacts.train.Value") == ["s3://b/train"]
    assert values_at(B, "Tags.team") == []


def test_pages_are_sorted_and_tokens_checked() -> None:
    first = page([B, A], {"MaxResults": 1}, "TrialComponent")
    assert first["Results"] == [{"TrialComponent": A}] and first["NextToken"] == "1"
    assert first["TotalHits"] == {"Value": 2, "Relation": "EqualTo"}
    second = page([B, A], {"MaxResults": 1, "NextToken": "1"}, "TrialComponent")
    assert second["Results"] == [{"TrialComponent": B}] and "NextToken" not in second
    by_name = page([A, B], {"SortBy": "TrialComponentName", "SortOrder": "Ascending"}, "X")
    assert [r["X"]["TrialComponentName"] for r in by_name["Results"]] == ["a", "b"]
    with pytest.raises(ValidationError, match="NextToken"):
        page([A], {"NextToken": "forged"}, "X")
