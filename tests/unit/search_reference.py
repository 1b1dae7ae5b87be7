"""A straightforward in-Python evaluator of SearchExpressions over SearchRecords, written from
the `aws sagemaker search` reference, to check the SQL engine against."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from orchestrator.search.properties import Kind, property_kind

OPS = {
    "Equals": lambda a, b: a == b,
    "NotEquals": lambda a, b: a != b,
    "GreaterThan": lambda a, b: a > b,
    "GreaterThanOrEqualTo": lambda a, b: a >= b,
    "LessThan": lambda a, b: a < b,
    "LessThanOrEqualTo": lambda a, b: a <= b,
}


def _walk(node: Any, parts: list[str]) -> list[Any]:
    if isinstance(node, list):
        return [v for item in node for v in _walk(item, parts)]
    if not parts:
        return [] if node is None else [node]
    if not isinstance(node, dict) or parts[0] not in node:
        return []
    return _walk(node[parts[0]], parts[1:])


def values(record: dict[str, Any], name: str) -> list[Any]:
    head, _, rest = name.partition(".")
    if head == "Metrics":
        return [
            m["Value"] for m in record.get("FinalMetricDataList", []) if m["MetricName"] == rest
        ]
    if head == "Tags":
        return [t["Value"] for t in record.get("Tags", []) if t["Key"] == rest]
    if head == "HyperParameters":
        hp = record.get("HyperParameters", {})
        return [hp[rest]] if rest in hp else []
    found = _walk(record, name.split("."))
    leaves: list[Any] = []
    for value in found:  # a structure counts as present when it has any value inside
        leaves += _leaf_values(value)
    return leaves


def _leaf_values(node: Any) -> list[Any]:
    if isinstance(node, dict):
        return [v for item in node.values() for v in _leaf_values(item)]
    if isinstance(node, list):
        return [v for item in node for v in _leaf_values(item)]
    return [] if node is None else [node]


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _seconds(text: str) -> float:
    moment = dt.datetime.fromisoformat(text)
    return moment.replace(tzinfo=moment.tzinfo or dt.timezone.utc).timestamp()


def _satisfies(value: Any, operator: str, given: str, kind: Kind) -> bool:
    if kind is Kind.NUMBER:
        return bool(OPS[operator](float(value), float(given)))
    if kind is Kind.TIMESTAMP:
        return bool(OPS[operator](math.floor(float(value)), _seconds(given)))
    if kind is Kind.BOOLEAN:
        return bool(OPS[operator](str(value).lower(), given.lower()))
    text = str(value)
    if operator == "Contains":
        return given in text
    if operator == "In":
        return text in [option.strip() for option in given.split(",")]
    if kind is Kind.HYPERPARAMETER and _number(given) is not None:
        mine = _number(text)
        if mine is None:
            return False
        if given.strip().lstrip("+-").isdigit():  # an integer value: compare as integers
            return bool(OPS[operator](int(mine), int(float(given))))
        return bool(OPS[operator](mine, float(given)))
    return bool(OPS[operator](text, given))


def matches_filter(record: dict[str, Any], item: dict[str, Any], prefix: str = "") -> bool:
    """`prefix` is the nested property an element came from (its filters name it)."""
    name, operator = item["Name"][len(prefix) :], item.get("Operator", "Equals")
    found = values(record, name)
    if operator == "Exists":
        return bool(found)
    if operator == "NotExists":
        return not found
    kind = property_kind(item["Name"])
    assert kind is not None
    return any(_satisfies(v, operator, item["Value"], kind) for v in found)


def matches(record: dict[str, Any], expression: dict[str, Any]) -> bool:
    results = [matches_filter(record, f) for f in expression.get("Filters", [])]
    for nested in expression.get("NestedFilters", []):
        elements = record.get(nested["NestedPropertyName"], [])
        prefix = nested["NestedPropertyName"] + "."
        results.append(
            any(
                all(matches_filter(element, f, prefix) for f in nested["Filters"])
                for element in elements
            )
        )
    results += [matches(record, s) for s in expression.get("SubExpressions", [])]
    return all(results) if expression.get("Operator", "And") == "And" else any(results)
