"""A parsed SearchExpression compiled to SQL that selects the matching jobs' names.

Each filter selects from the property index (`search_props`: job, path, elem, seq, text, num;
indexed by path and value), And is INTERSECT, Or is UNION, NotExists is the complement. Pure:
the tree in, (sql, parameters) out.
"""

from __future__ import annotations

import math
from typing import Any

from orchestrator.search.expression import Expression, Filter, Nested
from orchestrator.search.properties import Kind, number_of, parse_timestamp

Sql = tuple[str, list[Any]]
ALL_JOBS = "SELECT name AS job FROM jobs"
_COMPARE = {
    "Equals": "=",
    "NotEquals": "!=",
    "GreaterThan": ">",
    "GreaterThanOrEqualTo": ">=",
    "LessThan": "<",
    "LessThanOrEqualTo": "<=",
}


def compile_expression(expression: Expression | None) -> Sql:
    """SQL selecting one column, `job`, for every job that satisfies the expression."""
    if expression is None:
        return ALL_JOBS, []
    parts = [_leaf(f) for f in expression.filters]
    parts += [_nested(n) for n in expression.nested]
    parts += [compile_expression(s) for s in expression.subexpressions]
    joiner = " INTERSECT " if expression.operator == "And" else " UNION "
    sql = joiner.join(f"SELECT job FROM ({part})" for part, _ in parts)
    return sql, [p for _, params in parts for p in params]


def _path_match(item: Filter, alias: str) -> Sql:
    if item.kind is Kind.STRUCTURE:  # any member of the structure
        return (
            f"({alias}.path = ? OR ({alias}.path >= ? AND {alias}.path < ?))",
            [item.name, item.name + ".", item.name + "/"],
        )
    return f"{alias}.path = ?", [item.name]


def _leaf(item: Filter) -> Sql:
    path, params = _path_match(item, "p")
    if item.operator == "NotExists":
        return (
            f"SELECT name AS job FROM jobs WHERE name NOT IN"
            f" (SELECT p.job FROM search_props p WHERE {path})",
            params,
        )
    condition, values = condition_of(item, "p")
    return f"SELECT p.job AS job FROM search_props p WHERE {path} AND {condition}", params + values


def _nested(nested: Nested) -> Sql:
    """Jobs with one element of the list property that satisfies every filter."""
    positive = [f for f in nested.filters if f.operator != "NotExists"]
    if positive:
        driver = positive[0]
        condition, params = condition_of(driver, "e")
        source = f"SELECT e.job, e.elem FROM search_props e WHERE e.path = ? AND {condition}"
        params = [driver.name, *params]
    else:
        driver = None
        source = (
            "SELECT DISTINCT e.job, e.elem FROM search_props e WHERE e.path >= ? AND e.path < ?"
        )
        params = [nested.property + ".", nested.property + "/"]
    checks = []
    for item in nested.filters:
        if item is driver:
            continue
        negate = item.operator == "NotExists"
        condition, values = condition_of(item, "x")
        checks.append(
            f"{'NOT ' if negate else ''}EXISTS (SELECT 1 FROM search_props x WHERE"
            f" x.job = s.job AND x.elem = s.elem AND x.path = ? AND {condition})"
        )
        params += [item.name, *values]
    where = f" WHERE {' AND '.join(checks)}" if checks else ""
    return f"SELECT s.job AS job FROM ({source}) s{where}", params


def condition_of(item: Filter, alias: str) -> Sql:
    """The test one index row must pass (its path is matched separately)."""
    if item.operator in ("Exists", "NotExists"):
        return "1", []
    assert item.value is not None
    if item.kind is Kind.NUMBER:
        return _compare(f"{alias}.num", item.operator, float(number_of(item.value) or 0.0))
    if item.kind is Kind.TIMESTAMP:
        return _timestamp(alias, item.operator, parse_timestamp(item.value) or 0.0)
    if item.kind is Kind.BOOLEAN:
        return _compare(f"{alias}.text", item.operator, item.value.lower())
    if item.kind is Kind.HYPERPARAMETER and item.operator not in ("Contains", "In"):
        number = number_of(item.value)
        if number is not None:
            integer = _is_integer(item.value)
            column = f"CAST({alias}.num AS INTEGER)" if integer else f"{alias}.num"
            return _compare(column, item.operator, int(number) if integer else number)
    return _text(alias, item.operator, item.value)


def _is_integer(text: str) -> bool:
    return text.strip().lstrip("+-").isdigit()


def _compare(column: str, operator: str, value: Any) -> Sql:
    return f"{column} IS NOT NULL AND {column} {_COMPARE[operator]} ?", [value]


def _text(alias: str, operator: str, value: str) -> Sql:
    column = f"{alias}.text"
    if operator == "Contains":
        return f"instr({column}, ?) > 0", [value]
    if operator == "In":
        options = [option.strip() for option in value.split(",")]
        return f"{column} IN ({','.join('?' * len(options))})", options
    return _compare(column, operator, value)


def _timestamp(alias: str, operator: str, moment: float) -> Sql:
    """Compare at whole seconds, as the ISO value states them."""
    second = float(math.floor(moment))
    column = f"{alias}.num"
    ranges = {
        "Equals": (f"{column} >= ? AND {column} < ?", [second, second + 1]),
        "NotEquals": (f"({column} < ? OR {column} >= ?)", [second, second + 1]),
        "GreaterThan": (f"{column} >= ?", [second + 1]),
        "GreaterThanOrEqualTo": (f"{column} >= ?", [second]),
        "LessThan": (f"{column} < ?", [second]),
        "LessThanOrEqualTo": (f"{column} < ?", [second + 1]),
    }
    return ranges[operator]
