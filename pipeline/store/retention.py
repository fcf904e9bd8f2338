"""Retention: delete what is older than a cutoff, and keep tombstones so it never returns.

The only deletes in Dyad. Articles first seen before the cutoff go with their entries, stories
last seen before it with their summaries, and failures, runs and LLM usage rows before it. The
digests and deliveries stay (the archive). Every purged article leaves a tombstone of its
canonical URL and of each of its feed entries; ``store_entry`` skips an entry that matches one,
so a feed still listing an old item does not bring it back.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Connection, Engine, delete, select

from pipeline.store.db import in_chunks, upsert_insert
from pipeline.store.tables import (
    ArticleRow,
    EntryRow,
    FailureRow,
    LLMCallRow,
    RunRow,
    StoryRow,
    SummaryRow,
    TombstoneRow,
)

_CHUNK = 500


def article_tombstone(canonical_url: str) -> str:
    """The tombstone key of an article."""
    return f"article {canonical_url}"


def entry_tombstone(feed_id: int, entry_key: str) -> str:
    """The tombstone key of a feed entry."""
    return f"entry {feed_id} {entry_key}"


def tombstoned(conn: Connection, keys: Iterable[str]) -> set[str]:
    """Which of ``keys`` a purge left a tombstone for (empty: none was purged)."""
    found: set[str] = set()
    for chunk in in_chunks(keys):
        rows = conn.execute(select(TombstoneRow.key).where(TombstoneRow.key.in_(chunk)))
        found.update(rows.scalars())
    return found


def purge_before(engine: Engine, cutoff: datetime, now: datetime) -> dict[str, int]:
    """Delete what is older than ``cutoff`` (see the module docstring), leaving tombstones;
    returns how many rows of each kind went. One transaction: all or nothing."""
    counts: dict[str, int] = {}
    with engine.begin() as conn:
        old = conn.execute(
            select(ArticleRow.id, ArticleRow.canonical_url).where(ArticleRow.first_seen_at < cutoff)
        ).all()
        ids = [row.id for row in old]
        keys = [article_tombstone(row.canonical_url) for row in old]
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            entries = conn.execute(
                select(EntryRow.feed_id, EntryRow.entry_key).where(EntryRow.article_id.in_(chunk))
            ).all()
            keys += [entry_tombstone(e.feed_id, e.entry_key) for e in entries]
            counts["entries"] = counts.get("entries", 0) + _delete(
                conn, delete(EntryRow).where(EntryRow.article_id.in_(chunk))
            )
            _delete(conn, delete(ArticleRow).where(ArticleRow.id.in_(chunk)))
        counts["articles"] = len(ids)
        for key in keys:
            conn.execute(
                upsert_insert(conn, TombstoneRow)
                .values(key=key[:2200], purged_at=now)
                .on_conflict_do_nothing(index_elements=["key"])
            )
        stories = select(StoryRow.id).where(StoryRow.last_seen < cutoff)
        counts["summaries"] = _delete(
            conn, delete(SummaryRow).where(SummaryRow.story_id.in_(stories))
        )
        counts["stories"] = _delete(conn, delete(StoryRow).where(StoryRow.last_seen < cutoff))
        counts["failures"] = _delete(conn, delete(FailureRow).where(FailureRow.at < cutoff))
        counts["llm_calls"] = _delete(conn, delete(LLMCallRow).where(LLMCallRow.at < cutoff))
        counts["runs"] = _delete(
            conn, delete(RunRow).where(RunRow.started_at < cutoff, RunRow.status != "running")
        )
    counts["tombstones"] = len(keys)
    return counts


def _delete(conn: Connection, stmt: object) -> int:
    return int(conn.execute(stmt).rowcount)  # type: ignore[call-overload]
