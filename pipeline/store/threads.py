"""Store functions for story threads: the earlier stories a story may continue, and the links.

Every query goes through an index: stories by pair (``ix_stories_dyad``) and by id, articles by
``ix_articles_story_id``, summaries by their key; nothing scans a table.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select, update

from pipeline.store.tables import ArticleRow, StoryRow, SummaryRow
from pipeline.summary_record import ThreadLink

_COLUMNS = (  # what a stored story's thread link is read from
    StoryRow.id,
    StoryRow.dyad,
    StoryRow.first_seen,
    StoryRow.last_seen,
    StoryRow.thread_id,
    StoryRow.continues,
)


@dataclass(frozen=True)
class StoredStory:
    """A stored story with what threading needs: its span, its articles' titles and texts
    (oldest id first), its headline and its stored link."""

    id: str
    dyad: str
    first_seen: datetime
    last_seen: datetime
    texts: tuple[str, ...]
    headline: str
    thread_id: str | None
    continues: str | None


def stored_links(
    engine: Engine, story_ids: Sequence[str]
) -> dict[str, tuple[str | None, str | None]]:
    """(thread_id, continues) of each of these stories that is stored."""
    if not story_ids:
        return {}
    stmt = select(StoryRow.id, StoryRow.thread_id, StoryRow.continues).where(
        StoryRow.id.in_(list(story_ids))
    )
    with engine.connect() as conn:
        return {r.id: (r.thread_id, r.continues) for r in conn.execute(stmt)}


def _headlines(conn: Any, story_ids: list[str]) -> dict[str, str]:
    """The headline of each story's stored summary, where it has one."""
    stmt = select(SummaryRow.story_id, SummaryRow.record).where(SummaryRow.story_id.in_(story_ids))
    out: dict[str, str] = {}
    for story_id, record in conn.execute(stmt):
        summary = (record or {}).get("summary") or {}
        if summary.get("headline"):
            out[story_id] = str(summary["headline"])
    return out


def _stored_stories(conn: Any, rows: Sequence[Any]) -> list[StoredStory]:
    """Stored stories as linking sees them: their articles' titles and texts, their headline
    (the summary's, else the first article's title) and thread."""
    ids = [r.id for r in rows]
    if not ids:
        return []
    texts: dict[str, list[tuple[int, str, str]]] = defaultdict(list)
    stmt = select(
        ArticleRow.id,
        ArticleRow.story_id,
        ArticleRow.title,
        ArticleRow.text,
        ArticleRow.feed_summary,
    ).where(ArticleRow.story_id.in_(ids))
    for row in conn.execute(stmt):
        texts[str(row.story_id)].append(
            (row.id, row.title or "", row.text or row.feed_summary or "")
        )
    headlines = _headlines(conn, ids)
    out = []
    for r in rows:
        members = sorted(texts.get(r.id, []))
        out.append(
            StoredStory(
                r.id,
                r.dyad,
                r.first_seen,
                r.last_seen,
                tuple(f"{title}\n{text}" for _, title, text in members),
                headlines.get(r.id) or (members[0][1] if members else ""),
                r.thread_id,
                r.continues,
            )
        )
    return out


def earlier_stories(
    engine: Engine,
    spans: Mapping[str, tuple[datetime, datetime]],
    *,
    also: Sequence[str] = (),
    besides: Sequence[str] = (),
) -> list[StoredStory]:
    """The stored stories of each pair whose last article falls in its span [since, before),
    and the stories named in ``also`` (predecessors kept from before), with their content;
    not the stories named in ``besides`` (the caller has them)."""
    columns = _COLUMNS
    rows: dict[str, Any] = {}
    with engine.connect() as conn:
        for dyad, (since, before) in sorted(spans.items()):
            stmt = select(*columns).where(
                StoryRow.dyad == dyad, StoryRow.last_seen >= since, StoryRow.last_seen < before
            )
            rows.update({r.id: r for r in conn.execute(stmt)})
        if also:
            stmt = select(*columns).where(StoryRow.id.in_(list(also)))
            rows.update({r.id: r for r in conn.execute(stmt)})
        skip = set(besides)
        return _stored_stories(conn, [r for i, r in rows.items() if i not in skip])


def save_links(engine: Engine, links: Mapping[str, ThreadLink | None]) -> None:
    """Store each story's thread id and the story it continues (None: it starts a thread).
    A story that joins a thread brings along the stories that had continued it: their thread
    id becomes the thread's."""
    with engine.begin() as conn:
        for story_id, link in links.items():
            thread_id = link.thread_id if link else story_id
            conn.execute(
                update(StoryRow)
                .where(StoryRow.id == story_id)
                .values(thread_id=thread_id, continues=link.previous_story_id if link else None)
            )
            if thread_id != story_id:
                conn.execute(
                    update(StoryRow)
                    .where(StoryRow.thread_id == story_id, StoryRow.id != story_id)
                    .values(thread_id=thread_id)
                )


def story_link(engine: Engine, story_id: str) -> tuple[StoredStory, StoredStory] | None:
    """A stored story and the story it continues, with their content, or None when it
    continues none."""
    with engine.connect() as conn:
        row = conn.execute(
            select(StoryRow.continues).where(StoryRow.id == story_id)
        ).scalar_one_or_none()
        if not row:
            return None
        columns = _COLUMNS
        rows = conn.execute(select(*columns).where(StoryRow.id.in_([story_id, row]))).all()
        found = {s.id: s for s in _stored_stories(conn, rows)}
    if story_id not in found or row not in found:
        return None
    return found[story_id], found[row]
