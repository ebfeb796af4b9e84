"""Bar charts drawn as SVG on the server: no JavaScript, no chart library, no CDN.

This module only does the geometry; templates/usage/_chart.html draws it with a
<title> and <desc> and puts a table of the same numbers beside it, for screen
readers and for anyone who wants the figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from django.utils import formats

from billing.services import format_usd

WIDTH = 720
DAY_HEIGHT = 240
ROW_HEIGHT = 26
# Room for the value axis (left) and the date labels (bottom).
LEFT, RIGHT, TOP, BOTTOM = 64.0, 8.0, 12.0, 28.0
# Room for model names in the horizontal chart.
NAME_WIDTH = 230.0
MAX_NAME = 34
MAX_DATE_LABELS = 8


@dataclass(frozen=True)
class Bar:
    label: str
    text: str
    x: float
    y: float
    width: float
    height: float
    negative: bool


@dataclass(frozen=True)
class Tick:
    """A grid line at `position` (y for vertical charts, x for horizontal ones)."""

    position: float
    text: str


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str
    anchor: str = "middle"


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    description: str
    label_heading: str
    width: int
    height: int
    horizontal: bool
    bars: list[Bar]
    ticks: list[Tick]
    labels: list[Label]
    # The zero line: y for vertical charts, x for horizontal ones.
    zero: float
    plot: tuple[float, float, float, float]  # left, top, right, bottom
    rows: list[tuple[str, str]]

    @property
    def empty(self) -> bool:
        return not self.bars


def _nice_step(span: Decimal, count: int) -> Decimal:
    raw = span / count
    magnitude = Decimal(10) ** math.floor(math.log10(float(raw)))
    for factor in (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10)):
        if factor * magnitude >= raw:
            return factor * magnitude
    return 10 * magnitude


def _scale(values: list[Decimal], count: int = 4) -> tuple[Decimal, Decimal, list[Decimal]]:
    """A range from below the smallest value (or 0) to above the largest (or 0), in round steps."""
    low, high = min([Decimal(0), *values]), max([Decimal(0), *values])
    if low == high:
        high = Decimal("0.01")
    step = _nice_step(high - low, count)
    low = (low / step).to_integral_value(rounding=ROUND_FLOOR) * step
    high = (high / step).to_integral_value(rounding=ROUND_CEILING) * step
    ticks = []
    value = low
    while value <= high:
        ticks.append(value)
        value += step
    return low, high, ticks


def by_day(
    points: list[tuple[date, Decimal]],
    since: date,
    until: date,
    *,
    id: str,
    title: str,
    description: str,
    label_heading: str,
) -> Chart:
    """Vertical bars, one per day from `since` to `until` (days without entries are 0)."""
    totals = dict(points)
    days = [since + timedelta(days=i) for i in range((until - since).days + 1)]
    values = [totals.get(day, Decimal(0)) for day in days]
    left, top, right, bottom = LEFT, TOP, WIDTH - RIGHT, DAY_HEIGHT - BOTTOM
    low, high, tick_values = _scale(values)

    def y(value: Decimal) -> float:
        return round(bottom - float((value - low) / (high - low)) * (bottom - top), 1)

    slot = (right - left) / len(days)
    bars = []
    for i, (day, value) in enumerate(zip(days, values, strict=True)):
        if not value:
            continue
        top_y, base_y = sorted((y(value), y(Decimal(0))))
        bars.append(
            Bar(
                label=formats.date_format(day, "DATE_FORMAT"),
                text=format_usd(value),
                x=round(left + i * slot + slot * 0.1, 1),
                y=top_y,
                width=round(max(slot * 0.8, 1.0), 1),
                height=round(max(base_y - top_y, 1.0), 1),
                negative=value < 0,
            )
        )
    every = max(1, math.ceil(len(days) / MAX_DATE_LABELS))
    labels = [
        Label(round(left + i * slot + slot / 2, 1), DAY_HEIGHT - 8, formats.date_format(day, "M j"))
        for i, day in enumerate(days)
        if i % every == 0
    ]
    return Chart(
        id=id,
        title=title,
        description=description,
        label_heading=label_heading,
        width=WIDTH,
        height=DAY_HEIGHT,
        horizontal=False,
        bars=bars,
        ticks=[Tick(y(value), format_usd(value)) for value in tick_values],
        labels=labels,
        zero=y(Decimal(0)),
        plot=(left, top, right, bottom),
        rows=[
            (formats.date_format(day, "DATE_FORMAT"), format_usd(value))
            for day, value in zip(days, values, strict=True)
        ],
    )


def by_name(
    totals: list[tuple[str, Decimal]],
    *,
    id: str,
    title: str,
    description: str,
    label_heading: str,
) -> Chart:
    """Horizontal bars, one per name (a model, a member), in the order given."""
    values = [value for _name, value in totals]
    left, right, top = NAME_WIDTH, WIDTH - 70.0, TOP
    height = int(top + ROW_HEIGHT * max(1, len(totals)) + BOTTOM)
    low, high, tick_values = _scale(values)

    def x(value: Decimal) -> float:
        return round(left + float((value - low) / (high - low)) * (right - left), 1)

    bars, labels = [], []
    for i, (name, value) in enumerate(totals):
        row_y = top + i * ROW_HEIGHT
        start, end = sorted((x(Decimal(0)), x(value)))
        shown = name if len(name) <= MAX_NAME else name[: MAX_NAME - 1] + "…"
        bars.append(
            Bar(
                label=name,
                text=format_usd(value),
                x=start,
                y=round(row_y + 4, 1),
                width=round(max(end - start, 1.0), 1),
                height=ROW_HEIGHT - 8,
                negative=value < 0,
            )
        )
        labels.append(Label(left - 8, round(row_y + ROW_HEIGHT / 2 + 4, 1), shown, "end"))
        labels.append(Label(round(end + 6, 1), round(row_y + ROW_HEIGHT / 2 + 4, 1), format_usd(value), "start"))
    bottom = top + ROW_HEIGHT * max(1, len(totals))
    return Chart(
        id=id,
        title=title,
        description=description,
        label_heading=label_heading,
        width=WIDTH,
        height=height,
        horizontal=True,
        bars=bars,
        ticks=[Tick(x(value), format_usd(value)) for value in tick_values],
        labels=labels,
        zero=x(Decimal(0)),
        plot=(left, top, right, bottom),
        rows=[(name, format_usd(value)) for name, value in totals],
    )
