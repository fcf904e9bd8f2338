"""The feeds table: subscriptions from feeds.yaml, their validators, health and moves.

Upsert-only: a feed removed from the list is disabled, never deleted. Times are passed in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select, update

from pipeline.errors import DyadError
from pipeline.records import FeedPoll, FeedSpec, FeedStatus, FeedValidators
from pipeline.store.db import upsert_insert
from pipeline.store.tables import EntryRow, FeedRow


def sync_feeds(engine: Engine, specs: Iterable[FeedSpec]) -> None:
    """Insert or update feed rows from the list (name, tags, language, enabled). Never deletes."""
    with engine.begin() as conn:
        for spec in specs:
            values = {
                "name": spec.name,
                "tags": list(spec.tags),
                "language": spec.language,
                "enabled": spec.enabled,
            }
            stmt = upsert_insert(conn, FeedRow).values(
                url=spec.url, consecutive_failures=0, moved_count=0, **values
            )
            conn.execute(stmt.on_conflict_do_update(index_elements=["url"], set_=values))


@dataclass(frozen=True)
class StoredFeed:
    id: int
    url: str
    name: str
    enabled: bool
    validators: FeedValidators
    next_poll_after: datetime | None
    consecutive_failures: int
    final_url: str | None
    moved_to: str | None
    moved_count: int


def load_feeds(engine: Engine, urls: Sequence[str] | None = None) -> list[StoredFeed]:
    """Feed rows (all, or those with the given URLs), in URL order."""
    stmt = select(FeedRow).order_by(FeedRow.url)
    if urls is not None:
        stmt = stmt.where(FeedRow.url.in_(list(urls)))
    with engine.connect() as conn:
        rows = conn.execute(stmt).mappings().all()
    return [
        StoredFeed(
            id=r["id"],
            url=r["url"],
            name=r["name"],
            enabled=r["enabled"],
            validators=FeedValidators(
                etag=r["etag"],
                last_modified=r["last_modified"],
                last_unconditional_at=r["last_unconditional_at"],
            ),
            next_poll_after=r["next_poll_after"],
            consecutive_failures=r["consecutive_failures"],
            final_url=r["final_url"],
            moved_to=r["moved_to"],
            moved_count=r["moved_count"],
        )
        for r in rows
    ]


def feed_table(engine: Engine) -> list[dict[str, Any]]:
    """Every feed with its health and entry count, for ``dyad feeds list``."""
    counts = (
        select(EntryRow.feed_id, func.count().label("entries"))
        .group_by(EntryRow.feed_id)
        .subquery()
    )
    stmt = (
        select(FeedRow, func.coalesce(counts.c.entries, 0).label("entries"))
        .outerjoin(counts, counts.c.feed_id == FeedRow.id)
        .order_by(FeedRow.name)
    )
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(stmt).mappings().all()]


def duplicate_of(engine: Engine, feed_id: int, final_url: str) -> str | None:
    """Another subscribed feed that is, or redirects to, ``final_url`` (None if there is none)."""
    stmt = select(FeedRow.url).where(
        (FeedRow.final_url == final_url) | (FeedRow.url == final_url),
        FeedRow.id != feed_id,
        FeedRow.enabled.is_(True),
    )
    with engine.connect() as conn:
        return conn.execute(stmt.order_by(FeedRow.id).limit(1)).scalar()


def save_feed_success(
    engine: Engine,
    feed: StoredFeed,
    poll: FeedPoll,
    now: datetime,
    *,
    redirect_confirm: int,
    warnings: Sequence[str] = (),
) -> None:
    """Record a good poll: validators (after the entries are stored), health reset, moves."""
    moved_count = (
        feed.moved_count + 1
        if poll.permanent_redirect and (poll.permanent_redirect == feed.moved_to)
        else (1 if poll.permanent_redirect else 0)
    )
    values: dict[str, Any] = {
        "etag": poll.etag,
        "last_modified": poll.last_modified,
        "last_polled_at": now,
        "last_success_at": now,
        "last_status": FeedStatus.NOT_MODIFIED if poll.status == 304 else FeedStatus.OK,
        "consecutive_failures": 0,
        "last_error_kind": None,
        "last_error": None,
        "next_poll_after": None,
        "final_url": poll.final_url,
        "moved_to": poll.permanent_redirect,
        "moved_count": moved_count,
        "warnings": "\n".join(warnings) or None,
    }
    if poll.parsed is not None and poll.parsed.title:
        values["title"] = poll.parsed.title
    if poll.unconditional:
        values["last_unconditional_at"] = now
    if moved_count >= redirect_confirm and poll.permanent_redirect:
        values["warnings"] = "\n".join(
            [
                *warnings,
                f"moved permanently to {poll.permanent_redirect} "
                f"({moved_count} polls in a row): update feeds.yaml",
            ]
        )
    with engine.begin() as conn:
        conn.execute(update(FeedRow).where(FeedRow.id == feed.id).values(**values))


def save_feed_failure(
    engine: Engine,
    feed: StoredFeed,
    error: DyadError,
    status: FeedStatus,
    now: datetime,
    retry_at: datetime | None,
) -> None:
    """Record a failed or deferred poll; deferrals do not count as failures."""
    failures = feed.consecutive_failures + (0 if status == FeedStatus.DEFERRED else 1)
    with engine.begin() as conn:
        conn.execute(
            update(FeedRow)
            .where(FeedRow.id == feed.id)
            .values(
                last_polled_at=now,
                last_status=status,
                consecutive_failures=failures,
                last_error_kind=error.kind,
                last_error=str(error)[:2000],
                next_poll_after=retry_at,
            )
        )


def mark_feed_duplicate(engine: Engine, feed: StoredFeed, other: str, now: datetime) -> None:
    """Record that this feed redirects to the same place as ``other`` (nothing ingested)."""
    with engine.begin() as conn:
        conn.execute(
            update(FeedRow)
            .where(FeedRow.id == feed.id)
            .values(
                last_polled_at=now,
                last_status=FeedStatus.DUPLICATE,
                last_error_kind="duplicate_feed",
                last_error=f"same final URL as {other}",
            )
        )


def retry_time(now: datetime, failures: int, base_minutes: float, max_hours: float) -> datetime:
    """When a feed that failed ``failures`` times in a row may be polled again (exponential)."""
    minutes = min(base_minutes * (2 ** max(0, failures - 1)), max_hours * 60)
    return now + timedelta(minutes=minutes)
