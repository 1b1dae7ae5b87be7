"""How the CLI shows jobs: aligned tables, local times, JSON with readable timestamps."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any


def local_time(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M:%S")


def iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, tz=dt.timezone.utc).isoformat()


def _readable(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _readable(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_readable(v, key) for v in value]
    if isinstance(value, float) and key.endswith(("Time", "Timestamp")):
        return iso(value)
    return value


def to_json(document: Any) -> str:
    """JSON as the AWS CLI prints it: timestamps in ISO 8601."""
    return json.dumps(_readable(document), indent=2)


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max([len(h), *(len(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(line.rstrip() for line in lines)


def summaries_table(summaries: list[dict[str, Any]]) -> str:
    rows = [
        [
            s["TrainingJobName"],
            s["TrainingJobStatus"],
            s["SecondaryStatus"],
            local_time(s["CreationTime"]),
            local_time(s["TrainingEndTime"]) if "TrainingEndTime" in s else "-",
        ]
        for s in summaries
    ]
    return table(["NAME", "STATUS", "SECONDARY", "CREATED", "ENDED"], rows)
