"""Checks a request against a shape of the botocore SageMaker service model.

Clients validate only required members, types and minimum lengths; the service enforces max
lengths, patterns, enums and ranges. The model states all of them, so we read them from it
instead of re-typing them. Messages follow the service's wording:
"Value 'x' at 'trainingJobName' failed to satisfy constraint: ...".
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.metadata
import json
import threading
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import regex

from orchestrator.errors import ValidationError

Shape = Mapping[str, Any]

# Local sources are a feature of this tool: S3 URIs may also be file:// paths on this machine.
PATTERN_OVERRIDES = {"S3Uri": r"(https|s3)://([^/]+)/?(.*)|file://.+"}


_cache_dir: list[Path] = []


def use_cache_dir(directory: Path) -> None:
    """Keep a trimmed copy of each model here: loading botocore's whole model costs ~0.3 s
    per process, the trimmed copy a few milliseconds. Set by the entry point."""
    _cache_dir[:] = [directory]


def _trimmed(model: Mapping[str, Any]) -> dict[str, Any]:
    """Shapes and operations without their documentation: all that validation reads."""

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k != "documentation"}
        return node

    return {"shapes": strip(model["shapes"]), "operations": strip(model["operations"])}


def _load_from_botocore(service: str) -> dict[str, Any]:
    import botocore.loaders  # deferred: importing botocore costs ~0.1 s

    return _trimmed(botocore.loaders.Loader().load_service_model(service, "service-2"))


_loading = threading.Lock()


@functools.lru_cache(maxsize=4)
def _cached_model(service: str) -> Mapping[str, Any]:
    with _loading:  # threads of a server ask at once on their first request
        return _load_model(service)


def service_model(service: str = "sagemaker") -> Mapping[str, Any]:
    """The service model as the installed botocore ships it (loaded once per process)."""
    return _cached_model(service)


def _load_model(service: str) -> Mapping[str, Any]:
    if not _cache_dir:
        return _load_from_botocore(service)
    version = importlib.metadata.version("botocore")
    cached = _cache_dir[0] / f"{service}-botocore-{version}.json"
    try:
        model: dict[str, Any] = json.loads(cached.read_text())
        return model
    except (OSError, ValueError):
        pass
    model = _load_from_botocore(service)
    cached.parent.mkdir(parents=True, exist_ok=True)
    partial = cached.with_name(f".{cached.name}.{uuid.uuid4().hex}")
    partial.write_text(json.dumps(model))
    partial.replace(cached)  # atomic: concurrent processes never read half a file
    return model


@functools.lru_cache(maxsize=2048)
def _compiled(pattern: str) -> regex.Pattern[str]:
    # Java's String.matches semantics: the whole value must match.
    return regex.compile(pattern, regex.DOTALL)


def _render(value: Any) -> str:
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= 100 else text[:97] + "..."


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


class _Walker:
    def __init__(self, shapes: Mapping[str, Shape], shallow: frozenset[str] = frozenset()) -> None:
        self.shapes = shapes
        self.shallow = shallow  # list members whose size is checked but not their items
        self.errors: list[str] = []

    def fail(self, value: Any, path: str, rule: str) -> None:
        self.errors.append(
            f"Value '{_render(value)}' at '{path}' failed to satisfy constraint: {rule}"
        )

    def check(self, value: Any, shape_name: str, path: str) -> None:
        shape = self.shapes[shape_name]
        kind = shape["type"]
        checker = getattr(self, f"_check_{kind}", None)
        if checker is not None:
            checker(value, shape, shape_name, path)

    def _check_structure(self, value: Any, shape: Shape, name: str, path: str) -> None:
        if not isinstance(value, dict):
            self.fail(value, path, f"Member must be an object of type {name}")
            return
        members: Mapping[str, Shape] = shape.get("members", {})
        for required in shape.get("required", []):
            if value.get(required) is None:
                self.fail(None, self._join(path, required), "Member must not be null")
        for key, member_value in value.items():
            if key not in members:
                allowed = ", ".join(members)
                self.errors.append(
                    f"Unknown parameter '{key}' at '{path or 'request'}', must be one of: {allowed}"
                )
            elif key in self.shallow and isinstance(member_value, list):
                shape = self.shapes[members[key]["shape"]]
                path_to = self._join(path, key)
                self._check_length(member_value, len(member_value), shape, path_to, "length")
            elif member_value is not None:
                self.check(member_value, members[key]["shape"], self._join(path, key))

    def _check_list(self, value: Any, shape: Shape, name: str, path: str) -> None:
        if not isinstance(value, list):
            self.fail(value, path, "Member must be a list")
            return
        self._check_length(value, len(value), shape, path, "length")
        for index, item in enumerate(value, start=1):
            self.check(item, shape["member"]["shape"], f"{path}.{index}.member")

    def _check_map(self, value: Any, shape: Shape, name: str, path: str) -> None:
        if not isinstance(value, dict):
            self.fail(value, path, "Member must be a map")
            return
        self._check_length(value, len(value), shape, path, "length")
        for key, item in value.items():
            self.check(key, shape["key"]["shape"], f"{path}.{key}.key")
            self.check(item, shape["value"]["shape"], f"{path}.{key}.value")

    def _check_string(self, value: Any, shape: Shape, name: str, path: str) -> None:
        if not isinstance(value, str):
            self.fail(value, path, "Member must be a string")
            return
        self._check_length(value, len(value), shape, path, "length")
        if "enum" in shape and value not in shape["enum"]:
            self.fail(
                value, path, f"Member must satisfy enum value set: [{', '.join(shape['enum'])}]"
            )
        pattern = PATTERN_OVERRIDES.get(name, shape.get("pattern"))
        if pattern and _compiled(pattern).fullmatch(value) is None:
            self.fail(value, path, f"Member must satisfy regular expression pattern: {pattern}")

    def _check_integer(self, value: Any, shape: Shape, name: str, path: str) -> None:
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(value, path, "Member must be an integer")
            return
        self._check_range(value, shape, path)

    _check_long = _check_integer

    def _check_float(self, value: Any, shape: Shape, name: str, path: str) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fail(value, path, "Member must be a number")
            return
        self._check_range(value, shape, path)

    _check_double = _check_float

    def _check_boolean(self, value: Any, shape: Shape, name: str, path: str) -> None:
        if not isinstance(value, bool):
            self.fail(value, path, "Member must be a boolean")

    def _check_timestamp(self, value: Any, shape: Shape, name: str, path: str) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float, str, dt.datetime)):
            self.fail(value, path, "Member must be a timestamp")

    def _check_length(self, value: Any, size: int, shape: Shape, path: str, what: str) -> None:
        if "min" in shape and size < shape["min"]:
            self.fail(
                value, path, f"Member must have {what} greater than or equal to {shape['min']}"
            )
        if "max" in shape and size > shape["max"]:
            self.fail(value, path, f"Member must have {what} less than or equal to {shape['max']}")

    def _check_range(self, value: float, shape: Shape, path: str) -> None:
        if "min" in shape and value < shape["min"]:
            self.fail(
                value, path, f"Member must have value greater than or equal to {shape['min']}"
            )
        if "max" in shape and value > shape["max"]:
            self.fail(value, path, f"Member must have value less than or equal to {shape['max']}")

    @staticmethod
    def _join(path: str, member: str) -> str:
        return f"{path}.{_lower_first(member)}" if path else _lower_first(member)


def shape_errors(
    request: Any, shape_name: str, service: str = "sagemaker", shallow: frozenset[str] = frozenset()
) -> list[str]:
    """Every constraint of `shape_name` that `request` breaks, as service-worded messages.
    Lists under a member named in `shallow` are checked for size only."""
    walker = _Walker(service_model(service)["shapes"], shallow)
    walker.check(request, shape_name, "")
    return walker.errors


def raise_for_errors(errors: list[str]) -> None:
    """Raise one ValidationException carrying all errors, worded as the service does."""
    if not errors:
        return
    count = len(errors)
    noun = "error" if count == 1 else "errors"
    raise ValidationError(f"{count} validation {noun} detected: " + "; ".join(errors))


def validate_shape(request: Any, shape_name: str, service: str = "sagemaker") -> None:
    raise_for_errors(shape_errors(request, shape_name, service))


def input_shape(operation: str, service: str = "sagemaker") -> str:
    shape: str = service_model(service)["operations"][operation]["input"]["shape"]
    return shape
