"""Chart geometry for inline SVG: the templates draw the rectangles computed here.

No chart library and no script: a chart is a ``viewBox`` of fixed size that the page scales,
bars are ``<rect>``s with a ``<title>`` (the browser shows it on hover), and the styles
(colours per job status) come from the dashboard's stylesheet, so the strict
Content-Security-Policy (no inline styles or scripts) holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..service.activity import OUTCOMES, Minute, RuntimeBin

__all__ = ["Bar", "Chart", "Label", "minutes_chart", "runtimes_chart", "status_bar"]

WIDTH, HEIGHT = 600, 170
_LEFT, _RIGHT, _TOP, _BOTTOM = 44, 8, 10, 22


@dataclass(frozen=True)
class Bar:
    """A rectangle; ``kind`` names its colour (a job status, or ``runtime``)."""

    x: float
    y: float
    width: float
    height: float
    kind: str
    label: str


@dataclass(frozen=True)
class Label:
    x: float
    text: str
    anchor: str = "middle"


@dataclass(frozen=True)
class Chart:
    """One chart: its bars, its x-axis labels and the largest value on its y-axis."""

    title: str
    bars: tuple[Bar, ...]
    labels: tuple[Label, ...]
    top: int
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def plot(self) -> tuple[float, float, float, float]:
        """The plotting area: left, top, right, bottom."""
        return _LEFT, _TOP, self.width - _RIGHT, self.height - _BOTTOM

    @property
    def empty(self) -> bool:
        return not self.bars


def minutes_chart(minutes: Sequence[Minute]) -> Chart:
    """Jobs finished per minute, each minute a column stacked by outcome."""
    title = "Jobs finished per minute (UTC)"
    if not minutes:
        return Chart(title, (), (), 0)
    top = max(1, max(minute.total for minute in minutes))
    step = (WIDTH - _LEFT - _RIGHT) / len(minutes)
    scale = (HEIGHT - _TOP - _BOTTOM) / top
    bars = []
    for index, minute in enumerate(minutes):
        x, base = _LEFT + index * step, float(HEIGHT - _BOTTOM)
        for outcome in OUTCOMES:
            count = minute.counts.get(outcome, 0)
            if count:
                height = count * scale
                base -= height
                label = f"{_clock(minute.start)}: {count:,} {outcome}"
                bars.append(Bar(x + 0.5, base, max(step - 1, 0.5), height, outcome, label))
    middle = len(minutes) // 2
    labels = (
        Label(_LEFT, _clock(minutes[0].start), "start"),
        Label(_LEFT + (middle + 0.5) * step, _clock(minutes[middle].start)),
        Label(WIDTH - _RIGHT, _clock(minutes[-1].start), "end"),
    )
    return Chart(title, tuple(bars), labels, top)


def runtimes_chart(bins: Sequence[RuntimeBin]) -> Chart:
    """How many finished jobs ran how long (whole seconds), one column per bin."""
    title = "Runtimes of finished jobs"
    if not bins:
        return Chart(title, (), (), 0)
    top = max(1, max(item.count for item in bins))
    step = (WIDTH - _LEFT - _RIGHT) / len(bins)
    scale = (HEIGHT - _TOP - _BOTTOM) / top
    bars = []
    for index, item in enumerate(bins):
        if item.count:
            height = item.count * scale
            span = f"{item.low} s" if item.high - item.low == 1 else f"{item.low}-{item.high} s"
            label = f"{span}: {item.count:,} jobs"
            bars.append(
                Bar(
                    _LEFT + index * step + 0.5,
                    HEIGHT - _BOTTOM - height,
                    max(step - 1, 0.5),
                    height,
                    "runtime",
                    label,
                )
            )
    labels = (
        Label(_LEFT, f"{bins[0].low} s", "start"),
        Label(WIDTH - _RIGHT, f"{bins[-1].high} s", "end"),
    )
    return Chart(title, tuple(bars), labels, top)


def status_bar(counts: Sequence[tuple[str, int]], width: float = 100.0) -> tuple[Bar, ...]:
    """One horizontal bar split by status in proportion to ``counts``; zero counts are left out."""
    total = sum(count for _, count in counts)
    if not total:
        return ()
    bars, x = [], 0.0
    for status, count in counts:
        if count:
            share = width * count / total
            bars.append(Bar(x, 0, share, 1, status, f"{count:,} {status}"))
            x += share
    return tuple(bars)


def _clock(minute: str) -> str:
    """``2024-05-01T12:03`` -> ``12:03``."""
    return minute[11:16]
