"""Building a digest from stored stories and summaries. Pure: rows in, ``Digest`` out.

The window is the 24 hours before the send time on the digest's date, in the configured time
zone (``digest_window``); any date can be rebuilt. Stories are grouped by country pair. Each
story's importance comes from ``importance.story_importance`` (score magnitude, change against
the pair's baseline, outlets, novelty); stories within a pair are ordered by it, and pairs by
their most important story plus half of the next two. Only summaries a reader can use are
shown (verified, unverified and local ones, each labelled, and the best summary of a story the
model failed on, with the reason); rejected and pending ones are counted in the ledger. Links come
only from our records and only when they are http(s). Whatever a summary's status or age, its
text is shown as plain text (``plain_text``: a model's tags and links never reach any output), its
actor and target only when they are the story's two countries, and no third-party reaction from
one of the pair.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from pipeline.digest.importance import baseline_before, pair_movement, story_importance
from pipeline.digest.model import (
    Digest,
    DigestDyad,
    DigestStory,
    Ledger,
    TrendPoint,
)
from pipeline.digest.sides import digest_points, digest_positions, digest_quote, digest_thread
from pipeline.summary_record import LLMSummary, Reaction, StorySummary, SummaryStatus
from pipeline.textclean import plain_text
from pipeline.urls import is_fetchable

SHOWN = frozenset(
    {SummaryStatus.VERIFIED, SummaryStatus.UNVERIFIED, SummaryStatus.LOCAL, SummaryStatus.FAILED}
)
log = logging.getLogger("dyad.digest")


def digest_window(
    day: date, timezone: str, send_time: str, days: int = 1
) -> tuple[datetime, datetime]:
    """[start, end) in UTC: ``days`` x 24 h before ``send_time`` on ``day`` in ``timezone``."""
    hour, minute = (int(p) for p in send_time.split(":"))
    end_local = datetime.combine(day, time(hour, minute), tzinfo=ZoneInfo(timezone))
    end = end_local.astimezone(ZoneInfo("UTC"))
    return end - timedelta(days=days), end


def stored_summary(row: dict[str, Any]) -> StorySummary | None:
    """The story row's summary record, validated; None (logged) when it has none or the stored
    JSON no longer validates, so one bad record never stops a digest."""
    record = row.get("record")
    if not record:
        return None
    try:
        return StorySummary.model_validate(record)
    except ValidationError as exc:
        log.warning("story %s: stored summary does not validate: %s", row.get("id"), exc)
        return None


def _story(
    row: dict[str, Any],
    record: StorySummary | None,
    window: tuple[datetime, datetime],
    trend: list[TrendPoint],
    names: dict[str, str],
) -> DigestStory | None:
    """The digest entry of one story, when its summary is one a reader can use; its importance
    from ``importance.story_importance`` against the pair's ``trend`` before it."""
    if record is None or record.status not in SHOWN or record.summary is None:
        return None
    start, end = window
    summary = record.summary
    sources = [
        source.model_copy(update={"url": source.url if is_fetchable(source.url) else None})
        for source in record.sources
    ]
    score = summary.cooperation_score
    outlets = len({s.outlet for s in sources}) or len(row.get("outlets") or [])
    new = row["first_seen"] >= start
    baseline, quiet = baseline_before(trend, row["first_seen"].date())
    span = (end - start).total_seconds() or 1.0
    freshness = (row["first_seen"] - start).total_seconds() / span if new else 0.0
    importance = story_importance(score, outlets, baseline, freshness, quiet)
    actor, target = _direction(summary, record.dyad)
    return DigestStory(
        story_id=row["id"],
        headline=plain_text(summary.headline),
        summary=plain_text(summary.summary),
        key_points=digest_points(summary, sources),
        positions=digest_positions(summary, sources, record.dyad, names),
        quote=digest_quote(summary, sources),
        whats_new=plain_text(summary.whats_new),
        thread=digest_thread(record.thread),
        event_type=summary.event_type,
        actor=actor,
        target=target,
        cooperation_score=score,
        status=record.status,
        note=_note(record),
        new=new,
        outlets=outlets,
        first_seen=row["first_seen"],
        last_seen=row["last_seen"],
        reactions=_reactions(summary, record.dyad),
        sources=sources,
        importance=importance,
    )


def _direction(summary: LLMSummary, dyad: str) -> tuple[str | None, str | None]:
    """The summary's actor and target when they are the story's two countries (one each), else
    (None, None): a label such as "US -> CN" on an AR-BR story is never shown, whichever Dyad
    version stored it."""
    pair = {dyad[:2], dyad[3:]}
    actor, target = summary.actor_country, summary.target_country
    if actor in pair and target in pair and actor != target:
        return actor, target
    return None, None


def _reactions(summary: LLMSummary, dyad: str) -> list[Reaction]:
    """Third-party reactions with plain-text evidence, none from a country of the pair."""
    pair = {dyad[:2], dyad[3:]}
    return [
        r.model_copy(update={"evidence": plain_text(r.evidence)})
        for r in summary.third_party_reactions
        if r.country not in pair
    ]


_FAILURE_WORDS = {
    "llm_refused": "the model refused to summarise it",
    "llm_truncated": "the model's reply was cut off",
    "llm_empty_reply": "the model sent an empty reply",
    "llm_request_rejected": "the model's server rejected the request",
    "llm_bad_output": "the model's reply was not usable",
    "llm_auth": "the model's server refused our key",
    "llm_not_found": "the model or its address was not found",
    "llm_bad_response": "the model's address did not answer as a model server",
}


def _note(record: StorySummary) -> str | None:
    """Why a story shows no fresh model summary, in a reader's words (None when it does)."""
    if not record.error_kind:
        return None
    what = _FAILURE_WORDS.get(record.error_kind, "the model was unavailable")
    shown = "previous model summary" if record.backend == "openai" else "extractive summary"
    if record.status == SummaryStatus.FAILED:
        return f"{what.capitalize()} after {record.attempts} attempts; {shown} shown."
    return f"{what.capitalize()}; {shown} shown until it answers."


def _trend(rows: Sequence[dict[str, Any]], end: datetime, days: int) -> list[TrendPoint]:
    by_day: dict[date, list[tuple[int, float | None]]] = defaultdict(list)
    for row in rows:
        record = stored_summary(row)
        score = record.summary.cooperation_score if record and record.summary else None
        by_day[row["last_seen"].date()].append((row["article_count"], score))
    points = []
    for offset in range(days - 1, -1, -1):
        day = (end - timedelta(days=offset + 1)).date()
        items = by_day.get(day, [])
        scores = [s for _, s in items if s is not None]
        points.append(
            TrendPoint(
                day=day,
                articles=sum(n for n, _ in items),
                score=round(sum(scores) / len(scores), 1) if scores else None,
            )
        )
    return points


def assemble_digest(
    *,
    day: date,
    timezone: str,
    title: str,
    window: tuple[datetime, datetime],
    story_rows: Sequence[dict[str, Any]],
    trend_rows: Sequence[dict[str, Any]],
    trend_days: int,
    ledger: dict[str, Any],
    previous: dict[str, Any] | None,
    names: dict[str, str],
    now: datetime,
    max_stories: int,
    max_dyads: int,
) -> Digest:
    """The digest for ``day`` from the rows the store returned."""
    start, end = window
    rows_by_dyad: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in trend_rows:
        rows_by_dyad[row["dyad"]].append(row)
    trends = {dyad: _trend(rows_by_dyad.get(dyad, []), end, trend_days) for dyad in rows_by_dyad}
    grouped: dict[str, list[DigestStory]] = defaultdict(list)
    statuses: dict[SummaryStatus, int] = defaultdict(int)
    for row in story_rows:
        record = stored_summary(row)
        statuses[record.status if record else SummaryStatus.PENDING] += 1
        trend = trends.get(row["dyad"]) or _trend([], end, trend_days)
        story = _story(row, record, window, trend, names)
        if story is not None:
            grouped[row["dyad"]].append(story)
    previous_dyads = {d["dyad"]: d for d in (previous or {}).get("dyads", [])}
    window_days = max(1, round((end - start).total_seconds() / 86400))
    dyads = [
        _dyad(
            dyad,
            stories,
            trends.get(dyad) or _trend([], end, trend_days),
            previous_dyads.get(dyad),
            names,
            max_stories,
            window_days,
        )
        for dyad, stories in grouped.items()
    ]
    dyads.sort(key=lambda d: (-d.importance, d.dyad))
    shown = dyads[:max_dyads]
    return Digest(
        id=f"digest-{day.isoformat()}",
        date=day,
        timezone=timezone,
        window_start=start,
        window_end=end,
        generated_at=now,
        title=title,
        dyads=shown,
        more_dyads=max(0, len(dyads) - len(shown)),
        ledger=_ledger(ledger, statuses),
    )


def _ledger(counts: dict[str, Any], statuses: dict[SummaryStatus, int]) -> Ledger:
    """The run ledger: the store's counts plus the window's stories by summary status."""
    return Ledger(
        **counts,
        bilateral_stories=sum(statuses.values()),
        summaries_unverified=statuses.get(SummaryStatus.UNVERIFIED, 0),
        summaries_local=statuses.get(SummaryStatus.LOCAL, 0),
        summaries_pending=statuses.get(SummaryStatus.PENDING, 0)
        + statuses.get(SummaryStatus.REJECTED, 0),
        summaries_failed=statuses.get(SummaryStatus.FAILED, 0),
    )


def _dyad(
    dyad: str,
    stories: list[DigestStory],
    trend: list[TrendPoint],
    before: dict[str, Any] | None,
    names: dict[str, str],
    max_stories: int,
    window_days: int,
) -> DigestDyad:
    """One pair's section: its stories by importance, its trend, how its score moved
    (``importance.pair_movement``) and what changed since the previous digest (``before``: that
    digest's section for the pair, if it had one)."""
    stories.sort(key=lambda s: (-s.importance, s.story_id))
    a, b = dyad.split("-")
    today = trend[-1] if trend else None
    coverage_change = score_change = None
    if before and before.get("trend") and today is not None:
        last = before["trend"][-1]
        coverage_change = today.articles - int(last.get("articles") or 0)
        if today.score is not None and last.get("score") is not None:
            score_change = round(today.score - float(last["score"]), 1)
    return DigestDyad(
        dyad=dyad,
        names=(names.get(a, a), names.get(b, b)),
        importance=round(stories[0].importance + sum(s.importance for s in stories[1:3]) / 2, 2),
        stories=stories[:max_stories],
        more_stories=max(0, len(stories) - max_stories),
        trend=trend,
        coverage_change=coverage_change,
        score_change=score_change,
        movement=pair_movement(trend, window_days),
    )
