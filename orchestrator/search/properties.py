"""What a TrainingJob search property is: its kind, read from the botocore `TrainingJob` shape,
and a record flattened into (path, element, text, number) rows for the index.

Special names: `Metrics.<name>` (a metric's final value, a number), `HyperParameters.<name>`
(text that compares as a number when the filter's value is one), `Tags.<key>` (text).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from orchestrator.timestamps import epoch_seconds
from orchestrator.validation.model import service_model


class Kind(str, Enum):
    TEXT = "text"
    NUMBER = "number"
    TIMESTAMP = "timestamp"
    BOOLEAN = "boolean"
    HYPERPARAMETER = "hyperparameter"
    STRUCTURE = "structure"  # only Exists / NotExists make sense


_SCALARS = {
    "string": Kind.TEXT,
    "integer": Kind.NUMBER,
    "long": Kind.NUMBER,
    "float": Kind.NUMBER,
    "double": Kind.NUMBER,
    "timestamp": Kind.TIMESTAMP,
    "boolean": Kind.BOOLEAN,
}
_SPECIAL = {"Metrics": Kind.NUMBER, "HyperParameters": Kind.HYPERPARAMETER, "Tags": Kind.TEXT}


@dataclass(frozen=True)
class Row:
    path: str
    elem: int
    seq: int
    text: str | None
    num: float | None


def _shapes() -> Mapping[str, Any]:
    shapes: Mapping[str, Any] = service_model()["shapes"]
    return shapes


@functools.lru_cache(maxsize=4096)
def property_kind(name: str) -> Kind | None:
    """The kind of a property name, or None when TrainingJob has no such property."""
    head, _, rest = name.partition(".")
    if head in _SPECIAL:
        return _SPECIAL[head] if rest else None
    shape = _shapes()["TrainingJob"]
    for part in name.split("."):
        shape = _unwrap_list(shape)
        if shape["type"] == "map":
            shape = _shapes()[shape["value"]["shape"]]
            continue
        members = shape.get("members", {}) if shape["type"] == "structure" else {}
        if part not in members or part in ("Tags", "FinalMetricDataList"):
            return None
        shape = _shapes()[members[part]["shape"]]
    shape = _unwrap_list(shape)
    return _SCALARS.get(shape["type"], Kind.STRUCTURE)


@functools.lru_cache(maxsize=4096)
def single_valued(name: str) -> bool:
    """At most one value per job: no list lies on the property's path."""
    head = name.partition(".")[0]
    if head in _SPECIAL:
        return True
    shape = _shapes()["TrainingJob"]
    for part in name.split("."):
        if shape["type"] == "list":
            return False
        if shape["type"] == "map":
            shape = _shapes()[shape["value"]["shape"]]
            continue
        shape = _shapes()[shape["members"][part]["shape"]]
    return bool(shape["type"] != "list")


def _unwrap_list(shape: Mapping[str, Any]) -> Mapping[str, Any]:
    while shape["type"] == "list":
        shape = _shapes()[shape["member"]["shape"]]
    return shape


def number_of(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def parse_timestamp(text: str) -> float | None:
    """Epoch seconds of an ISO 8601 'YYYY-mm-ddTHH:MM:SS' value (UTC unless it says)."""
    return epoch_seconds(text) if isinstance(text, str) and text.strip() else None


def flatten(record: Mapping[str, Any]) -> list[Row]:
    """Index rows of one TrainingJob search record (describe output plus Tags)."""
    rows: list[Row] = []
    counters: dict[str, int] = {}
    for path, elem, value in _leaves(record, "", 0):
        seq = counters.get(path, 0)
        counters[path] = seq + 1
        rows.append(_row(path, elem, seq, value))
    return rows


def _row(path: str, elem: int, seq: int, value: Any) -> Row:
    if isinstance(value, bool):
        return Row(path, elem, seq, "true" if value else "false", None)
    if isinstance(value, (int, float)):
        return Row(path, elem, seq, None, float(value))
    text = str(value)
    numeric = number_of(text) if path.startswith("HyperParameters.") else None
    return Row(path, elem, seq, text, numeric)


def _leaves(node: Any, path: str, elem: int) -> Iterator[tuple[str, int, Any]]:
    if path == "":
        yield from _record_leaves(node)
        return
    if isinstance(node, Mapping):
        for key, value in node.items():
            yield from _leaves(value, f"{path}.{key}", elem)
    elif isinstance(node, list):
        top = "." not in path  # the element of a top-level list is what NestedFilters bind
        for index, item in enumerate(node):
            yield from _leaves(item, path, index if top else elem)
    elif node is not None:
        yield path, elem, node


def _record_leaves(record: Mapping[str, Any]) -> Iterator[tuple[str, int, Any]]:
    for key, value in record.items():
        if key == "Tags":
            for tag in value:
                yield f"Tags.{tag['Key']}", 0, tag.get("Value", "")
        elif key == "FinalMetricDataList":
            for metric in value:
                yield f"Metrics.{metric['MetricName']}", 0, metric["Value"]
        else:
            yield from _leaves(value, key, 0)
