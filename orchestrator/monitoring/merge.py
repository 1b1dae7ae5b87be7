"""Captured predictions joined with ground truth: the dataset a model-quality execution analyses.

Formats (developer guide): a captured record ("Capture data", data capture JSON Lines) is
`{"captureData": {"endpointInput": {...}, "endpointOutput": {"observedContentType", "mode",
"data", "encoding"}}, "eventMetadata": {"eventId", "inferenceId"?, "inferenceTime"},
"eventVersion": "0"}`; a ground-truth record ("Ingest Ground Truth Labels and Merge Them With
Predictions") is `{"groundTruthData": {"data", "encoding"}, "eventMetadata": {"eventId"},
"eventVersion": "0"}`, its eventId being the captured record's inferenceId when one was given,
else its eventId. Each merged record is one JSON line `{"output": <the prediction, a list of
CSV fields or the JSON document>, "groundTruth": <the label>}`, which the analyzer reads with
JSON paths (`attribute_path`).

Ours, where the guide is silent: a captured record counts when its inferenceTime lies in the
execution's window (records without one are skipped); ground truth is taken from anywhere under
its S3 URI, whenever it was uploaded; the last label given for an event wins.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class Merged:
    records: list[dict[str, Any]]
    captured: int  # captured records in the window
    unlabelled: int  # of those, how many had no ground truth


def _json_lines(text: str) -> Iterable[dict[str, Any]]:
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue  # not a record: captured files hold nothing else, so skip it
        if isinstance(record, dict):
            yield record


def _decoded(payload: dict[str, Any]) -> Any:
    """A captured payload's value: CSV fields (a list) or a JSON document."""
    data, encoding = payload.get("data", ""), str(payload.get("encoding", "CSV")).upper()
    if encoding == "BASE64":
        try:
            data = base64.b64decode(data).decode("utf-8", errors="replace")
        except (binascii.Error, ValueError):
            return None
        content = str(payload.get("observedContentType", ""))
        encoding = "JSON" if "json" in content else "CSV"
    if encoding == "JSON":
        try:
            return json.loads(data)
        except ValueError:
            return None
    rows = list(csv.reader(io.StringIO(str(data))))
    return rows[0] if rows else []


def _time(metadata: dict[str, Any]) -> float | None:
    text = metadata.get("inferenceTime")
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def ground_truth(texts: Iterable[str]) -> dict[str, Any]:
    """eventId -> label, from ground-truth JSON Lines files."""
    labels: dict[str, Any] = {}
    for text in texts:
        for record in _json_lines(text):
            event = (record.get("eventMetadata") or {}).get("eventId")
            data = record.get("groundTruthData")
            if event is None or not isinstance(data, dict):
                continue
            value = _decoded(data)
            labels[str(event)] = value[0] if isinstance(value, list) and len(value) == 1 else value
    return labels


def merge(captured: Iterable[str], labels: dict[str, Any], start: float, end: float) -> Merged:
    """Captured records in [start, end) that have a label, each as a merged record."""
    records: list[dict[str, Any]] = []
    seen = unlabelled = 0
    for text in captured:
        for record in _json_lines(text):
            metadata = record.get("eventMetadata") or {}
            at = _time(metadata)
            if at is None or not start <= at < end:
                continue
            seen += 1
            key = metadata.get("inferenceId") or metadata.get("eventId")
            output = (record.get("captureData") or {}).get("endpointOutput")
            if key is None or str(key) not in labels or not isinstance(output, dict):
                unlabelled += 1
                continue
            records.append({"output": _decoded(output), "groundTruth": labels[str(key)]})
    return Merged(records, seen, unlabelled)


def attribute_path(attribute: str | None) -> str:
    """Where the analyzer finds an attribute of the prediction in a merged record: a CSV
    column index (`0`) or a JSON path / key of the JSON output (`$.score`, `score`)."""
    if attribute is None or attribute == "":
        return "$.output[0]"
    if attribute.isdigit():
        return f"$.output[{attribute}]"
    rest = attribute[1:] if attribute.startswith("$") else f".{attribute}"
    return f"$.output{rest if rest.startswith(('.', '[')) else '.' + rest}"
