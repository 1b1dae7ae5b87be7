"""Paging tokens: a small JSON document, URL-safe base64; opaque to clients."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any


def encode_token(fields: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(fields).encode()).decode()


def decode_token(token: str) -> dict[str, Any] | None:
    """The token's fields, or None when it is not one of ours."""
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None
