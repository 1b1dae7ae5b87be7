"""The CloudWatch Logs subset that the SageMaker SDK and `aws logs` use for training and
processing jobs.

Groups `/aws/sagemaker/TrainingJobs` and `/aws/sagemaker/ProcessingJobs`, one stream per host
named `<job>/algo-N-<epoch>` (the developer guide:
"[training-job-name]/algo-[instance-number-in-cluster]-[epoch_timestamp]"), read from that
host's log file. Forward tokens carry a byte offset into that file, so following a long log
reads only what is new.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from orchestrator.config import Settings
from orchestrator.engine.context import EngineContext
from orchestrator.engine.logs import parse_lines
from orchestrator.errors import ProtocolError
from orchestrator.processing_spec import public_name, stored_name
from orchestrator.spec import PROCESSING, TRAINING, host_names
from orchestrator.store.jobs import JobRecord, JobStore, ListQuery
from orchestrator.validation.model import validate_shape

GROUP = "/aws/sagemaker/TrainingJobs"
GROUPS = {GROUP: TRAINING, "/aws/sagemaker/ProcessingJobs": PROCESSING}
SERVICE = "logs"
MAX_EVENTS = 10_000


def stream_name(record: JobRecord, host: str = "algo-1") -> str:
    return f"{public_name(record.name)}/{host}-{int(record.creation_time)}"


def _not_found(what: str) -> ProtocolError:
    return ProtocolError("ResourceNotFoundException", f"The specified {what} does not exist.")


def _kind_of_group(request: dict[str, Any]) -> str:
    """Which jobs the request's log group holds: training or processing."""
    group = request.get("logGroupName") or request.get("logGroupIdentifier")
    kind = GROUPS.get(str(group))
    if kind is None:
        raise _not_found("log group")
    return kind


def _group_of(kind: str) -> str:
    return next(group for group, of in GROUPS.items() if of == kind)


def _ms(seconds: float) -> int:
    return int(seconds * 1000)


@dataclass(frozen=True)
class _Stream:
    record: JobRecord
    host: str
    path: Path

    @property
    def name(self) -> str:
        return stream_name(self.record, self.host)


class LogsApi:
    def __init__(self, store: JobStore, settings: Settings) -> None:
        self.store = store
        self.settings = settings

    def _of(self, record: JobRecord) -> list[_Stream]:
        """The job's streams whose host has written anything, in stream-name order."""
        streams = [
            _Stream(record, host, EngineContext.log_file(self.settings, record.name, host))
            for host in host_names(record.request)
        ]
        return sorted((s for s in streams if s.path.exists()), key=lambda s: s.name)

    def _stream(self, name: str, kind: str) -> _Stream:
        job = name.split("/", 1)[0]
        record = self.store.get(stored_name(job) if kind == PROCESSING else job)
        if record is not None and record.kind != kind:
            record = None
        found = [s for s in self._of(record) if s.name == name] if record is not None else []
        if not found:
            raise _not_found("log stream")
        return found[0]

    def _streams(self, prefix: str, kind: str) -> list[_Stream]:
        job_prefix = prefix.split("/", 1)[0]
        records, _ = self.store.page(
            ListQuery(
                kind=kind,
                name_prefix=job_prefix,
                sort_by="Name",
                sort_order="Ascending",
                max_results=10_000,
            )
        )
        return [s for r in records for s in self._of(r) if s.name.startswith(prefix)]

    def describe_log_streams(self, request: dict[str, Any]) -> dict[str, Any]:
        validate_shape(request, "DescribeLogStreamsRequest", SERVICE)
        kind = _kind_of_group(request)
        prefix = request.get("logStreamNamePrefix", "")
        streams = [self._describe(r) for r in self._streams(prefix, kind)]
        if request.get("orderBy") == "LastEventTime":
            streams.sort(key=lambda s: s.get("lastEventTimestamp", 0))
        if request.get("descending"):
            streams.reverse()
        start = _index_token(request.get("nextToken"))
        limit = request.get("limit", 50)
        response: dict[str, Any] = {"logStreams": streams[start : start + limit]}
        if start + limit < len(streams):
            response["nextToken"] = str(start + limit)
        return response

    def _describe(self, found: _Stream) -> dict[str, Any]:
        events = _events(found.path, 0)
        name = found.name
        stream: dict[str, Any] = {
            "logStreamName": name,
            "creationTime": _ms(found.record.creation_time),
            "arn": f"arn:aws:logs:{self.settings.region}:{self.settings.account_id}:log-group:"
            f"{_group_of(found.record.kind)}:log-stream:{name}",
            "storedBytes": 0,
        }
        if events:
            stream.update(
                firstEventTimestamp=_ms(events[0].stamp),
                lastEventTimestamp=_ms(events[-1].stamp),
                lastIngestionTime=_ms(events[-1].stamp),
            )
        return stream

    def get_log_events(self, request: dict[str, Any]) -> dict[str, Any]:
        validate_shape(request, "GetLogEventsRequest", SERVICE)
        path = self._stream(request["logStreamName"], _kind_of_group(request)).path
        limit = min(request.get("limit", MAX_EVENTS), MAX_EVENTS)
        token = request.get("nextToken")
        if token is not None and not _POSITION.fullmatch(token):
            raise _bad_token()
        window = (request.get("startTime"), request.get("endTime"))
        forward = token.startswith("f/") if token else bool(request.get("startFromHead"))
        if forward:
            start = int(token[2:]) if token else 0
            events = _within(_events(path, start), *window)[:limit]
            after = events[-1].end if events else _size(path)
            return self._page(events, f"f/{after}", f"b/{events[0].start if events else start}")
        before = int(token[2:]) if token else _size(path)
        events = _within([e for e in _events(path, 0) if e.end <= before], *window)[-limit:]
        first = events[0].start if events else before
        return self._page(events, f"f/{before if token else _size(path)}", f"b/{first}")

    @staticmethod
    def _page(events: list[_Event], forward: str, backward: str) -> dict[str, Any]:
        return {
            "events": [
                {"timestamp": _ms(e.stamp), "message": e.text, "ingestionTime": _ms(e.stamp)}
                for e in events
            ],
            "nextForwardToken": forward,
            "nextBackwardToken": backward,
        }

    def filter_log_events(self, request: dict[str, Any]) -> dict[str, Any]:
        validate_shape(request, "FilterLogEventsRequest", SERVICE)
        kind = _kind_of_group(request)
        names = request.get("logStreamNames")
        streams = (
            [self._stream(n, kind) for n in names]
            if names
            else self._streams(request.get("logStreamNamePrefix", ""), kind)
        )
        matches = _pattern(request.get("filterPattern", ""))
        limit = min(request.get("limit", MAX_EVENTS), MAX_EVENTS)
        skip = _index_token(request.get("nextToken"))
        found: list[dict[str, Any]] = []
        window = (request.get("startTime"), request.get("endTime"))
        for stream in streams:
            for event in _within(_events(stream.path, 0), *window):
                if matches(event.text):
                    found.append(
                        {
                            "logStreamName": stream.name,
                            "timestamp": _ms(event.stamp),
                            "message": event.text,
                            "ingestionTime": _ms(event.stamp),
                            "eventId": f"{stream.record.name}-{stream.host}-{event.start}",
                        }
                    )
        found.sort(key=lambda event: int(event["timestamp"]))
        response: dict[str, Any] = {
            "events": found[skip : skip + limit],
            "searchedLogStreams": [
                {"logStreamName": s.name, "searchedCompletely": True} for s in streams
            ],
        }
        if skip + limit < len(found):
            response["nextToken"] = str(skip + limit)
        return response


def _bad_token() -> ProtocolError:
    return ProtocolError("InvalidParameterException", "The specified nextToken is invalid.")


def _index_token(token: str | None) -> int:
    """Tokens that page through a list are the index of the next item."""
    if token is None:
        return 0
    if not token.isdigit():
        raise _bad_token()
    return int(token)


@dataclass(frozen=True)
class _Event:
    stamp: float
    text: str
    start: int  # byte offsets of the line in the log file
    end: int


_POSITION = re.compile(r"[fb]/\d{1,18}")


def _size(path: Path) -> int:
    return path.stat().st_size


def _events(path: Path, offset: int) -> list[_Event]:
    """Complete lines from a byte offset, each with where it starts and ends in the file."""
    with path.open("rb") as handle:
        handle.seek(offset)
        data = handle.read()
    events: list[_Event] = []
    position = offset
    for stamp, text, size in parse_lines(data):
        events.append(_Event(stamp, text, position, position + size))
        position += size
    return events


def _within(events: list[_Event], start: int | None, end: int | None) -> list[_Event]:
    low = (start or 0) / 1000
    high = end / 1000 if end is not None else float("inf")
    return [e for e in events if low <= e.stamp < high]


def _pattern(pattern: str) -> Any:
    """CloudWatch's plain filter syntax: every term (or "quoted phrase") must appear,
    `?term`s need one of them to, `-term`s must not."""
    try:
        terms = shlex.split(pattern)
    except ValueError:
        raise ProtocolError("InvalidParameterException", "Invalid filter pattern.") from None
    required = [t for t in terms if t[0] not in "?-"]
    any_of = [t[1:] for t in terms if t.startswith("?")]
    excluded = [t[1:] for t in terms if t.startswith("-") and len(t) > 1]

    def matches(text: str) -> bool:
        return (
            all(t in text for t in required)
            and (not any_of or any(t in text for t in any_of))
            and not any(t in text for t in excluded)
        )

    return matches
