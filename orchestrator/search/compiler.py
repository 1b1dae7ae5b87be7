"""A parsed SearchExpression compiled to SQL that selects the matching jobs' names.

Each filter selects from the property index (`search_props`: job, path, elem, seq, text, num;
indexed by path and value), And is INTERSECT, Or is UNION, NotExists is the complement. Pure:
the tree in, (sql, parameters) out.

Every SubExpression becomes a common table expression (`WITH sub0 AS (...), sub1 AS (...)`)
that its parent reads by name, so the SQL nests no deeper however deep the expression: nested
as subqueries, ten levels of SubExpressions overflowed SQLite's parser stack.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from orchestrator.search.expression import Expression, Filter, Nested
from orchestrator.search.properties import Kind, number_of, parse_timestamp, single_valued

Sql = tuple[str, list[Any]]
ALL_JOBS = "SELECT name AS job FROM jobs WHERE kind = 'training'"
_COMPARE = {
    "Equals": "=",
    "NotEquals": "!=",
    "GreaterThan": ">",
    "GreaterThanOrEqualTo": ">=",
    "LessThan": "<",
    "LessThanOrEqualTo": "<=",
}


Estimate = Callable[[Sql, int], int]  # rows a query yields, counted up to a cap


def compile_expression(expression: Expression | None, estimate: Estimate | None = None) -> Sql:
    """SQL selecting one column, `job`, for every job that satisfies the expression.

    With `estimate` (how many rows a query yields, capped), an And is driven by its most
    selective part and checks the others per candidate job by primary-key lookups; without
    it, an And is the INTERSECT of its parts. Both select the same jobs.
    """
    if expression is None:
        return ALL_JOBS, []
    context = _Context(estimate)
    return context.with_subexpressions(*context.expression(expression))


class _Context:
    """One compilation: the SubExpressions compiled so far, as named tables."""

    def __init__(self, estimate: Estimate | None) -> None:
        self.tables: list[tuple[str, str, list[Any]]] = []
        self._estimate = estimate

    @property
    def estimate(self) -> Estimate | None:
        """Estimates of queries that may read the tables defined so far."""
        estimate = self._estimate
        if estimate is None:
            return None
        return lambda query, cap: estimate(self.with_subexpressions(*query), cap)

    def with_subexpressions(self, sql: str, params: list[Any]) -> Sql:
        if not self.tables:
            return sql, params
        head = ", ".join(f"{name} AS ({body})" for name, body, _ in self.tables)
        return f"WITH {head} {sql}", [p for _, _, own in self.tables for p in own] + params

    def table(self, sql: str, params: list[Any]) -> str:
        name = f"sub{len(self.tables)}"
        self.tables.append((name, sql, params))
        return name

    def expression(self, expression: Expression) -> Sql:
        if expression.operator == "And":
            return _and(expression, self)
        parts = _parts(expression, self)
        sql = " UNION ".join(f"SELECT job FROM ({part.sql})" for part in parts)
        return sql, [p for part in parts for p in part.params]


@dataclass(frozen=True)
class _Part:
    sql: str  # selects the jobs this part admits
    params: list[Any]
    check: Callable[[str], Sql]  # the same test for one candidate job (column given)
    can_drive: bool = True
    probe: Sql | None = None  # a cheap query as large as `sql`, to estimate its size
    job_ordered: bool = False  # `sql` reads an index in job order: cheap to gather as a set


def _parts(expression: Expression, context: _Context) -> list[_Part]:
    groups: dict[str, list[Filter]] = {}
    leaves: list[list[Filter]] = []
    for item in expression.filters:
        mergeable = expression.operator == "And" and item.operator not in ("Exists", "NotExists")
        if mergeable and single_valued(item.name):
            if item.name not in groups:
                groups[item.name] = []
                leaves.append(groups[item.name])
            groups[item.name].append(item)  # one row must pass them all: one range scan
        else:
            leaves.append([item])
    parts = [_leaf_part(group) for group in leaves]
    parts += [_nested_part(n) for n in expression.nested]
    for sub in expression.subexpressions:
        name = context.table(*context.expression(sub))
        sql = f"SELECT job FROM {name}"
        # Never sized by running it: each probe would run the whole chain below it again
        # (a cost growing with the square of the depth). A filter drives; the table is
        # checked by membership, computed once.
        parts.append(_Part(sql, [], _membership(sql, []), can_drive=False))
    return parts


def _membership(sql: str, params: list[Any]) -> Callable[[str], Sql]:
    """A check that a candidate job is among those `sql` selects (materialized once)."""

    def check(job: str) -> Sql:
        return f"{job} IN ({sql})", list(params)

    return check


def _and(expression: Expression, context: _Context) -> Sql:
    parts = _parts(expression, context)
    estimate = context.estimate
    drivers = [part for part in parts if part.can_drive]
    if estimate is None or len(parts) == 1 or not drivers:
        sql = " INTERSECT ".join(f"SELECT job FROM ({part.sql})" for part in parts)
        return sql, [p for part in parts for p in part.params]
    sizes = _sizes(drivers, estimate)
    driver = min(drivers, key=lambda part: sizes[id(part)])
    gathered = _gathered(parts, driver, sizes, estimate)
    # Set checks first (a set lookup is several times cheaper than an index lookup), then the
    # most selective: SQLite stops at the first check a candidate fails.
    others = sorted(
        (p for p in parts if p is not driver),
        key=lambda p: (id(p) not in gathered, sizes.get(id(p), 1 << 62)),
    )
    checks = [
        _membership(p.sql, p.params)("d.job") if id(p) in gathered else p.check("d.job")
        for p in others
    ]
    where = " AND ".join(sql for sql, _ in checks)
    return (
        f"SELECT d.job AS job FROM ({driver.sql}) d WHERE {where}",
        [*driver.params, *[p for _, params in checks for p in params]],
    )


PROBE_CAPS = (2_000, 16_000, 128_000)
# Gathering a job-ordered part's jobs into a set costs about this many times less per row
# than looking one candidate up in the index (measured: ~0.15 us vs ~2.4 us at 100,000 jobs).
SET_CHECK_RATIO = 16


def _gathered(
    parts: list[_Part], driver: _Part, sizes: dict[int, int], estimate: Estimate
) -> set[int]:
    """The parts checked by membership in their jobs, gathered once into a set: those read
    in job order (cheap to gather) with fewer rows than the driver's candidates times
    SET_CHECK_RATIO. A part stopped at a probe cap is counted on, up to that limit."""
    limit = SET_CHECK_RATIO * sizes[id(driver)]
    gathered = set()
    for part in parts:
        if part is driver or not part.job_ordered:
            continue
        if sizes[id(part)] in PROBE_CAPS and sizes[id(part)] < limit:
            sizes[id(part)] = estimate(part.probe or (part.sql, part.params), limit)
        if sizes[id(part)] < limit:
            gathered.add(id(part))
    return gathered


def _sizes(parts: list[_Part], estimate: Estimate) -> dict[int, int]:
    """Each part's size, counted with growing caps until one part's exact size is known:
    it is then the smallest (every part still at the cap is larger). Parts still at the
    last cap keep it as their size."""
    sizes: dict[int, int] = {}
    open_parts = list(parts)
    for cap in PROBE_CAPS:
        for part in open_parts:
            sizes[id(part)] = estimate(part.probe or (part.sql, part.params), cap)
        exact = [part for part in open_parts if sizes[id(part)] < cap]
        open_parts = [part for part in open_parts if sizes[id(part)] >= cap]
        if exact or not open_parts:
            break
    return sizes


def _leaf_part(group: list[Filter]) -> _Part:
    first = group[0]
    path, path_params = _path_match(first, "q")
    if first.operator == "NotExists":
        sql, params = _leaf(first)
        absent = f"NOT EXISTS (SELECT 1 FROM search_props q WHERE q.job = {{job}} AND {path})"
        return _Part(sql, params, _template(absent, path_params), can_drive=False)
    scan = _conditions(group, lookup=False)
    sql = f"SELECT q.job AS job FROM search_props q WHERE {path} AND {scan[0]}"
    probe = _conditions(group, lookup=True)
    present = (
        f"EXISTS (SELECT 1 FROM search_props q WHERE q.job = {{job}} AND {path} AND {probe[0]})"
    )
    return _Part(
        sql,
        [*path_params, *scan[1]],
        _template(present, [*path_params, *probe[1]]),
        job_ordered=len(group) == 1 and _job_ordered(first),
    )


def _job_ordered(item: Filter) -> bool:
    """Whether the rows passing `item` are read from an index in job order: an equality on
    one path and an index column (path, value, job), with no expression around the column."""
    if item.operator != "Equals" or item.kind in (Kind.STRUCTURE, Kind.TIMESTAMP):
        return False
    if item.kind is Kind.HYPERPARAMETER:
        return number_of(item.value or "") is None  # a number compares by CAST
    return True


def _conditions(group: list[Filter], lookup: bool) -> Sql:
    parts = [condition_of(item, "q", lookup) for item in group]
    return " AND ".join(sql for sql, _ in parts), [p for _, params in parts for p in params]


def _template(sql: str, params: list[Any]) -> Callable[[str], Sql]:
    """A per-candidate check: `{job}` in `sql` becomes the candidate's column."""

    def check(job: str) -> Sql:
        return sql.replace("{job}", job), list(params)

    return check


def _nested_part(nested: Nested) -> _Part:
    sql, params = _nested(nested)
    element, element_params = _nested_elements(nested, lookup=True, job="{job}")
    positive = [f for f in nested.filters if f.operator != "NotExists"]
    probe = _leaf(positive[0]) if positive else None  # the elements its first filter admits
    return _Part(sql, params, _template(f"EXISTS ({element})", element_params), probe=probe)


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
            f"SELECT name AS job FROM jobs WHERE kind = 'training' AND name NOT IN"
            f" (SELECT p.job FROM search_props p WHERE {path})",
            params,
        )
    condition, values = condition_of(item, "p")
    return f"SELECT p.job AS job FROM search_props p WHERE {path} AND {condition}", params + values


def _nested(nested: Nested) -> Sql:
    """Jobs with one element of the list property that satisfies every filter."""
    element, params = _nested_elements(nested, lookup=False, job=None)
    return f"SELECT s.job AS job FROM ({element}) s", params


def _nested_elements(nested: Nested, lookup: bool, job: str | None) -> Sql:
    """(job, elem) of the list's elements that satisfy every filter; with `job`, only that
    job's elements, found by primary key."""
    positive = [f for f in nested.filters if f.operator != "NotExists"]
    own = f"e.job = {job} AND " if job else ""
    driver = positive[0] if positive else None
    if driver is not None:
        condition, values = condition_of(driver, "e", lookup)
        source = f"SELECT e.job, e.elem FROM search_props e WHERE {own}e.path = ? AND {condition}"
        params = [driver.name, *values]
    else:
        source = (
            f"SELECT DISTINCT e.job, e.elem FROM search_props e"
            f" WHERE {own}e.path >= ? AND e.path < ?"
        )
        params = [nested.property + ".", nested.property + "/"]
    for item in nested.filters:
        if item is driver:
            continue
        condition, values = condition_of(item, "x", lookup=True)
        negate = "NOT " if item.operator == "NotExists" else ""
        source += (
            f" AND {negate}EXISTS (SELECT 1 FROM search_props x WHERE x.job = e.job"
            f" AND x.elem = e.elem AND x.path = ? AND {condition})"
        )
        params += [item.name, *values]
    return source, params


def condition_of(item: Filter, alias: str, lookup: bool = False) -> Sql:
    """The test one index row must pass (its path is matched separately). With `lookup`, the
    row is found by its primary key (job, path): unary + keeps SQLite from scanning a value
    index instead, once per candidate."""
    alias = f"+{alias}" if lookup else alias
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
    # `IS NOT NULL` changes no answer (NULL never contains or is in anything), and lets SQLite
    # use the partial text index: without it, a Contains scanned every property row of every
    # job (0.65 s at 100,000 jobs).
    if operator == "Contains":
        return f"{column} IS NOT NULL AND instr({column}, ?) > 0", [value]
    if operator == "In":
        options = [option.strip() for option in value.split(",")]
        return f"{column} IS NOT NULL AND {column} IN ({','.join('?' * len(options))})", options
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
