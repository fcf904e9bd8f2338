"""Store functions for digests and deliveries.

Deliveries are exactly-once: a row per (digest, recipient) is created, then *claimed* with a
compare-and-set update (pending -> sending) that only one sender can win; it becomes "sent" only
after the server accepted the message. A recipient the server refused for good (5xx) stays
"failed" and is not tried again every run. A crash between claim and commit leaves "sending":
it is not resent automatically (the server may have accepted it) but reported as in doubt;
``--force`` resends on purpose.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, and_, func, or_, select, update

from pipeline.records import DeliveryStatus, FeedStatus
from pipeline.store.db import upsert_insert
from pipeline.store.tables import (
    ArticleRow,
    DeliveryRow,
    DigestRow,
    FailureRow,
    FeedRow,
    LLMCallRow,
    RunRow,
    StoryRow,
    SummaryRow,
)


def stories_in_window(engine: Engine, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Stories whose latest article falls in [start, end), with their summary record."""
    stmt = (
        select(StoryRow, SummaryRow.record)
        .outerjoin(SummaryRow, SummaryRow.story_id == StoryRow.id)
        .where(StoryRow.last_seen >= start, StoryRow.last_seen < end)
        .order_by(StoryRow.last_seen.desc())
    )
    with engine.connect() as conn:
        rows = conn.execute(stmt).mappings().all()
    return [dict(r) for r in rows]


def trend_rows(
    engine: Engine, dyads: list[str], start: datetime, end: datetime
) -> list[dict[str, Any]]:
    """Per story of these pairs in [start, end): pair, day, article count, summary score."""
    stmt = (
        select(StoryRow.dyad, StoryRow.last_seen, StoryRow.article_count, SummaryRow.record)
        .outerjoin(SummaryRow, SummaryRow.story_id == StoryRow.id)
        .where(StoryRow.dyad.in_(dyads), StoryRow.last_seen >= start, StoryRow.last_seen < end)
    )
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings().all()]


def _feeding_runs(conn: Connection, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """Reports of the ingest runs that fed the window: those started in [start, end) and those
    during which an article of a window story was first stored (a story published in the
    window may have been read by a later run, e.g. a backfill or the offline sample). Reads the
    window's articles by index, never every article."""
    times = sorted(
        t
        for (t,) in conn.execute(
            select(ArticleRow.first_seen_at)
            .join(StoryRow, StoryRow.id == ArticleRow.story_id)
            .where(StoryRow.last_seen >= start, StoryRow.last_seen < end)
        )
    )
    in_window = and_(RunRow.started_at >= start, RunRow.started_at < end)
    finished = func.coalesce(RunRow.finished_at, RunRow.started_at)
    near = and_(RunRow.started_at <= times[-1], finished >= times[0]) if times else in_window
    stmt = select(RunRow.started_at, RunRow.finished_at, RunRow.report).where(
        RunRow.kind == "ingest", RunRow.report.is_not(None), or_(in_window, near)
    )
    runs = []
    for run in conn.execute(stmt).mappings():
        first, last = run["started_at"], run["finished_at"] or run["started_at"]
        fed = bisect_right(times, last) > bisect_left(times, first)
        if fed or start <= first < end:
            runs.append(dict(run))
    return runs


def _articles_read(
    conn: Connection, start: datetime, end: datetime, runs: list[dict[str, Any]]
) -> int:
    """Articles first stored in [start, end) or during one of ``runs``."""
    spans = [
        and_(
            ArticleRow.first_seen_at >= run["started_at"],
            ArticleRow.first_seen_at <= (run["finished_at"] or run["started_at"]),
        )
        for run in runs
    ]
    in_window = and_(ArticleRow.first_seen_at >= start, ArticleRow.first_seen_at < end)
    return int(conn.execute(select(func.count()).where(or_(in_window, *spans))).scalar_one())


def _llm_figures(conn: Connection, start: datetime, end: datetime) -> dict[str, Any]:
    """LLM usage and failures in [start, end) or for the window's stories."""
    stories = select(StoryRow.id).where(StoryRow.last_seen >= start, StoryRow.last_seen < end)
    failures = conn.execute(
        select(FailureRow.kind, func.count())
        .where(
            FailureRow.stage == "summarize",
            or_(and_(FailureRow.at >= start, FailureRow.at < end), FailureRow.item.in_(stories)),
        )
        .group_by(FailureRow.kind)
    )
    usage = conn.execute(
        select(
            func.coalesce(func.sum(LLMCallRow.calls), 0),
            func.coalesce(func.sum(LLMCallRow.input_tokens + LLMCallRow.output_tokens), 0),
            func.coalesce(func.sum(LLMCallRow.cost_usd), 0.0),
        ).where(
            or_(and_(LLMCallRow.at >= start, LLMCallRow.at < end), LLMCallRow.story_id.in_(stories))
        )
    ).one()
    return {
        "llm_calls": int(usage[0]),
        "llm_tokens": int(usage[1]),
        "llm_cost_usd": round(float(usage[2]), 4),
        "llm_failures": {kind: int(n) for kind, n in failures},
    }


def ledger_counts(engine: Engine, start: datetime, end: datetime) -> dict[str, Any]:
    """The run ledger of the digest whose window is [start, end): feeds polled and articles read
    by the ingest runs that fed its stories (or ran in the window), the feeds failing, and the
    model's usage and failures in the window or for its stories."""
    with engine.connect() as conn:
        runs = _feeding_runs(conn, start, end)
        articles = _articles_read(conn, start, end, runs)
        failing = [
            name
            for (name,) in conn.execute(
                select(FeedRow.name)
                .where(FeedRow.last_status == FeedStatus.FAILED)
                .order_by(FeedRow.name)
            )
        ]
        llm = _llm_figures(conn, start, end)
    polled = not_modified = 0
    failed: set[str] = set()
    for run in runs:
        for feed in run["report"].get("feeds", []):
            polled += 1
            not_modified += feed.get("status") == FeedStatus.NOT_MODIFIED
            if feed.get("status") == FeedStatus.FAILED:
                failed.add(feed.get("name") or feed.get("url"))
    return {
        "feeds_polled": polled,
        "feeds_not_modified": not_modified,
        "feeds_failed": sorted(failed | set(failing)),
        "articles_read": articles,
        **llm,
    }


def save_digest(
    engine: Engine,
    digest_id: str,
    record: dict[str, Any],
    content_hash: str,
    start: datetime,
    end: datetime,
    now: datetime,
) -> None:
    """Store (or replace) the built digest for its send date."""
    values = {
        "window_start": start,
        "window_end": end,
        "generated_at": now,
        "content_hash": content_hash,
        "record": record,
    }
    with engine.begin() as conn:
        conn.execute(
            upsert_insert(conn, DigestRow)
            .values(id=digest_id, **values)
            .on_conflict_do_update(index_elements=["id"], set_=values)
        )


def kept_generated_at(engine: Engine, digest_id: str, content_hash: str) -> datetime | None:
    """When the stored digest ``digest_id`` was generated, if its content is ``content_hash``
    (a rebuild with the same content keeps that time: the feed entry's ``updated`` stays put);
    None when there is none or its content differs."""
    with engine.connect() as conn:
        return conn.execute(
            select(DigestRow.generated_at).where(
                DigestRow.id == digest_id, DigestRow.content_hash == content_hash
            )
        ).scalar()


def previous_digest(engine: Engine, before: datetime) -> dict[str, Any] | None:
    """The most recent digest record whose window ended before ``before``."""
    with engine.connect() as conn:
        return conn.execute(
            select(DigestRow.record)
            .where(DigestRow.window_end <= before)
            .order_by(DigestRow.window_end.desc())
            .limit(1)
        ).scalar()


def all_digests(engine: Engine) -> list[dict[str, Any]]:
    """Every stored digest record, newest first (for the Atom feed and the archive)."""
    with engine.connect() as conn:
        return [r for (r,) in conn.execute(select(DigestRow.record).order_by(DigestRow.id.desc()))]


@dataclass(frozen=True)
class DeliveryClaim:
    """The outcome of ``claim_delivery``: whether this sender won the right to send, and the
    row's status (and last error) as it stood when it did not. True when claimed."""

    claimed: bool
    status: DeliveryStatus
    last_error: str | None = None

    def __bool__(self) -> bool:
        return self.claimed


def claim_delivery(
    engine: Engine, digest_id: str, recipient: str, message_id: str, now: datetime, *, force: bool
) -> DeliveryClaim:
    """Atomically take the right to send ``digest_id`` to ``recipient``. Only a pending row
    (new, or deferred by the server) is claimed; ``force`` also takes failed, sent and sending
    ones. When the claim fails, the row's status says why: sent, failed (refused for good: not
    retried every run) or sending (a send that never finished: in doubt)."""
    retryable: tuple[DeliveryStatus, ...] = (DeliveryStatus.PENDING, DeliveryStatus.UNSUBSCRIBED)
    everything = (*retryable, DeliveryStatus.FAILED, DeliveryStatus.SENT, DeliveryStatus.SENDING)
    allowed = everything if force else retryable
    with engine.begin() as conn:
        conn.execute(
            upsert_insert(conn, DeliveryRow)
            .values(
                digest_id=digest_id,
                recipient=recipient,
                message_id=message_id,
                status=DeliveryStatus.PENDING,
                attempts=0,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["digest_id", "recipient"])
        )
        where = (DeliveryRow.digest_id == digest_id, DeliveryRow.recipient == recipient)
        claimed = conn.execute(
            update(DeliveryRow)
            .where(*where, DeliveryRow.status.in_(allowed))
            .values(
                status=DeliveryStatus.SENDING, attempts=DeliveryRow.attempts + 1, updated_at=now
            )
        )
        if claimed.rowcount == 1:
            return DeliveryClaim(True, DeliveryStatus.SENDING)
        row = conn.execute(select(DeliveryRow.status, DeliveryRow.last_error).where(*where)).one()
    return DeliveryClaim(False, DeliveryStatus(row.status), row.last_error)


def record_unsubscribed(
    engine: Engine, digest_id: str, recipient: str, message_id: str, now: datetime, why: str
) -> None:
    """Record that ``digest_id`` was not sent to ``recipient`` because the address left the
    list (``dyad status`` shows it); a copy already sent or being sent keeps its row."""
    values = {"status": DeliveryStatus.UNSUBSCRIBED, "last_error": why, "updated_at": now}
    with engine.begin() as conn:
        conn.execute(
            upsert_insert(conn, DeliveryRow)
            .values(digest_id=digest_id, recipient=recipient, message_id=message_id, **values)
            .on_conflict_do_update(
                index_elements=["digest_id", "recipient"],
                set_=values,
                where=DeliveryRow.status.not_in((DeliveryStatus.SENT, DeliveryStatus.SENDING)),
            )
        )


def finish_delivery(
    engine: Engine,
    digest_id: str,
    recipient: str,
    status: DeliveryStatus,
    now: datetime,
    error: str | None = None,
) -> None:
    """Record how a claimed delivery ended: sent, failed (permanent) or pending (try again)."""
    with engine.begin() as conn:
        conn.execute(
            update(DeliveryRow)
            .where(DeliveryRow.digest_id == digest_id, DeliveryRow.recipient == recipient)
            .values(
                status=status,
                last_error=error,
                updated_at=now,
                sent_at=now if status == DeliveryStatus.SENT else None,
            )
        )


def deliveries(engine: Engine, digest_id: str | None = None) -> list[dict[str, Any]]:
    """Delivery rows (of one digest, or the last 50)."""
    stmt = select(DeliveryRow).order_by(DeliveryRow.updated_at.desc())
    stmt = stmt.where(DeliveryRow.digest_id == digest_id) if digest_id else stmt.limit(50)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings().all()]


def digest_record(engine: Engine, digest_id: str) -> dict[str, Any] | None:
    """The stored record of one digest, or None."""
    with engine.connect() as conn:
        return conn.execute(select(DigestRow.record).where(DigestRow.id == digest_id)).scalar()
