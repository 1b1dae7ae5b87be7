"""The jobs list's search box and filters, turned into Search requests."""

from __future__ import annotations

import pytest

from orchestrator.dashboard.query import parse_search, parse_simple, search_request
from orchestrator.errors import ValidationError


def test_clauses_joined_by_and() -> None:
    expression = parse_simple("TrainingJobStatus = Completed and HyperParameters.lr >= 0.01")
    assert expression == {
        "Filters": [
            {"Name": "TrainingJobStatus", "Operator": "Equals", "Value": "Completed"},
            {"Name": "HyperParameters.lr", "Operator": "GreaterThanOrEqualTo", "Value": "0.01"},
        ]
    }


def test_or_quoted_values_unary_and_in() -> None:
    expression = parse_simple(
        'Tags.team = "computer vision" OR Tags.owner exists or Metrics.loss<0.5'
    )
    assert expression["Operator"] == "Or"
    assert expression["Filters"] == [
        {"Name": "Tags.team", "Operator": "Equals", "Value": "computer vision"},
        {"Name": "Tags.owner", "Operator": "Exists"},
        {"Name": "Metrics.loss", "Operator": "LessThan", "Value": "0.5"},
    ]
    assert parse_simple("TrainingJobStatus in Failed,Stopped")["Filters"][0]["Operator"] == "In"


def test_a_bare_word_is_a_name_search() -> None:
    assert parse_simple("resnet") == {
        "Filters": [{"Name": "TrainingJobName", "Operator": "Contains", "Value": "resnet"}]
    }


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("a = 1 and b = 2 or c = 3", "mixes `and` with `or`"),
        ("a = 1 and", "a clause is empty"),
        ("a = = 1", "is not NAME OP VALUE"),
        ("Metrics.loss lessthan 3", "is not NAME OP VALUE"),
        ('a "=" 1', "is a value, not an operator"),
    ],
)
def test_bad_text_says_what_is_wrong(text: str, says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        parse_simple(text)


def test_json_is_the_full_grammar_and_bad_json_is_named() -> None:
    nested = '{"SubExpressions": [{"Filters": [{"Name": "a", "Value": "1"}]}], "Operator": "Or"}'
    assert parse_search(nested)["Operator"] == "Or"
    assert parse_search("   ") is None
    with pytest.raises(ValidationError, match="not valid JSON"):
        parse_search('{"Filters": [}')


def test_filters_and_the_search_box_are_anded() -> None:
    request = search_request(
        {"status": "Failed", "name": "bert", "q": "Metrics.loss < 1", "sort": "Metrics.loss"}
    )
    assert request["SortBy"] == "Metrics.loss" and request["SortOrder"] == "Descending"
    expression = request["SearchExpression"]
    assert expression["Operator"] == "And"
    assert [f["Name"] for f in expression["Filters"]] == ["TrainingJobStatus", "TrainingJobName"]
    assert expression["SubExpressions"] == [
        {"Filters": [{"Name": "Metrics.loss", "Operator": "LessThan", "Value": "1"}]}
    ]
    assert "SearchExpression" not in search_request({})
    assert search_request({"next": "tok", "limit": "50"})["MaxResults"] == 50


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"limit": "0"}, "limit must be"),
        ({"limit": "x"}, "limit must be"),
        ({"order": "Up"}, "order"),
    ],
)
def test_page_and_order_are_checked(params: dict[str, str], says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        search_request(params)
