"""Reading a request document the way the AWS CLI's --cli-input-json does."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from orchestrator.errors import ValidationError


def load_request(source: str) -> dict[str, Any]:
    """JSON from a path, a file:// URI, '-' (stdin) or an inline JSON object."""
    text = _text_of(source)
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError(
            f"{source}: not valid JSON ({exc.msg} at line {exc.lineno})"
        ) from None
    if not isinstance(document, dict):
        raise ValidationError(f"{source}: the request must be a JSON object")
    return document


def _text_of(source: str) -> str:
    if source == "-":
        return sys.stdin.read()
    if source.lstrip().startswith("{"):
        return source
    path = Path(source[len("file://") :] if source.startswith("file://") else source)
    try:
        return path.read_text()
    except OSError as exc:
        raise ValidationError(f"cannot read request file {str(path)!r}: {exc.strerror}") from None
