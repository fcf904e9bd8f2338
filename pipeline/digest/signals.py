"""Signals in a reader's words: event types, the score scale, direction, trend rows.

Pure functions the templates use as filters. Nothing here relies on colour alone: every score
is written with its sign, an arrow and a word ("+6 ▲ cooperation"), and the trend row carries
its first and last date and its counts in text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from pipeline.digest.importance import mean_score
from pipeline.digest.model import DigestDyad, TrendPoint
from pipeline.summary_record import EventType

EVENT_WORDS: dict[str, str] = {
    EventType.AGREE: "agreement",
    EventType.CONSULT: "talks or visit",
    EventType.SUPPORT: "statement of support",
    EventType.CONCEDE: "concession",
    EventType.COOPERATE: "practical cooperation",
    EventType.AID: "aid",
    EventType.RETREAT: "climb-down or withdrawal",
    EventType.REQUEST: "demand or appeal",
    EventType.ACCUSE: "accusation",
    EventType.REJECT: "rejection",
    EventType.THREATEN: "threat",
    EventType.PROTEST: "protest",
    EventType.SANCTION: "sanction or expulsion",
    EventType.MOBILIZE: "military build-up",
    EventType.COERCE: "coercion",
    EventType.ASSAULT: "use of force",
}
SCALE = "-10 armed conflict · -5 hostility · 0 neutral · +5 cooperation · +10 deep cooperation"
SPARKS = "▁▂▃▄▅▆▇█"


def event_words(event_type: str | None) -> str:
    """The event type in plain words ("agreement"; "" when unknown)."""
    return EVENT_WORDS.get(event_type or "", (event_type or "").lower())


def score_kind(score: float | None) -> str:
    """ "coop", "conf" or "neutral": the CSS class suffix and the legend's wording key."""
    if score is None or -1 < score < 1:
        return "neutral"
    return "coop" if score > 0 else "conf"


def score_label(score: float | None) -> str:
    """A score in text that needs no colour: "+6 ▲ cooperation", "-4 ▼ conflict", "0 neutral"."""
    if score is None:
        return "no score"
    number = f"+{score:g}" if score > 0 else f"{score:g}"
    words = {"coop": "▲ cooperation", "conf": "▼ conflict", "neutral": "neutral"}
    return f"{number} {words[score_kind(score)]}"


def direction(dyad: DigestDyad, actor: str | None, target: str | None) -> str:
    """ "India toward Russia" from a pair's ISO codes ("" without both)."""
    if not actor or not target:
        return ""
    codes = dict(zip(dyad.dyad.split("-"), dyad.names, strict=True))
    return f"{codes.get(actor, actor)} toward {codes.get(target, target)}"


@dataclass(frozen=True)
class TrendRow:
    """One pair's trend in one line: dates at both ends, a sparkline, counts in words."""

    first: str
    last: str
    spark: str
    articles: int
    days: int
    span: int
    peak: int
    peak_day: str
    score: float | None


def trend_row(trend: Sequence[TrendPoint]) -> TrendRow | None:
    """The compact trend row of ``trend`` (None for an empty trend): one block character per
    day, its height the day's article count relative to the busiest day."""
    if not trend:
        return None
    top = max(p.articles for p in trend)
    spark = "".join(
        SPARKS[0] if p.articles == 0 else SPARKS[max(1, round(7 * p.articles / top))] for p in trend
    )
    busiest = max(trend, key=lambda p: (p.articles, p.day))
    mean = mean_score(trend)
    return TrendRow(
        first=_day(trend[0].day),
        last=_day(trend[-1].day),
        spark=spark,
        articles=sum(p.articles for p in trend),
        days=sum(1 for p in trend if p.articles),
        span=len(trend),
        peak=top,
        peak_day=_day(busiest.day),
        score=round(mean, 1) if mean is not None else None,
    )


def _day(value: date) -> str:
    return f"{value.day} {value.strftime('%b')}"
