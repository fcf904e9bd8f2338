"""What ``dyad status`` shows: the run ledger, read from the store."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from pipeline.store.stories import start_of_day, usage_summary
from pipeline.store.tables import (
    ArticleRow,
    DeliveryRow,
    FailureRow,
    FeedRow,
    LLMCallRow,
    LLMEndpointRow,
    RunRow,
    SummaryRow,
)

Rows = list[dict[str, Any]]


def status_report(engine: Engine, now: datetime, period: timedelta) -> dict[str, Rows]:
    """Sections of rows: recent runs, feed health, articles and summaries by status, recent
    failures by stage with the latest reason, LLM usage today and over ``period``, and the last
    deliveries."""
    since = now - period
    with engine.connect() as conn:
        sections = {
            "Recent runs": _runs(conn),
            "Feeds by status": [
                {"status": status or "never polled", "feeds": count}
                for status, count in _count_by(conn, FeedRow.last_status)
            ],
            "Feeds failing repeatedly": _flagged_feeds(conn),
            "Articles by status": [
                {"status": status, "articles": count}
                for status, count in _count_by(conn, ArticleRow.status)
            ],
            "Summaries by status": [
                {"status": status, "stories": count}
                for status, count in _count_by(conn, SummaryRow.status)
            ],
            f"Failures in the last {period.days} days": _failures(conn, since),
        }
        models = [
            {"model": model, "stories": n}
            for model, n in conn.execute(
                select(LLMCallRow.model, func.count())
                .where(LLMCallRow.at >= since)
                .group_by(LLMCallRow.model)
            )
        ]
        endpoints = _endpoints(conn)
        deliveries = _deliveries(conn)
    return sections | {
        "LLM usage": [
            {"period": "today (UTC)", **usage_summary(engine, start_of_day(now))},
            {"period": f"last {period.days} days", **usage_summary(engine, since)},
        ],
        "Models used": models,
        "LLM request shapes learned": endpoints,
        "Last deliveries": deliveries,
    }


def _count_by(conn: Connection, column: Any) -> list[tuple[Any, int]]:
    stmt = select(column, func.count()).group_by(column)
    return [(value, count) for value, count in conn.execute(stmt)]


def _runs(conn: Connection) -> Rows:
    return [
        {
            "run": r.id,
            "kind": r.kind,
            "started": f"{r.started_at:%Y-%m-%d %H:%M}",
            "status": r.status,
        }
        for r in conn.execute(select(RunRow).order_by(RunRow.started_at.desc()).limit(10))
    ]


def _flagged_feeds(conn: Connection) -> Rows:
    return [
        {"feed": r.name, "failures": r.consecutive_failures, "last error": r.last_error}
        for r in conn.execute(
            select(FeedRow).where(FeedRow.consecutive_failures >= 3).order_by(FeedRow.name)
        )
    ]


def _failures(conn: Connection, since: datetime) -> Rows:
    """Failures since ``since`` by (stage, kind), most frequent first, with the latest reason."""
    reasons = {
        (stage, kind): message
        for stage, kind, message in conn.execute(
            select(FailureRow.stage, FailureRow.kind, FailureRow.message)
            .where(FailureRow.at >= since)
            .order_by(FailureRow.at)
        )
    }
    return [
        {
            "stage": stage,
            "kind": kind,
            "count": count,
            "last": f"{last:%Y-%m-%d %H:%M}",
            "latest reason": (reasons.get((stage, kind)) or "")[:120],
        }
        for stage, kind, count, last in conn.execute(
            select(FailureRow.stage, FailureRow.kind, func.count(), func.max(FailureRow.at))
            .where(FailureRow.at >= since)
            .group_by(FailureRow.stage, FailureRow.kind)
            .order_by(func.count().desc())
        )
    ]


def _endpoints(conn: Connection) -> Rows:
    return [
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


def _deliveries(conn: Connection) -> Rows:
    return [
        {
            "digest": r.digest_id,
            "recipient": r.recipient,
            "status": r.status,
            "attempts": r.attempts,
            "updated": f"{r.updated_at:%Y-%m-%d %H:%M}",
            "error": (r.last_error or "")[:120],
        }
        for r in conn.execute(select(DeliveryRow).order_by(DeliveryRow.updated_at.desc()).limit(10))
    ]
