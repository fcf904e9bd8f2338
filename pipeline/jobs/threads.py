"""Thread the stories just clustered: link each to the earlier story of its pair it continues
(``pipeline.threads``) and store the links (``stories.thread_id``, ``stories.continues``).

Stable across runs: stories are clustered again every run, and a story's id comes from its first
article, so a story found again finds its stored row; a story that already continues one keeps
that link, and only stories that continue none are tried again (their content may have grown).
The earlier stories outside this run's articles come from the store, by pair and by when they
ended (indexed queries), with their articles' texts.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from sqlalchemy import Engine

from pipeline.cluster import content_words
from pipeline.config import Settings
from pipeline.records import Story
from pipeline.store.stories import BilateralArticle, current_summary
from pipeline.store.threads import (
    StoredStory,
    earlier_stories,
    save_links,
    stored_links,
    story_link,
)
from pipeline.summarize.service import EarlierStory
from pipeline.summary_record import ThreadLink
from pipeline.threads import ThreadRule, ThreadStory, link_stories, story_similarity


def _words(texts: Sequence[str]) -> tuple[frozenset[str], ...]:
    return tuple(frozenset(content_words(t)) for t in texts)


def _thread_story(stored: StoredStory) -> ThreadStory:
    return ThreadStory(
        stored.id,
        stored.dyad,
        stored.first_seen,
        stored.last_seen,
        _words(stored.texts),
        stored.headline,
        stored.thread_id,
        stored.continues,
    )


def _batch(
    stories: Sequence[Story],
    articles: Sequence[BilateralArticle],
    kept: dict[str, tuple[str | None, str | None]],
) -> list[ThreadStory]:
    """This run's stories as linking sees them, with the link each already has."""
    by_id = {a.id: a for a in articles}
    out = []
    for story in stories:
        members = [by_id[i] for i in story.article_ids if i in by_id]
        thread_id, continues = kept.get(story.id, (None, None))
        out.append(
            ThreadStory(
                story.id,
                story.dyad,
                story.first_seen,
                story.last_seen,
                _words([a.text for a in members]),
                members[0].title if members else "",
                thread_id,
                continues,
            )
        )
    return out


def link_threads(
    engine: Engine,
    settings: Settings,
    stories: Sequence[Story],
    articles: Sequence[BilateralArticle],
) -> dict[str, ThreadLink | None]:
    """Link this run's stories to the earlier stories they continue, store the links and
    return them (nothing when ``threads.enabled`` is off)."""
    if not settings.threads.enabled or not stories:
        return {}
    rule = ThreadRule(days=settings.threads.days, similarity=settings.threads.similarity)
    kept = stored_links(engine, [s.id for s in stories])
    batch = _batch(stories, articles, kept)
    spans: dict[str, tuple[datetime, datetime]] = {}
    for story in batch:
        since, before = spans.get(story.dyad, (story.first_seen, story.first_seen))
        spans[story.dyad] = (
            min(since, story.first_seen - rule.reach),
            max(before, story.first_seen),
        )
    predecessors = [c for _, c in kept.values() if c]
    stored = earlier_stories(engine, spans, also=predecessors, besides=[s.id for s in batch])
    links = link_stories(batch, [_thread_story(s) for s in stored], rule)
    save_links(engine, links)
    return links


def _point_text(point: object) -> str:
    return str(point.get("text", "")) if isinstance(point, dict) else str(point)


def earlier_story(engine: Engine, story_id: str, zone: tzinfo) -> EarlierStory | None:
    """The stored story ``story_id`` continues, as its summary may refer to it: the link (the
    previous story's last report given in ``zone``, the digest's time zone, so "since 24
    November" is the reader's day), its stored summary and key points; None when it continues
    none."""
    pair = story_link(engine, story_id)
    if pair is None:
        return None
    mine, previous = (_thread_story(s) for s in pair)
    record = current_summary(engine, previous.id) or {}
    summary = record.get("summary") or {}
    link = ThreadLink(
        thread_id=mine.thread_id or previous.thread_id or previous.id,
        previous_story_id=previous.id,
        previous_headline=str(summary.get("headline") or previous.headline),
        previous_last_seen=previous.last_seen.astimezone(zone),
        similarity=round(min(1.0, story_similarity(mine, previous)), 4),
    )
    points = tuple(_point_text(p) for p in summary.get("key_points") or ())
    return EarlierStory(link, str(summary.get("summary") or ""), points)
