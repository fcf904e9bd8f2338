"""What ``dyad status`` shows: the run ledger, read from the store."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select

from pipeline.store.models import (
    Article,
    DeliveryRow,
    Failure,
    Feed,
    LLMCallRow,
    LLMEndpointRow,
    Run,
    SummaryRow,
)
from pipeline.store.stories import start_of_day, usage_summary


def status_report(
    engine: Engine, now: datetime, period: timedelta
) -> dict[str, list[dict[str, Any]]]:
    """Sections of rows: recent runs, feed health, articles and summaries by status, recent
    failures by stage with the latest reason, LLM usage today and over ``period``, and the last
    deliveries."""
    since = now - period
    with engine.connect() as conn:
        runs = [
            {
                "run": r.id,
                "kind": r.kind,
                "started": f"{r.started_at:%Y-%m-%d %H:%M}",
                "status": r.status,
            }
            for r in conn.execute(select(Run).order_by(Run.started_at.desc()).limit(10))
        ]
        feeds = [
            {"status": status or "never polled", "feeds": count}
            for status, count in conn.execute(
                select(Feed.last_status, func.count()).group_by(Feed.last_status)
            )
        ]
        flagged = [
            {"feed": r.name, "failures": r.consecutive_failures, "last error": r.last_error}
            for r in conn.execute(
                select(Feed).where(Feed.consecutive_failures >= 3).order_by(Feed.name)
            )
        ]
        articles = [
            {"status": status, "articles": count}
            for status, count in conn.execute(
                select(Article.status, func.count()).group_by(Article.status)
            )
        ]
        summaries = [
            {"status": status, "stories": count}
            for status, count in conn.execute(
                select(SummaryRow.status, func.count()).group_by(SummaryRow.status)
            )
        ]
        reasons = {
            (stage, kind): message
            for stage, kind, message in conn.execute(
                select(Failure.stage, Failure.kind, Failure.message)
                .where(Failure.at >= since)
                .order_by(Failure.at)
            )
        }
        failures = [
            {
                "stage": stage,
                "kind": kind,
                "count": count,
                "last": f"{last:%Y-%m-%d %H:%M}",
                "latest reason": (reasons.get((stage, kind)) or "")[:120],
            }
            for stage, kind, count, last in conn.execute(
                select(Failure.stage, Failure.kind, func.count(), func.max(Failure.at))
                .where(Failure.at >= since)
                .group_by(Failure.stage, Failure.kind)
                .order_by(func.count().desc())
            )
        ]
        deliveries = [
            {
                "digest": r.digest_id,
                "recipient": r.recipient,
                "status": r.status,
                "attempts": r.attempts,
                "updated": f"{r.updated_at:%Y-%m-%d %H:%M}",
                "error": (r.last_error or "")[:120],
            }
            for r in conn.execute(
                select(DeliveryRow).order_by(DeliveryRow.updated_at.desc()).limit(10)
            )
        ]
        endpoints = [
            {
                "endpoint": r.endpoint,
                "model": r.model,
                "sends": f"{r.shape.get('structured')}, {r.shape.get('limit_param')}, "
                + ("temperature" if r.shape.get("temperature") else "no temperature"),
                "learned": f"{r.updated_at:%Y-%m-%d %H:%M}",
                "because": (r.reason or "")[:120],
            }
            for r in conn.execute(select(LLMEndpointRow).order_by(LLMEndpointRow.endpoint))
        ]
        models = [
            {"model": model, "stories": n}
            for model, n in conn.execute(
                select(LLMCallRow.model, func.count())
                .where(LLMCallRow.at >= since)
                .group_by(LLMCallRow.model)
            )
        ]
    usage = [
        {"period": "today (UTC)", **usage_summary(engine, start_of_day(now))},
        {"period": f"last {period.days} days", **usage_summary(engine, since)},
    ]
    return {
        "Recent runs": runs,
        "Feeds by status": feeds,
        "Feeds failing repeatedly": flagged,
        "Articles by status": articles,
        "Summaries by status": summaries,
        f"Failures in the last {period.days} days": failures,
        "LLM usage": usage,
        "Models used": models,
        "LLM request shapes learned": endpoints,
        "Last deliveries": deliveries,
    }
