"""The Search operation over training jobs: validate, refresh the index, query, build records."""

from __future__ import annotations

import functools
from typing import Any

from orchestrator.errors import ValidationError
from orchestrator.operations import training_jobs as service
from orchestrator.search.compiler import compile_expression
from orchestrator.search.expression import parse, visible_only
from orchestrator.search.properties import Kind, flatten, property_kind
from orchestrator.store.jobs import JobStore
from orchestrator.store.metrics import MetricStore
from orchestrator.store.search_index import SearchIndex, SortKey, request_digest
from orchestrator.validation.model import service_model, validate_shape

DEFAULT_SORT = "LastModifiedTime"
REFRESH_BATCH = 500


@functools.lru_cache(maxsize=1)
def _record_members() -> frozenset[str]:
    return frozenset(service_model()["shapes"]["TrainingJob"]["members"])


def search_record(
    store: JobStore, metrics: MetricStore, name: str, now: float | None = None
) -> dict[str, Any]:
    """The TrainingJob member of a SearchRecord: the job as described (at `now`, the
    caller's clock), with its Tags."""
    described = service.describe(store, name, metrics, now)
    record = {k: v for k, v in described.items() if k in _record_members()}
    record["Tags"] = [{"Key": k, "Value": v} for k, v in sorted(store.tags(name).items())]
    return record


def refresh(
    store: JobStore, metrics: MetricStore, index: SearchIndex, now: float | None = None
) -> int:
    """Bring the index up to date with every job changed since it was last indexed."""
    refreshed = 0
    while True:
        stale = index.stale(REFRESH_BATCH)
        if not stale:
            return refreshed
        index.replace(
            [
                (name, version, flatten(search_record(store, metrics, name, now)))
                for name, version in stale
            ]
        )
        refreshed += len(stale)
        if len(stale) < REFRESH_BATCH:
            return refreshed


def sort_key(request: dict[str, Any]) -> SortKey:
    name = request.get("SortBy") or DEFAULT_SORT
    kind = property_kind(name)
    if kind is None or kind is Kind.STRUCTURE:
        raise ValidationError(f"SortBy {name!r} is not a sortable property of TrainingJob.")
    column = "text" if kind in (Kind.TEXT, Kind.BOOLEAN) else "num"
    return SortKey(name, column, request.get("SortOrder", "Descending") == "Descending")


def search(
    store: JobStore,
    metrics: MetricStore,
    index: SearchIndex,
    request: dict[str, Any],
    now: float | None = None,
) -> dict[str, Any]:
    """Search's response: SearchRecords, NextToken and TotalHits (warm pools as at `now`)."""
    validate_shape(request, "SearchRequest")
    if request["Resource"] != "TrainingJob" or request.get("CrossAccountFilterOption") == (
        "CrossAccount"
    ):
        # A valid resource type this orchestrator holds none of, or resources other accounts
        # made discoverable (there is one account here): nothing matches, as on an account
        # that has none.
        return {"Results": [], "TotalHits": {"Value": 0, "Relation": "EqualTo"}}
    document = request.get("SearchExpression")
    visibility = request.get("VisibilityConditions") or []
    parsed = parse(document) if document is not None else None
    expression = visible_only(parsed, visibility)
    sort = sort_key(request)
    refresh(store, metrics, index, now)
    digest = request_digest([document, visibility, sort.property, sort.descending])
    matching = compile_expression(expression, index.estimate) if expression else None
    page = index.query(
        matching,
        sort,
        request.get("MaxResults", 10),
        request.get("NextToken"),
        digest,
    )
    response: dict[str, Any] = {
        "Results": [{"TrainingJob": search_record(store, metrics, n, now)} for n in page.names],
        "TotalHits": {"Value": page.total, "Relation": "EqualTo"},
    }
    if page.next_token:
        response["NextToken"] = page.next_token
    return response
