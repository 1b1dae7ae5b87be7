"""Timestamps as the APIs carry them: epoch seconds, datetimes, or ISO 8601 text."""

from __future__ import annotations

import datetime as dt
from typing import Any


def epoch_seconds(value: Any) -> float | None:
    """Epoch seconds of a number, a datetime or an ISO 8601 string (UTC unless it says);
    None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return moment.replace(tzinfo=moment.tzinfo or dt.timezone.utc).timestamp()
