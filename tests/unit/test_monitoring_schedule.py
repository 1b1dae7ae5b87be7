"""Monitoring schedules decided purely: cron slots, offsets and windows, and the merge of
captured predictions with ground truth."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from orchestrator.monitoring.merge import attribute_path, ground_truth, merge
from orchestrator.monitoring.schedule import (
    HOUR,
    ScheduleError,
    parse_offset,
    parse_schedule,
    window,
)

T0 = datetime(2026, 12, 2, 10, 20, tzinfo=timezone.utc).timestamp()  # 10:20 UTC


def _at(hour: int, minute: int = 0) -> float:
    return datetime(2026, 12, 2, hour, minute, tzinfo=timezone.utc).timestamp()


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("cron(0 * ? * * *)", _at(11)),  # hourly
        ("cron(0 13 ? * * *)", _at(13)),  # daily at 13:00
        ("cron(0 */6 ? * * *)", _at(12)),  # every 6 hours from midnight
        ("cron(0 1/4 ? * * *)", _at(13)),  # 1, 5, 9, 13, ...
    ],
)
def test_cron_schedules_run_on_their_next_hour(expression: str, expected: float) -> None:
    assert parse_schedule(expression).next_slot(T0) == expected


def test_now_is_one_time_and_a_daily_slot_rolls_to_tomorrow() -> None:
    assert parse_schedule("NOW").one_time
    assert parse_schedule("cron(0 9 ? * * *)").next_slot(T0) == _at(9) + 24 * HOUR


@pytest.mark.parametrize(
    "expression",
    ["cron(30 * ? * * *)", "cron(0 * 1 * * *)", "cron(0 25 ? * * *)", "rate(1 hour)", "hourly"],
)
def test_expressions_monitoring_cannot_run_are_refused_saying_what_works(expression: str) -> None:
    with pytest.raises(ScheduleError, match=r"cron\(0"):
        parse_schedule(expression)


def test_offsets_and_windows() -> None:
    assert parse_offset("-PT1H", "x") == -3600
    assert parse_offset("-P1DT30M", "x") == -(86400 + 1800)
    assert window(_at(11), "-PT2H", "-PT1H") == (_at(9), _at(10))
    assert window(_at(11), None, None) == (_at(10), _at(11))
    with pytest.raises(ScheduleError, match="negative ISO 8601 duration"):
        parse_offset("PT1H", "DataAnalysisStartTime")
    with pytest.raises(ScheduleError, match="before its end"):
        window(_at(11), "-PT1H", "-PT2H")


def _captured(event: str, inference: str | None, when: str, data: str) -> str:
    metadata = {"eventId": event, "inferenceTime": when}
    if inference:
        metadata["inferenceId"] = inference
    output = {"data": data, "encoding": "CSV", "observedContentType": "text/csv"}
    return json.dumps({"captureData": {"endpointOutput": output}, "eventMetadata": metadata})


def _truth(event: str, label: str) -> str:
    return json.dumps(
        {"groundTruthData": {"data": label, "encoding": "CSV"}, "eventMetadata": {"eventId": event}}
    )


def test_captured_records_in_the_window_join_ground_truth_by_inference_id_else_event_id() -> None:
    captured = "\n".join(
        [
            _captured("e1", "i1", "2026-12-02T10:10:00Z", "1,0.9"),  # joined by inferenceId
            _captured("e2", None, "2026-12-02T10:15:00Z", "0,0.2"),  # joined by eventId
            _captured("e3", "i3", "2026-12-02T10:16:00Z", "1,0.7"),  # no label
            _captured("e4", "i4", "2026-12-02T09:59:59Z", "1,0.8"),  # before the window
            "not json",
        ]
    )
    labels = ground_truth(["\n".join([_truth("i1", "1"), _truth("e2", "1"), _truth("e1", "0")])])
    merged = merge([captured], labels, _at(10), _at(11))
    assert merged.records == [
        {"output": ["1", "0.9"], "groundTruth": "1"},
        {"output": ["0", "0.2"], "groundTruth": "1"},
    ]
    assert (merged.captured, merged.unlabelled) == (3, 1)


def test_json_and_base64_outputs_are_decoded() -> None:
    record = json.loads(_captured("e1", None, "2026-12-02T10:10:00Z", ""))
    record["captureData"]["endpointOutput"] = {
        "data": "eyJzY29yZSI6IDAuOH0=",  # {"score": 0.8}
        "encoding": "BASE64",
        "observedContentType": "application/json",
    }
    merged = merge([json.dumps(record)], {"e1": "1"}, _at(10), _at(11))
    assert merged.records == [{"output": {"score": 0.8}, "groundTruth": "1"}]


@pytest.mark.parametrize(
    ("attribute", "path"),
    [(None, "$.output[0]"), ("1", "$.output[1]"), ("score", "$.output.score"),
     ("$.a.b", "$.output.a.b"), ("$[0]", "$.output[0]")],
)  # fmt: skip
def test_attributes_become_paths_into_the_merged_record(attribute: str | None, path: str) -> None:
    assert attribute_path(attribute) == path


def test_h_slash_n_never_runs_before_its_first_hour() -> None:
    schedule = parse_schedule("cron(0 8/6 ? * * *)")
    assert schedule.next_slot(_at(0, 30)) == _at(8)  # not 02:00
    assert schedule.next_slot(_at(20, 30)) == _at(8) + 24 * HOUR


def test_a_schedule_that_missed_slots_runs_its_latest() -> None:
    hourly = parse_schedule("cron(0 * ? * * *)")
    assert hourly.latest_slot(_at(1), _at(9, 10)) == _at(9)
    assert hourly.latest_slot(_at(9), _at(9, 10)) == _at(9)
