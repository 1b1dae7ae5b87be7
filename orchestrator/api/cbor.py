"""Bodies in CBOR, as botocore sends CloudWatch calls (Smithy RPC v2 CBOR): timestamps are
tag 1 (epoch seconds) both ways. cbor2 is imported on the first such request only."""

from __future__ import annotations

from typing import Any

from orchestrator.errors import ProtocolError

CONTENT_TYPE = "application/cbor"


def decode(body: bytes) -> dict[str, Any]:
    import cbor2

    try:
        payload = cbor2.loads(body) if body else {}
    except (cbor2.CBORDecodeError, ValueError):
        raise ProtocolError(
            "SerializationException", "The request body is not valid CBOR."
        ) from None
    if not isinstance(payload, dict):
        raise ProtocolError("SerializationException", "The request body must be a CBOR map.")
    return {str(key): value for key, value in payload.items() if value is not None}


def encode(document: dict[str, Any]) -> bytes:
    import cbor2

    return bytes(cbor2.dumps(document, datetime_as_timestamp=True, timezone=None))
