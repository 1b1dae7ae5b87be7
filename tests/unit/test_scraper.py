"""The scraper: definitions checked up front, values taken only when they are numbers."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from orchestrator.metrics.scraper import MetricDefinition, Scraper, definition_errors

LOSS = MetricDefinition("loss", r"loss=([^ ]+)")
ACC = MetricDefinition("acc", r"acc(?:uracy)?=([0-9.]+)")


def test_each_definition_searches_each_line() -> None:
    scraper = Scraper([LOSS, ACC])
    assert scraper.scrape("epoch 3 loss=0.25 accuracy=0.9") == [("loss", 0.25), ("acc", 0.9)]
    assert scraper.scrape("nothing here") == []
    assert scraper.scrape("loss=1e-3") == [("loss", 0.001)]


def test_non_numeric_captures_are_skipped() -> None:
    scraper = Scraper([LOSS])
    for text in ("loss=nan", "loss=inf", "loss=-Infinity", "loss=abc", "loss=1.2.3", "loss="):
        assert scraper.scrape(text) == [], text


def test_backreferences_still_work_without_the_prefilter() -> None:
    scraper = Scraper([MetricDefinition("x", r"(['\"])(\d+)\1"), LOSS])
    assert scraper.scrape("value '42'") == []  # group 1 is the quote: not a number
    assert Scraper([MetricDefinition("x", r"(\d+)-\1")]).scrape("7-7") == [("x", 7.0)]


def test_definition_errors_name_the_definition() -> None:
    errors = definition_errors(
        [
            MetricDefinition("no-group", r"loss=[0-9]+"),
            MetricDefinition("broken", r"loss=([0-9"),
            MetricDefinition("ok", r"a=(\d)"),
            MetricDefinition("ok", r"b=(\d)"),
        ]
    )
    assert errors[0].startswith("MetricDefinitions[0] ('no-group'): Regex needs a capture group")
    assert errors[1].startswith("MetricDefinitions[1] ('broken'): Regex is not a valid")
    assert errors[2] == "MetricDefinitions[3] ('ok'): the name is used by another definition"
    assert (
        "at most 40" in definition_errors([MetricDefinition(f"m{i}", "(x)") for i in range(41)])[0]
    )


@given(st.lists(st.text(alphabet="loss=acuryt0123456789.e- x", max_size=40), max_size=20))
def test_the_prefilter_never_changes_the_result(lines: list[str]) -> None:
    definitions = [LOSS, ACC, MetricDefinition("t", r"t=(\d+\.?\d*)")]
    scraper = Scraper(definitions)
    for line in lines:
        expected = []
        for definition in definitions:
            match = re.search(definition.regex, line)
            if match:
                try:
                    value = float(match.group(1))
                except ValueError:
                    continue
                if value == value and abs(value) != float("inf"):
                    expected.append((definition.name, value))
        assert scraper.scrape(line) == expected
