"""The jobs list's filters as a Search request: status, name, and a search box that takes a
short filter language or a SearchExpression in JSON.

The short language is one or more clauses joined by `and` (or all by `or`):

    TrainingJobStatus = Completed and HyperParameters.lr > 0.01
    Metrics.loss < 0.5 or Tags.team = vision
    Tags.owner exists
    resnet                                  (a bare word: the name contains it)

Operators: `=` `!=` `>` `>=` `<` `<=` `~` (contains), `in` (comma-separated values), `exists`,
`notexists`. Values with spaces go in double quotes. Anything nested is written as the
SearchExpression JSON itself (it starts with `{`), which Search validates in full.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from orchestrator.errors import ValidationError

OPERATORS = {
    "=": "Equals",
    "!=": "NotEquals",
    ">": "GreaterThan",
    ">=": "GreaterThanOrEqualTo",
    "<": "LessThan",
    "<=": "LessThanOrEqualTo",
    "~": "Contains",
    "in": "In",
}
UNARY = {"exists": "Exists", "notexists": "NotExists"}
_TOKEN = re.compile(r'\s*(?:"((?:[^"\\]|\\.)*)"|(>=|<=|!=|=|>|<|~)|([^\s"=<>!~]+))')
MAX_PAGE = 100
DEFAULT_PAGE = 25
SORT_ORDERS = ("Ascending", "Descending")


def _tokens(text: str) -> list[tuple[str, str]]:
    """(kind, text): kind is "quoted", "op" or "word"."""
    found: list[tuple[str, str]] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ValidationError(f"search: cannot read {text[position:]!r}")
        quoted, op, word = match.groups()
        if quoted is not None:
            found.append(("quoted", re.sub(r"\\(.)", r"\1", quoted)))
        elif op is not None:
            found.append(("op", op))
        else:
            found.append(("word", word))
        position = match.end()
    return found


def _clause(tokens: list[tuple[str, str]]) -> dict[str, Any]:
    """One filter from its tokens: NAME OP VALUE, NAME exists, or a bare word."""
    texts = [text for _, text in tokens]
    lowered = [text.lower() if kind == "word" else text for kind, text in tokens]
    if len(tokens) == 1 and tokens[0][0] != "op":
        return {"Name": "TrainingJobName", "Operator": "Contains", "Value": texts[0]}
    if len(tokens) == 2 and tokens[0][0] == tokens[1][0] == "word" and lowered[1] in UNARY:
        return {"Name": texts[0], "Operator": UNARY[lowered[1]]}
    if len(tokens) == 3 and tokens[0][0] == "word" and lowered[1] in OPERATORS:
        if tokens[1][0] == "quoted":
            raise ValidationError(f"search: {texts[1]!r} is a value, not an operator")
        return {"Name": texts[0], "Operator": OPERATORS[lowered[1]], "Value": texts[2]}
    raise ValidationError(
        f"search: {' '.join(texts)!r} is not NAME OP VALUE (operators: "
        f"{' '.join(OPERATORS)} exists notexists)"
    )


def parse_simple(text: str) -> dict[str, Any]:
    """A SearchExpression from the short filter language."""
    clauses: list[list[tuple[str, str]]] = [[]]
    joiners: set[str] = set()
    for kind, token in _tokens(text):
        if kind == "word" and token.lower() in ("and", "or"):
            joiners.add(token.lower())
            clauses.append([])
        else:
            clauses[-1].append((kind, token))
    if len(joiners) > 1:
        raise ValidationError(
            "search: mixes `and` with `or`; write nested expressions as SearchExpression JSON"
        )
    if any(not clause for clause in clauses):
        raise ValidationError("search: a clause is empty (an `and` or `or` with nothing beside it)")
    expression: dict[str, Any] = {"Filters": [_clause(clause) for clause in clauses]}
    if joiners == {"or"}:
        expression["Operator"] = "Or"
    return expression


def parse_search(text: str) -> dict[str, Any] | None:
    """The search box's SearchExpression: JSON when it starts with `{`, else the short form."""
    text = text.strip()
    if not text:
        return None
    if not text.startswith("{"):
        return parse_simple(text)
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise ValidationError(f"search: not valid JSON ({exc})") from None
    if not isinstance(document, dict):
        raise ValidationError("search: a SearchExpression is a JSON object")
    return document


def search_request(params: Mapping[str, str]) -> dict[str, Any]:
    """The Search request behind a jobs page: its filters ANDed with the search box's."""
    filters = []
    if params.get("status"):
        filters.append(
            {"Name": "TrainingJobStatus", "Operator": "Equals", "Value": params["status"]}
        )
    if params.get("name"):
        filters.append({"Name": "TrainingJobName", "Operator": "Contains", "Value": params["name"]})
    typed = parse_search(params.get("q", ""))
    request: dict[str, Any] = {
        "Resource": "TrainingJob",
        "SortBy": params.get("sort") or "CreationTime",
        "SortOrder": sort_order(params),
        "MaxResults": page_size(params),
    }
    if typed is not None and filters:
        request["SearchExpression"] = {
            "Filters": filters,
            "SubExpressions": [typed],
            "Operator": "And",
        }
    elif typed is not None:
        request["SearchExpression"] = typed
    elif filters:
        request["SearchExpression"] = {"Filters": filters}
    if params.get("next"):
        request["NextToken"] = params["next"]
    return request


def sort_order(params: Mapping[str, str]) -> str:
    order = params.get("order") or "Descending"
    if order not in SORT_ORDERS:
        raise ValidationError(f"order must be one of {', '.join(SORT_ORDERS)}, got {order!r}")
    return order


def page_size(params: Mapping[str, str]) -> int:
    raw = params.get("limit") or str(DEFAULT_PAGE)
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_PAGE:
        raise ValidationError(f"limit must be a whole number from 1 to {MAX_PAGE}, got {raw!r}")
    return int(raw)
