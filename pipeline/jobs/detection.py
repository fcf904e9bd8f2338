"""Detection over stored articles: new or changed text, or a new gazetteer, model or threshold."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from pipeline.config import Settings
from pipeline.detect import detect_dyads, detection_version, load_gazetteer
from pipeline.errors import StoreError
from pipeline.jobs.runs import record_failure_safely
from pipeline.records import DetectionCounts
from pipeline.store import open_store
from pipeline.store.detection import articles_to_detect, mark_for_redetection, save_detection

log = logging.getLogger("dyad.jobs")


def detect_pending(settings: Settings) -> DetectionCounts:
    """Detection over every article whose text or gazetteer changed (the DAG's detect step)."""
    with open_store(settings) as engine:
        return detect_articles(engine, settings=settings)


def detect_articles(
    engine: Engine, feed_ids: Sequence[int] | None = None, *, settings: Settings | None = None
) -> DetectionCounts:
    """Run detection on articles whose text is new or whose gazetteer, model or thresholds
    changed; store results. The gazetteer is built only when there is an article to read, so an
    hour with nothing new costs no gazetteer."""
    low = settings.detect.candidate_threshold if settings else None
    high = settings.detect.final_threshold if settings else None
    version = detection_version(None, None, low, high)
    checked = bilateral = 0
    dyads: dict[str, int] = {}
    for article in articles_to_detect(engine, feed_ids, version):
        gazetteer = load_gazetteer()  # cached after the first article
        result = detect_dyads(
            article.title,
            article.text,
            article.published_at,
            gaz=gazetteer,
            candidate_threshold=low,
            final_threshold=high,
        )
        try:
            save_detection(engine, article.id, result)
        except SQLAlchemyError as exc:
            error = StoreError(f"detection not stored: {exc}", item=f"article {article.id}")
            log.error("%s", error)
            record_failure_safely(engine, "detect", error)
            continue
        checked += 1
        if result.bilateral and result.dyad:
            bilateral += 1
            dyads[result.dyad] = dyads.get(result.dyad, 0) + 1
    return DetectionCounts(checked=checked, bilateral=bilateral, dyads=dyads)


def reset_detection(
    settings: Settings, since: datetime, until: datetime, feed_url: str | None = None
) -> int:
    """Mark the articles first seen in [since, until] (of one feed, or all) for re-detection."""
    with open_store(settings) as engine:
        return mark_for_redetection(engine, since, until, feed_url)
