"""Detection results in the store: articles whose detection is missing or stale, a result
stored with the version it was made with, and articles marked to be detected again.

A result is stored with its ``gazetteer_version`` (``pipeline.detect.detection_version``: the
gazetteer, the model and the thresholds); an article whose version is missing or different is
detected again. Extraction stores a result made in the extraction worker in the same statement
as the text (``pipeline.store.articles.save_extraction``), with the same columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select, update

from pipeline.records import DyadDetection
from pipeline.store.tables import ArticleRow, EntryRow, FeedRow


def detection_values(detection: DyadDetection) -> dict[str, Any]:
    """The article columns that hold ``detection`` (its first 20 pieces of evidence)."""
    return {
        "bilateral": detection.bilateral,
        "dyad": detection.dyad,
        "detect_score": detection.score,
        "actor": detection.actor,
        "target": detection.target,
        "detection": detection.model_dump(mode="json", exclude={"evidence"})
        | {"evidence": [e.model_dump() for e in detection.evidence[:20]]},
        "gazetteer_version": detection.gazetteer_version,
    }


@dataclass(frozen=True)
class ArticleText:
    id: int
    title: str
    text: str
    published_at: datetime | None


def articles_to_detect(
    engine: Engine, feed_ids: Sequence[int] | None, version: str, limit: int = 100_000
) -> list[ArticleText]:
    """Articles (of these feeds, or all) with text whose detection is missing or stale."""
    stmt = (
        select(
            ArticleRow.id,
            ArticleRow.title,
            ArticleRow.text,
            ArticleRow.feed_summary,
            ArticleRow.published_at,
        )
        .where(
            (ArticleRow.gazetteer_version.is_(None)) | (ArticleRow.gazetteer_version != version),
        )
        .order_by(ArticleRow.id)
        .limit(limit)
    )
    if feed_ids is not None:
        stmt = stmt.where(
            ArticleRow.id.in_(
                select(EntryRow.article_id).where(EntryRow.feed_id.in_(list(feed_ids)))
            )
        )
    with engine.connect() as conn:
        return [
            ArticleText(r.id, r.title, r.text or r.feed_summary or "", r.published_at)
            for r in conn.execute(stmt)
        ]


def save_detection(engine: Engine, article_id: int, detection: DyadDetection) -> None:
    """Store an article's detection result (and the gazetteer version it came from)."""
    with engine.begin() as conn:
        conn.execute(
            update(ArticleRow)
            .where(ArticleRow.id == article_id)
            .values(**detection_values(detection))
        )


def mark_for_redetection(
    engine: Engine, since: datetime, until: datetime, feed_url: str | None
) -> int:
    """Clear the gazetteer version of articles first seen in [since, until] (optionally of one
    feed) so detection runs on them again; returns how many."""
    stmt = update(ArticleRow).where(
        ArticleRow.first_seen_at >= since, ArticleRow.first_seen_at <= until
    )
    if feed_url:
        stmt = stmt.where(
            ArticleRow.id.in_(
                select(EntryRow.article_id)
                .join(FeedRow, FeedRow.id == EntryRow.feed_id)
                .where(FeedRow.url == feed_url)
            )
        )
    with engine.begin() as conn:
        return conn.execute(stmt.values(gazetteer_version=None)).rowcount
