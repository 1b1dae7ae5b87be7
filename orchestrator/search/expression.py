"""A SearchExpression parsed into a typed tree, with the reference's limits and rules.

Pure: a request dict (already checked against the model's shapes) in, a tree or a
ValidationError naming the offending filter out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from orchestrator.errors import ValidationError
from orchestrator.search.properties import Kind, number_of, parse_timestamp, property_kind

MAX_PARTS = 50
RANGE = frozenset({"GreaterThan", "GreaterThanOrEqualTo", "LessThan", "LessThanOrEqualTo"})
TEXT_ONLY = frozenset({"Contains", "In"})
PRESENCE = frozenset({"Exists", "NotExists"})


@dataclass(frozen=True)
class Filter:
    name: str
    operator: str
    value: str | None
    kind: Kind


@dataclass(frozen=True)
class Nested:
    property: str
    filters: tuple[Filter, ...]


@dataclass(frozen=True)
class Expression:
    operator: str  # And | Or
    filters: tuple[Filter, ...] = ()
    nested: tuple[Nested, ...] = ()
    subexpressions: tuple[Expression, ...] = ()


def parse(document: Mapping[str, Any]) -> Expression:
    expression = _expression(document)
    parts = _count(expression)
    if parts > MAX_PARTS:
        raise ValidationError(
            f"A SearchExpression can include at most {MAX_PARTS} Filters, NestedFilters and"
            f" SubExpressions in all; this one has {parts}."
        )
    if _contains(expression) > 1:
        raise ValidationError("'CONTAINS' operator usage limit of 1 exceeded.")
    return expression


def visible_only(
    expression: Expression | None, conditions: list[Mapping[str, Any]]
) -> Expression | None:
    """The expression limited by Search's VisibilityConditions: each a tag (`Key` in the form
    `Tags.<key>`, as the API reference requires) the resource must carry with `Value`. They
    are not parts of the SearchExpression, so they do not count toward its 50."""
    if not conditions:
        return expression
    filters = []
    for condition in conditions:
        key = str(condition.get("Key", ""))
        if not key.startswith("Tags.") or key == "Tags.":
            raise ValidationError(
                f"VisibilityConditions Key {key!r} must be in the format Tags.<key>."
            )
        value = condition.get("Value")
        if value is None:  # the model lets Value out: the tag, with any value
            filters.append(_filter({"Name": key, "Operator": "Exists"}))
        else:
            filters.append(_filter({"Name": key, "Operator": "Equals", "Value": value}))
    subexpressions = (expression,) if expression is not None else ()
    return Expression("And", filters=tuple(filters), subexpressions=subexpressions)


def _expression(document: Mapping[str, Any]) -> Expression:
    filters = tuple(_filter(f) for f in document.get("Filters") or [])
    nested = tuple(_nested(n) for n in document.get("NestedFilters") or [])
    subs = tuple(_expression(s) for s in document.get("SubExpressions") or [])
    if not (filters or nested or subs):
        raise ValidationError(
            "A SearchExpression must include at least one of Filters, NestedFilters or"
            " SubExpressions."
        )
    return Expression(document.get("Operator") or "And", filters, nested, subs)


def _count(expression: Expression) -> int:
    nested = sum(1 + len(n.filters) for n in expression.nested)
    subs = sum(1 + _count(s) for s in expression.subexpressions)
    return len(expression.filters) + nested + subs


def _contains(expression: Expression) -> int:
    filters = list(expression.filters) + [f for n in expression.nested for f in n.filters]
    own = sum(f.operator == "Contains" for f in filters)
    return own + sum(_contains(s) for s in expression.subexpressions)


def _nested(document: Mapping[str, Any]) -> Nested:
    prop = document["NestedPropertyName"]
    if property_kind(prop) is not Kind.STRUCTURE or "." in prop:
        raise ValidationError(
            f"NestedPropertyName {prop!r} is not a list property of TrainingJob"
            " (for example InputDataConfig)."
        )
    filters = tuple(_filter(f) for f in document["Filters"])
    for item in filters:
        if not item.name.startswith(prop + "."):
            raise ValidationError(
                f"Nested filter property {item.name!r} must be a property of {prop!r}"
                f" (named {prop}.<property>)."
            )
    return Nested(prop, filters)


def _filter(document: Mapping[str, Any]) -> Filter:
    name = document["Name"]
    operator = document.get("Operator") or "Equals"
    value = document.get("Value")
    kind = property_kind(name)
    if kind is None:
        raise ValidationError(f"Unknown property name {name!r} for resource TrainingJob.")
    if operator not in PRESENCE and value is None:
        raise ValidationError(f"Filter on {name!r}: operator {operator} needs a Value.")
    _check_operator(name, operator, kind, value)
    return Filter(name, operator, value if operator not in PRESENCE else None, kind)


def _check_operator(name: str, operator: str, kind: Kind, value: str | None) -> None:
    if operator in PRESENCE:
        return
    if kind is Kind.STRUCTURE:
        raise ValidationError(
            f"Filter on {name!r}: it is not a value property; name one of its members, or use"
            " Exists or NotExists."
        )
    if operator in RANGE and kind in (Kind.TEXT, Kind.BOOLEAN):
        raise ValidationError(
            f"Filter on {name!r}: {operator} is not supported for text properties."
        )
    if operator in TEXT_ONLY and kind not in (Kind.TEXT, Kind.HYPERPARAMETER):
        raise ValidationError(
            f"Filter on {name!r}: {operator} is only supported for text properties."
        )
    assert value is not None
    if kind is Kind.NUMBER and number_of(value) is None:
        raise ValidationError(f"Filter on {name!r}: Value {value!r} must be a number.")
    if kind is Kind.TIMESTAMP and parse_timestamp(value) is None:
        raise ValidationError(
            f"Filter on {name!r}: Value {value!r} must be an ISO 8601 date-time"
            " (YYYY-mm-ddTHH:MM:SS)."
        )
    if kind is Kind.BOOLEAN and value.lower() not in ("true", "false"):
        raise ValidationError(f"Filter on {name!r}: Value {value!r} must be true or false.")
    if kind is Kind.HYPERPARAMETER and operator in RANGE and number_of(value) is None:
        raise ValidationError(
            f"Filter on {name!r}: {operator} needs a numeric Value, got {value!r}."
        )
