"""Store functions for stories, summaries, the LLM cache and LLM usage (upsert-only)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from pipeline.records import Story, StoryArticle
from pipeline.store.db import upsert_insert
from pipeline.store.outlets import article_outlets
from pipeline.store.tables import (
    ArticleRow,
    LLMCacheRow,
    LLMCallRow,
    LLMEndpointRow,
    StoryRow,
    SummaryRow,
)


def _page(article: ArticleRow) -> str:
    """The URL of the article's own page (its canonical URL, else the link it was found by)."""
    return article.canonical_url or article.url or ""


@dataclass(frozen=True)
class BilateralArticle:
    id: int
    dyad: str
    seen_at: datetime
    text: str
    title: str
    outlet: str
    canonical_url: str
    actor: str | None
    target: str | None
    bilateral: bool = True  # False: a candidate only, until an LLM confirms its story


def bilateral_articles(
    engine: Engine, since: datetime, until: datetime, *, candidates: bool = False
) -> list[BilateralArticle]:
    """Bilateral articles first seen (or published) in [since, until], with their outlet; with
    ``candidates``, also the articles detection passed at the candidate threshold only."""
    chosen = ArticleRow.dyad.is_not(None) if candidates else ArticleRow.bilateral.is_(True)
    in_window = (
        chosen,
        ArticleRow.dyad.is_not(None),
        ArticleRow.first_seen_at >= since,
        ArticleRow.first_seen_at <= until,
    )
    stmt = select(ArticleRow).where(*in_window)
    # no ORDER BY: it made SQLite scan every article by rowid; sorted below instead
    with Session(engine) as session:
        found = sorted(session.scalars(stmt).all(), key=lambda a: a.id)
        outlets = article_outlets(
            session, select(ArticleRow.id).where(*in_window), {a.id: _page(a) for a in found}
        )
    return [
        BilateralArticle(
            id=a.id,
            dyad=a.dyad or "",
            seen_at=a.published_at or a.first_seen_at,
            text=f"{a.title}\n{a.text or a.feed_summary}",
            title=a.title,
            outlet=outlets.get(a.id) or (a.site_name or ""),
            canonical_url=a.canonical_url,
            actor=a.actor,
            target=a.target,
            bilateral=bool(a.bilateral),
        )
        for a in found
    ]


def confirmed_article_ids(engine: Engine, article_ids: Sequence[int]) -> set[int]:
    """Which of these articles detection called bilateral at the final threshold."""
    if not article_ids:
        return set()
    stmt = select(ArticleRow.id).where(
        ArticleRow.id.in_(list(article_ids)), ArticleRow.bilateral.is_(True)
    )
    with engine.connect() as conn:
        return {row.id for row in conn.execute(stmt)}


def save_stories(engine: Engine, stories: Sequence[Story], now: datetime) -> None:
    """Upsert stories and point their articles at them."""
    with engine.begin() as conn:
        for story in stories:
            values = {
                "dyad": story.dyad,
                "first_seen": story.first_seen,
                "last_seen": story.last_seen,
                "article_count": len(story.article_ids),
                "outlets": list(story.outlets),
                "content_hash": story.content_hash,
                "actor": story.actor,
                "target": story.target,
                "updated_at": now,
            }
            conn.execute(
                upsert_insert(conn, StoryRow)
                .values(id=story.id, **values)
                .on_conflict_do_update(index_elements=["id"], set_=values)
            )
            conn.execute(
                update(ArticleRow)
                .where(ArticleRow.id.in_(story.article_ids))
                .values(story_id=story.id)
            )


def story_articles(engine: Engine, story: Story) -> list[StoryArticle]:
    """The member articles of a story with their text and own outlet (``outlets.py``),
    oldest first."""
    stmt = select(ArticleRow).where(ArticleRow.id.in_(story.article_ids))
    with Session(engine) as session:
        rows = session.scalars(stmt).all()
        outlets = article_outlets(session, list(story.article_ids), {a.id: _page(a) for a in rows})
    articles = [
        StoryArticle(
            article_id=a.id,
            url=a.url or a.canonical_url,
            outlet=outlets.get(a.id) or (a.site_name or ""),
            title=a.title,
            text=a.text or a.feed_summary,
            published_at=a.published_at,
        )
        for a in rows
    ]
    return sorted(articles, key=lambda a: (a.published_at is None, a.published_at, a.article_id))


def current_summary(engine: Engine, story_id: str) -> dict[str, Any] | None:
    """The stored summary record of a story, if any."""
    with engine.connect() as conn:
        return conn.execute(
            select(SummaryRow.record).where(SummaryRow.story_id == story_id)
        ).scalar()


def cache_key(model: str, prompt_version: str, content_hash: str) -> str:
    """The LLM cache key of a story's content under a model and prompt version."""
    return hashlib.sha256(f"{model}|{prompt_version}|{content_hash}".encode()).hexdigest()


def cached_record(engine: Engine, key: str) -> dict[str, Any] | None:
    """A cached summary record, or None."""
    with engine.connect() as conn:
        return conn.execute(select(LLMCacheRow.record).where(LLMCacheRow.key == key)).scalar()


def save_summary(
    engine: Engine, record: dict[str, Any], now: datetime, *, cache_key_value: str | None
) -> None:
    """Store a story's summary (replacing the previous one) and, when given, cache it."""
    values = {
        "status": record["status"],
        "reason": record.get("reason"),
        "content_hash": record["content_hash"],
        "backend": record["backend"],
        "model": record["model"],
        "prompt_version": record["prompt_version"],
        "record": record,
        "updated_at": now,
    }
    with engine.begin() as conn:
        conn.execute(
            upsert_insert(conn, SummaryRow)
            .values(story_id=record["story_id"], **values)
            .on_conflict_do_update(index_elements=["story_id"], set_=values)
        )
        if cache_key_value:
            conn.execute(
                upsert_insert(conn, LLMCacheRow)
                .values(key=cache_key_value, record=record, created_at=now)
                .on_conflict_do_update(index_elements=["key"], set_={"record": record})
            )


def record_llm_usage(
    engine: Engine, run_id: str | None, record: dict[str, Any], now: datetime
) -> None:
    """One usage row per story that reached the model."""
    usage = record.get("usage") or {}
    with engine.begin() as conn:
        conn.execute(
            upsert_insert(conn, LLMCallRow).values(
                run_id=run_id,
                story_id=record["story_id"],
                model=record["model"],
                calls=usage.get("calls", 0),
                input_tokens=usage.get("input_tokens", 0),
                output_tokens=usage.get("output_tokens", 0),
                cost_usd=usage.get("cost_usd", 0.0),
                outcome=(record.get("error_kind") or record["status"])[:20],
                at=now,
            )
        )


def tokens_used_since(engine: Engine, since: datetime) -> int:
    """Input plus output tokens recorded since ``since`` (the daily budget's count)."""
    with engine.connect() as conn:
        total = conn.execute(
            select(
                func.coalesce(func.sum(LLMCallRow.input_tokens + LLMCallRow.output_tokens), 0)
            ).where(LLMCallRow.at >= since)
        ).scalar_one()
    return int(total)


def usage_summary(engine: Engine, since: datetime) -> dict[str, Any]:
    """LLM calls, tokens and cost since ``since``, for ``dyad status``."""
    with engine.connect() as conn:
        row = conn.execute(
            select(
                func.count(),
                func.coalesce(func.sum(LLMCallRow.calls), 0),
                func.coalesce(func.sum(LLMCallRow.input_tokens), 0),
                func.coalesce(func.sum(LLMCallRow.output_tokens), 0),
                func.coalesce(func.sum(LLMCallRow.cost_usd), 0.0),
            ).where(LLMCallRow.at >= since)
        ).one()
    return {
        "stories": row[0],
        "calls": int(row[1]),
        "input_tokens": int(row[2]),
        "output_tokens": int(row[3]),
        "cost_usd": round(float(row[4]), 4),
    }


def start_of_day(now: datetime) -> datetime:
    """Midnight UTC of ``now``'s day."""
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def story_hashes(engine: Engine, story_ids: Sequence[str]) -> dict[str, str]:
    """The stored content hash of each of these stories (missing ones are absent)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(StoryRow.id, StoryRow.content_hash).where(StoryRow.id.in_(list(story_ids)))
        )
        return {r.id: r.content_hash for r in rows}


def load_stories(engine: Engine, story_ids: Sequence[str]) -> list[Story]:
    """Stories by id, rebuilt from the store (their articles via ``articles.story_id``)."""
    with engine.connect() as conn:
        rows = (
            conn.execute(select(StoryRow).where(StoryRow.id.in_(list(story_ids)))).mappings().all()
        )
        members: dict[str, list[int]] = {}
        for article_id, story_id in conn.execute(
            select(ArticleRow.id, ArticleRow.story_id).where(
                ArticleRow.story_id.in_(list(story_ids))
            )
        ):
            members.setdefault(str(story_id), []).append(article_id)
    return [
        Story(
            id=r["id"],
            dyad=r["dyad"],
            article_ids=tuple(sorted(members.get(r["id"], []))),
            outlets=tuple(r["outlets"] or ()),
            first_seen=r["first_seen"],
            last_seen=r["last_seen"],
            content_hash=r["content_hash"],
            actor=r["actor"],
            target=r["target"],
        )
        for r in sorted(rows, key=lambda r: (r["last_seen"], r["id"]), reverse=True)
    ]


def endpoint_shape(engine: Engine, endpoint: str, model: str) -> tuple[str, dict[str, Any]] | None:
    """The remembered request shape of an endpoint and model, with the basis it was learned on
    (profile and settings), or None."""
    with engine.connect() as conn:
        row = conn.execute(
            select(LLMEndpointRow.basis, LLMEndpointRow.shape).where(
                LLMEndpointRow.endpoint == endpoint, LLMEndpointRow.model == model
            )
        ).first()
    return (row.basis, row.shape) if row else None


def save_endpoint_shape(
    engine: Engine,
    endpoint: str,
    model: str,
    *,
    basis: str,
    shape: dict[str, Any],
    reason: str | None,
    now: datetime,
) -> None:
    """Remember the request shape an endpoint and model accept."""
    values = {"basis": basis, "shape": shape, "reason": reason, "updated_at": now}
    with engine.begin() as conn:
        conn.execute(
            upsert_insert(conn, LLMEndpointRow)
            .values(endpoint=endpoint, model=model, **values)
            .on_conflict_do_update(index_elements=["endpoint", "model"], set_=values)
        )
