"""MetricDefinitions applied to log lines: pure, lines in, (metric, value) pairs out.

Each definition's regex is searched in every line, as SageMaker does; the first capture group
is the value, and a capture that is not a finite number is dropped. Most lines match no
definition, so one combined regex rejects them with a single search before the individual
regexes run.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

MAX_DEFINITIONS = 40


@dataclass(frozen=True)
class MetricDefinition:
    name: str
    regex: str


def definition_errors(definitions: Sequence[MetricDefinition]) -> list[str]:
    """Why these definitions cannot be scraped (each message names the definition)."""
    errors = []
    if len(definitions) > MAX_DEFINITIONS:
        errors.append(f"MetricDefinitions: at most {MAX_DEFINITIONS}, got {len(definitions)}")
    seen: set[str] = set()
    for index, definition in enumerate(definitions):
        where = f"MetricDefinitions[{index}] ({definition.name!r})"
        if definition.name in seen:
            errors.append(f"{where}: the name is used by another definition")
        seen.add(definition.name)
        try:
            compiled = re.compile(definition.regex)
        except re.error as exc:
            errors.append(f"{where}: Regex is not a valid regular expression ({exc})")
            continue
        if compiled.groups < 1:
            errors.append(f"{where}: Regex needs a capture group, e.g. 'loss=([0-9.]+)'")
    return errors


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


class Scraper:
    """Compiled definitions; `scrape` is called once per log line."""

    def __init__(self, definitions: Sequence[MetricDefinition]) -> None:
        self.definitions = list(definitions)
        self._patterns = [(d.name, re.compile(d.regex)) for d in definitions]
        self._any = self._combined([d.regex for d in definitions])

    @staticmethod
    def _combined(regexes: list[str]) -> re.Pattern[str] | None:
        """One regex matching a line when any definition could; None if they cannot be
        combined (backreferences or repeated group names change meaning when joined)."""
        if not regexes or any(re.search(r"\\[1-9]|\(\?P[=<]", r) for r in regexes):
            return None
        try:
            return re.compile("|".join(f"(?:{r})" for r in regexes))
        except re.error:
            return None

    def scrape(self, line: str) -> list[tuple[str, float]]:
        if self._any is not None and self._any.search(line) is None:
            return []
        found = []
        for name, pattern in self._patterns:
            match = pattern.search(line)
            if match is not None:
                value = _number(match.group(1))
                if value is not None:
                    found.append((name, value))
        return found
