"""A pair's cooperation-conflict line over time, as geometry for an inline SVG.

Pure: from (day, scores) to coordinates in a fixed ``viewBox``; the template draws them. One
point per day with stories: the mean score of that day's scored stories (-10 conflict to +10
cooperation), or a hollow mark on the zero line when none of them has a score. The x axis is
proportional to time, so gaps between days show. Colour is never the only signal: the point's
height says cooperation (above 0) or conflict (below), and each point's title says it in words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from pipeline.digest.signals import score_kind, score_label

WIDTH = 480
HEIGHT = 180
LEFT, RIGHT, TOP, BOTTOM = 34, 14, 12, 28
SCALE_MAX = 10
GRID = (10, 5, 0, -5, -10)


@dataclass(frozen=True)
class ChartPoint:
    """One day with stories: where it sits, its class suffix ("coop", "conf", "neutral",
    "none" without a score) and its label in words."""

    day: date
    x: float
    y: float
    kind: str
    label: str


@dataclass(frozen=True)
class GridLine:
    y: float
    label: str


@dataclass(frozen=True)
class Chart:
    """What the SVG needs: the points, the line through the scored ones, the grid, the dates
    at both ends of the x axis and a one-sentence description for screen readers."""

    width: int
    height: int
    points: list[ChartPoint]
    line: str
    grid: list[GridLine]
    axis_y: float
    first: str
    last: str
    description: str


def _y(score: float) -> float:
    plot = HEIGHT - TOP - BOTTOM
    clamped = max(-SCALE_MAX, min(SCALE_MAX, score))
    return round(TOP + (SCALE_MAX - clamped) / (2 * SCALE_MAX) * plot, 1)


def _x(day: date, first: date, last: date) -> float:
    plot = WIDTH - LEFT - RIGHT
    if first == last:
        return round(LEFT + plot / 2, 1)
    return round(LEFT + (day - first).days / (last - first).days * plot, 1)


def _label(day: date, scores: Sequence[int | None]) -> tuple[str, float | None]:
    known = [s for s in scores if s is not None]
    mean = round(sum(known) / len(known), 1) if known else None
    count = len(scores)
    stories = f"{count} stor{'y' if count == 1 else 'ies'}"
    return f"{long_day(day)}: {stories}, {score_label(mean)}", mean


def _description(points: Sequence[ChartPoint]) -> str:
    span = (
        f"on {long_day(points[0].day)}"
        if len(points) == 1
        else f"on each of {len(points)} days with stories, {long_day(points[0].day)} to "
        f"{long_day(points[-1].day)}"
    )
    return f"Mean cooperation-conflict score {span}; each point's title gives its day and score."


def long_day(value: date) -> str:
    """ "24 Nov 2026"."""
    return f"{value.day} {value.strftime('%b %Y')}"


def score_chart(days: Mapping[date, Sequence[int | None]]) -> Chart | None:
    """The chart of ``days`` (each day with stories -> its stories' scores, None when unscored);
    None when there is no day."""
    if not days:
        return None
    first, last = min(days), max(days)
    points = []
    for day in sorted(days):
        label, mean = _label(day, days[day])
        kind = "none" if mean is None else score_kind(mean)
        points.append(ChartPoint(day, _x(day, first, last), _y(mean or 0), kind, label))
    scored = [p for p in points if p.kind != "none"]
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        points=points,
        line=" ".join(f"{p.x},{p.y}" for p in scored) if len(scored) > 1 else "",
        grid=[GridLine(_y(g), f"+{g}" if g > 0 else str(g)) for g in GRID],
        axis_y=float(HEIGHT - 8),
        first=long_day(first),
        last=long_day(last),
        description=_description(points),
    )
