"""When a monitoring schedule runs and over which data, decided purely.

The developer guide ("Schedule monitoring jobs", "Cron expressions for monitoring schedule"):
ScheduleExpression is `NOW` (one execution, at once) or `cron(Minutes Hours Day-of-month Month
Day-of-week Year)` run at most hourly; the documented forms are hourly `cron(0 * ? * * *)`,
daily `cron(0 H ? * * *)` and every N hours `cron(0 H/N ? * * *)` or `cron(0 */N ? * * *)`.
DataAnalysisStartTime / DataAnalysisEndTime (ScheduleConfig) and StartTimeOffset /
EndTimeOffset (BatchTransformInput) are ISO 8601 durations relative to the scheduled time,
such as `-PT1H`; a one-time (`NOW`) schedule needs DataAnalysisStartTime and EndTime.
Anything else is refused with the form that would work.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

HOUR = 3600.0
NOW = "NOW"
_CRON = re.compile(r"^cron\((.+)\)$")
_OFFSET = re.compile(r"^-P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$")


class ScheduleError(ValueError):
    """A ScheduleExpression or offset this orchestrator cannot run; the message says why."""


@dataclass(frozen=True)
class Schedule:
    """NOW (`every` 0), or the hours of the day a cron schedule runs at, `every` hours apart
    from `first`."""

    every: int = 0
    first: int = 0

    @property
    def one_time(self) -> bool:
        return self.every == 0

    def next_slot(self, after: float) -> float:
        """The first scheduled time (epoch seconds, on the hour) strictly after `after`."""
        hour = math.floor(after / HOUR) + 1
        while not self._runs_at(hour % 24):
            hour += 1
        return hour * HOUR

    def latest_slot(self, due: float, now: float) -> float:
        """The last scheduled time at or before `now`, from the slot `due` on: a schedule that
        missed several runs its latest one."""
        slot = due
        while (following := self.next_slot(slot)) <= now:
            slot = following
        return slot

    def _runs_at(self, hour: int) -> bool:
        """cron's H/N: H, H+N, ... up to 23 (never the hours before H)."""
        return hour >= self.first and (hour - self.first) % self.every == 0


def parse_schedule(expression: str) -> Schedule:
    if expression == NOW:
        return Schedule()
    found = _CRON.match(expression.strip())
    fields = found.group(1).split() if found else []
    if len(fields) != 6:
        raise ScheduleError(
            f"ScheduleExpression {expression!r} is neither NOW nor cron(Minutes Hours"
            " Day-of-month Month Day-of-week Year), e.g. cron(0 * ? * * *)"
        )
    minutes, hours, day, month, weekday, year = fields
    if minutes != "0" or day not in ("?", "*") or month != "*" or weekday not in ("?", "*"):
        raise ScheduleError(
            f"ScheduleExpression {expression!r}: monitoring runs on the hour, every day;"
            " use cron(0 * ? * * *), cron(0 H ? * * *) or cron(0 */N ? * * *)"
        )
    if year != "*":
        raise ScheduleError(f"ScheduleExpression {expression!r}: the year must be *")
    return _hours(hours, expression)


def _hours(field: str, expression: str) -> Schedule:
    if field == "*":
        return Schedule(every=1)
    start, _, step = field.partition("/")
    first = 0 if start == "*" else _number(start, 0, 23, expression)
    every = _number(step, 1, 24, expression) if step else 24
    return Schedule(every=every, first=first)


def _number(text: str, low: int, high: int, expression: str) -> int:
    if not text.isdigit() or not low <= int(text) <= high:
        raise ScheduleError(f"ScheduleExpression {expression!r}: {text!r} is not {low}..{high}")
    return int(text)


def parse_offset(text: str, field: str) -> float:
    """`-PT1H` -> -3600.0; only past offsets (a negative duration), as the guide gives them."""
    found = _OFFSET.match(text)
    if not found or not any(found.groups()):
        raise ScheduleError(f"{field} must be a negative ISO 8601 duration such as -PT1H")
    days, hours, minutes, seconds = (int(g or 0) for g in found.groups())
    return -float(days * 86400 + hours * 3600 + minutes * 60 + seconds)


def window(scheduled: float, start: str | None, end: str | None) -> tuple[float, float]:
    """[start, end) of the data an execution at `scheduled` analyses; by default the hour
    before it (the guide's default for hourly schedules)."""
    begin = scheduled + (parse_offset(start, "start offset") if start else -HOUR)
    finish = scheduled + (parse_offset(end, "end offset") if end else 0.0)
    if begin >= finish:
        raise ScheduleError("the analysis window's start must come before its end")
    return begin, finish
