"""Search over resources held as documents (trial components), not in the property index: the
same grammar (Filters, NestedFilters, SubExpressions, And/Or, the operators), evaluated in
Python on each document, then sorted and paged. Fine for the thousands of documents analytics
reads; training jobs, which number in the hundred thousands, have the SQL index instead.

Property names are dotted paths into the document, with the forms Search documents for trial
components: `Parameters.<name>` (its NumberValue or StringValue), `Metrics.<name>.<Stat>`
(Max, Min, Last, Count, Avg, StdDev), `Tags.<key>`, `Parents.ExperimentName`; a path through a
list matches if any element does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from orchestrator.errors import ValidationError

PRESENCE = ("Exists", "NotExists")
_ORDER = {
    "GreaterThan": lambda a, b: a > b,
    "GreaterThanOrEqualTo": lambda a, b: a >= b,
    "LessThan": lambda a, b: a < b,
    "LessThanOrEqualTo": lambda a, b: a <= b,
}


def values_at(document: Any, name: str) -> list[Any]:
    """Every value the dotted property `name` reaches in the document."""
    parts = name.split(".")
    if parts[0] == "Tags" and len(parts) > 1:
        key = ".".join(parts[1:])
        return [t["Value"] for t in document.get("Tags") or [] if t.get("Key") == key]
    if parts[0] == "Metrics" and len(parts) == 3:
        return [m[parts[2]] for m in document.get("Metrics") or [] if m["MetricName"] == parts[1]
                and parts[2] in m]  # fmt: skip
    if parts[0] == "Parameters" and len(parts) >= 2:
        value = (document.get("Parameters") or {}).get(".".join(parts[1:]))
        if value is None:
            return []
        return [value.get("NumberValue", value.get("StringValue"))]
    found = [document]
    for part in parts:
        step: list[Any] = []
        for node in found:
            for item in node if isinstance(node, list) else [node]:
                if isinstance(item, Mapping) and part in item:
                    step.append(item[part])
        found = step
    return [v for node in found for v in (node if isinstance(node, list) else [node])]


def _comparable(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.timestamp()
    return value


def _number(text: Any) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _holds(value: Any, operator: str, wanted: str) -> bool:
    value = _comparable(value)
    if operator == "Contains":
        return wanted in str(value)
    if operator == "In":
        return any(_holds(value, "Equals", option.strip()) for option in wanted.split(","))
    number, target = _number(value), _number(wanted)
    left: Any = number if number is not None and target is not None else str(value)
    right: Any = target if number is not None and target is not None else wanted
    if operator == "Equals":
        return bool(left == right)
    if operator == "NotEquals":
        return bool(left != right)
    compare = _ORDER.get(operator)
    if compare is None:
        raise ValidationError(f"Operator {operator!r} is not a Search operator.")
    return bool(compare(left, right))


def _filter(document: Any, item: Mapping[str, Any]) -> bool:
    name, operator = item["Name"], item.get("Operator") or "Equals"
    found = values_at(document, name)
    if operator == "Exists":
        return bool(found)
    if operator == "NotExists":
        return not found
    if item.get("Value") is None:
        raise ValidationError(f"Filter on {name!r}: operator {operator} needs a Value.")
    return any(_holds(value, operator, str(item["Value"])) for value in found)


def matches(document: Any, expression: Mapping[str, Any] | None) -> bool:
    if not expression:
        return True
    results: list[bool] = [_filter(document, f) for f in expression.get("Filters") or []]
    for nested in expression.get("NestedFilters") or []:
        elements = values_at(document, nested["NestedPropertyName"])
        prefix = nested["NestedPropertyName"] + "."
        results.append(
            any(
                all(
                    _filter(element, {**f, "Name": f["Name"].removeprefix(prefix)})
                    for f in nested.get("Filters") or []
                )
                for element in elements
            )
        )
    results += [matches(document, sub) for sub in expression.get("SubExpressions") or []]
    combine: Callable[[Iterable[bool]], bool] = any if expression.get("Operator") == "Or" else all
    return combine(results)


def with_visibility(request: Mapping[str, Any]) -> dict[str, Any] | None:
    """The request with VisibilityConditions folded into its SearchExpression (they filter as
    Equals / Exists do); None for CrossAccount, which finds nothing here (one account)."""
    if request.get("CrossAccountFilterOption") == "CrossAccount":
        return None
    expression = request.get("SearchExpression")
    visibility = [
        {"Name": c["Key"], "Operator": "Equals", "Value": c["Value"]}
        if c.get("Value") is not None
        else {"Name": c["Key"], "Operator": "Exists"}
        for c in request.get("VisibilityConditions") or []
    ]
    if visibility:
        subexpressions = [expression] if expression else []
        expression = {"Operator": "And", "Filters": visibility, "SubExpressions": subexpressions}
    return {**request, "SearchExpression": expression} if expression else dict(request)


NOTHING: dict[str, Any] = {"Results": [], "TotalHits": {"Value": 0, "Relation": "EqualTo"}}


def page(
    documents: Iterable[dict[str, Any]], request: Mapping[str, Any], kind: str
) -> dict[str, Any]:
    """Search's response over documents of one kind (`{kind: document}` per result)."""
    expression = request.get("SearchExpression")
    found = [d for d in documents if matches(d, expression)]
    sort_by = request.get("SortBy") or "LastModifiedTime"
    descending = request.get("SortOrder", "Descending") == "Descending"
    present = [d for d in found if values_at(d, sort_by)]
    absent = [d for d in found if not values_at(d, sort_by)]
    present.sort(key=lambda d: _sort_value(values_at(d, sort_by)[0]), reverse=descending)
    ordered = present + absent  # those without the property last, as for training jobs
    token = str(request.get("NextToken") or "0")
    if not token.isdigit():
        raise ValidationError("The NextToken is invalid.")
    start, size = int(token), int(request.get("MaxResults") or 10)
    response: dict[str, Any] = {
        "Results": [{kind: d} for d in ordered[start : start + size]],
        "TotalHits": {"Value": len(ordered), "Relation": "EqualTo"},
    }
    if start + size < len(ordered):
        response["NextToken"] = str(start + size)
    return response


def _sort_value(value: Any) -> tuple[int, Any]:
    value = _comparable(value)
    number = _number(value)
    return (0, number) if number is not None else (1, str(value))
