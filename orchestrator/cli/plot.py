"""A metric's curve drawn in the terminal with block characters."""

from __future__ import annotations

from collections.abc import Sequence

BLOCKS = " ▁▂▃▄▅▆▇█"


def downsample(values: Sequence[float], width: int) -> list[float]:
    """At most `width` values: the mean of each run of neighbours."""
    if len(values) <= width:
        return list(values)
    size = len(values) / width
    return [
        sum(chunk) / len(chunk)
        for i in range(width)
        if (chunk := values[int(i * size) : max(int((i + 1) * size), int(i * size) + 1)])
    ]


def plot(values: Sequence[float], width: int = 60, height: int = 8) -> list[str]:
    """Rows of a column chart of `values`, top row first, labelled with max and min."""
    if not values:
        return ["(no points yet)"]
    columns = downsample(values, width)
    low, high = min(columns), max(columns)
    span = (high - low) or 1.0
    eighths = [round((v - low) / span * (height * 8 - 1)) + 1 for v in columns]
    label_width = max(len(f"{high:.4g}"), len(f"{low:.4g}"))
    rows = []
    for row in range(height - 1, -1, -1):
        cells = "".join(BLOCKS[min(max(e - row * 8, 0), 8)] for e in eighths)
        label = f"{high:.4g}" if row == height - 1 else f"{low:.4g}" if row == 0 else ""
        rows.append(f"{label:>{label_width}} ┤{cells}")
    return rows
