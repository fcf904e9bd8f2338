"""Reads and upsert-only writes of Dyad's store.

Rules every function keeps: ingest never deletes; each entry and each article is written in its
own transaction, so one bad item never rolls back the others; a feed's validators are saved only
after the entries they cover are committed; writes are keyed by canonical URL and (feed, entry
key), so re-running on the same data changes no row counts. Times are passed in, never read here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select, update

from pipeline.errors import DyadError
from pipeline.records import (
    DyadDetection,
    ExtractedPage,
    FeedEntry,
    FeedPoll,
    FeedSpec,
    FeedStatus,
    FeedValidators,
)
from pipeline.store.db import upsert_insert
from pipeline.store.models import Article, Entry, Failure, Feed, Run

# ---------------------------------------------------------------- feeds


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
            stmt = upsert_insert(conn, Feed).values(
                url=spec.url, consecutive_failures=0, moved_count=0, **values
            )
            conn.execute(stmt.on_conflict_do_update(index_elements=["url"], set_=values))


@dataclass(frozen=True)
class FeedRow:
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


def load_feeds(engine: Engine, urls: Sequence[str] | None = None) -> list[FeedRow]:
    """Feed rows (all, or those with the given URLs), in URL order."""
    stmt = select(Feed).order_by(Feed.url)
    if urls is not None:
        stmt = stmt.where(Feed.url.in_(list(urls)))
    with engine.connect() as conn:
        rows = conn.execute(stmt).mappings().all()
    return [
        FeedRow(
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
    counts = select(Entry.feed_id, func.count().label("entries")).group_by(Entry.feed_id).subquery()
    stmt = (
        select(Feed, func.coalesce(counts.c.entries, 0).label("entries"))
        .outerjoin(counts, counts.c.feed_id == Feed.id)
        .order_by(Feed.name)
    )
    with engine.connect() as conn:
        return [dict(row) for row in conn.execute(stmt).mappings().all()]


def duplicate_of(engine: Engine, feed_id: int, final_url: str) -> str | None:
    """Another subscribed feed that is, or redirects to, ``final_url`` (None if there is none)."""
    stmt = select(Feed.url).where(
        (Feed.final_url == final_url) | (Feed.url == final_url),
        Feed.id != feed_id,
        Feed.enabled.is_(True),
    )
    with engine.connect() as conn:
        return conn.execute(stmt.order_by(Feed.id).limit(1)).scalar()


def save_feed_success(
    engine: Engine,
    feed: FeedRow,
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
        conn.execute(update(Feed).where(Feed.id == feed.id).values(**values))


def save_feed_failure(
    engine: Engine,
    feed: FeedRow,
    error: DyadError,
    status: FeedStatus,
    now: datetime,
    retry_at: datetime | None,
) -> None:
    """Record a failed or deferred poll; deferrals do not count as failures."""
    failures = feed.consecutive_failures + (0 if status == FeedStatus.DEFERRED else 1)
    with engine.begin() as conn:
        conn.execute(
            update(Feed)
            .where(Feed.id == feed.id)
            .values(
                last_polled_at=now,
                last_status=status,
                consecutive_failures=failures,
                last_error_kind=error.kind,
                last_error=str(error)[:2000],
                next_poll_after=retry_at,
            )
        )


def mark_feed_duplicate(engine: Engine, feed: FeedRow, other: str, now: datetime) -> None:
    """Record that this feed redirects to the same place as ``other`` (nothing ingested)."""
    with engine.begin() as conn:
        conn.execute(
            update(Feed)
            .where(Feed.id == feed.id)
            .values(
                last_polled_at=now,
                last_status=FeedStatus.DUPLICATE,
                last_error_kind="duplicate_feed",
                last_error=f"same final URL as {other}",
            )
        )


# ---------------------------------------------------------------- entries and articles


@dataclass(frozen=True)
class EntryOutcome:
    outcome: str  # "new" | "updated" | "duplicate"
    article_id: int


def article_key(entry: FeedEntry) -> str:
    """The article identity of an entry: its canonical URL, or a content URN without a link."""
    return entry.canonical_url or f"urn:dyad:{entry.content_hash}"


def _feed_text(entry: FeedEntry) -> tuple[str, str]:
    if entry.content and len(entry.content) >= len(entry.summary):
        return entry.content, "feed_content"
    if entry.summary:
        return entry.summary, "feed_summary"
    return "", "none"


def store_entry(engine: Engine, feed_id: int, entry: FeedEntry, now: datetime) -> EntryOutcome:
    """Upsert one feed entry and its article in one transaction; say whether it was new.

    "new": a story not seen before; "duplicate": seen before (same item again, or the same
    article under another GUID or in another feed, now linked to this feed too); "updated":
    the item's text changed, so its page is fetched again.
    """
    key = article_key(entry)
    text, source = _feed_text(entry)
    with engine.begin() as conn:
        article = conn.execute(
            select(Article.id, Article.status, Article.entry_hash).where(
                Article.canonical_url == key
            )
        ).first()
        article_new = False
        if article is None:
            status = "pending" if entry.link else ("fallback" if text else "failed")
            inserted = conn.execute(
                upsert_insert(conn, Article)
                .values(
                    canonical_url=key,
                    url=entry.canonical_url,
                    title=entry.title,
                    feed_summary=entry.summary,
                    feed_content=entry.content,
                    text=text,
                    text_source=source,
                    status=status,
                    attempts=0,
                    entry_hash=entry.content_hash,
                    published_at=entry.published_at,
                    date_flag=entry.date_flag,
                    author=", ".join(entry.authors) or None,
                    first_seen_at=now,
                    updated_at=now,
                    last_error_kind=None if entry.link else "no_link",
                    last_error=None if entry.link else "item has no usable link; feed text kept",
                )
                .on_conflict_do_nothing(index_elements=["canonical_url"])
                .returning(Article.id)
            ).scalar_one_or_none()
            article_new = inserted is not None  # None when a concurrent writer got there first
            article = conn.execute(
                select(Article.id, Article.status, Article.entry_hash).where(
                    Article.canonical_url == key
                )
            ).one()
        article_id = article.id
        existing = conn.execute(
            select(Entry.id, Entry.content_hash).where(
                Entry.feed_id == feed_id, Entry.entry_key == entry.entry_key
            )
        ).first()
        if existing is None:
            conn.execute(
                upsert_insert(conn, Entry)
                .values(
                    feed_id=feed_id,
                    entry_key=entry.entry_key,
                    guid=entry.guid,
                    link=entry.link,
                    article_id=article_id,
                    title=entry.title,
                    published_at=entry.published_at,
                    content_hash=entry.content_hash,
                    first_seen_at=now,
                    last_seen_at=now,
                )
                .on_conflict_do_nothing(index_elements=["feed_id", "entry_key"])
            )
            return EntryOutcome("new" if article_new else "duplicate", article_id)
        if existing.content_hash == entry.content_hash:
            conn.execute(update(Entry).where(Entry.id == existing.id).values(last_seen_at=now))
            return EntryOutcome("duplicate", article_id)
        conn.execute(
            update(Entry)
            .where(Entry.id == existing.id)
            .values(
                title=entry.title,
                published_at=entry.published_at,
                content_hash=entry.content_hash,
                last_seen_at=now,
            )
        )
        changes: dict[str, Any] = {
            "title": entry.title,
            "feed_summary": entry.summary,
            "feed_content": entry.content,
            "entry_hash": entry.content_hash,
            "updated_at": now,
            "gazetteer_version": None,  # the text may change: detect again
        }
        if entry.link:
            changes.update(status="pending", attempts=0, next_attempt_after=None)
        conn.execute(update(Article).where(Article.id == article_id).values(**changes))
        return EntryOutcome("updated", article_id)


@dataclass(frozen=True)
class PendingArticle:
    id: int
    url: str
    attempts: int


def pending_articles(
    engine: Engine, feed_ids: Sequence[int], now: datetime, max_attempts: int
) -> list[PendingArticle]:
    """Articles of these feeds whose page still has to be fetched and whose retry time came."""
    stmt = (
        select(Article.id, Article.url, Article.attempts)
        .where(
            Article.status == "pending",
            Article.url.is_not(None),
            Article.attempts < max_attempts,
            (Article.next_attempt_after.is_(None)) | (Article.next_attempt_after <= now),
            Article.id.in_(select(Entry.article_id).where(Entry.feed_id.in_(list(feed_ids)))),
        )
        .order_by(Article.id)
    )
    with engine.connect() as conn:
        return [PendingArticle(r.id, r.url, r.attempts) for r in conn.execute(stmt)]


def save_extraction(
    engine: Engine, article_id: int, page: ExtractedPage, content_hash: str, now: datetime
) -> None:
    """Store the page's text and metadata; the article becomes "extracted"."""
    values: dict[str, Any] = {
        "gazetteer_version": None,
        "text": page.text,
        "text_source": "page",
        "status": "extracted",
        "content_hash": content_hash,
        "author": page.author,
        "site_name": page.site_name,
        "language": page.language,
        "page_date": page.date,
        "extracted_at": now,
        "updated_at": now,
        "last_error_kind": None,
        "last_error": None,
        "next_attempt_after": None,
    }
    if page.title:
        values["title"] = page.title
    with engine.begin() as conn:
        conn.execute(
            update(Article)
            .where(Article.id == article_id)
            .values(attempts=Article.attempts + 1, **values)
        )


def save_article_failure(
    engine: Engine,
    article_id: int,
    error: DyadError,
    now: datetime,
    *,
    final: bool,
    retry_at: datetime | None,
) -> str:
    """Keep the feed's own text for an article whose page failed. Returns the new status:
    "pending" (tried again next run), "fallback" (feed text kept for good) or "failed"."""
    with engine.begin() as conn:
        row = conn.execute(
            select(Article.feed_content, Article.feed_summary, Article.attempts).where(
                Article.id == article_id
            )
        ).one()
        text, source = (
            (row.feed_content, "feed_content")
            if row.feed_content and len(row.feed_content) >= len(row.feed_summary)
            else (row.feed_summary, "feed_summary")
        )
        if not text:
            source = "none"
        status = "pending" if not final else ("fallback" if text else "failed")
        conn.execute(
            update(Article)
            .where(Article.id == article_id)
            .values(
                attempts=row.attempts + (0 if error.kind == "deferred" else 1),
                status=status,
                text=text,
                text_source=source,
                gazetteer_version=None,
                last_error_kind=error.kind,
                last_error=str(error)[:2000],
                next_attempt_after=retry_at,
                updated_at=now,
            )
        )
    return status


# ---------------------------------------------------------------- runs and failures


def start_run(engine: Engine, kind: str, now: datetime, run_id: str | None = None) -> str:
    """Create (or reuse, for a retried Airflow task) a run row; return its id."""
    run_id = run_id or f"{kind}-{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        conn.execute(
            upsert_insert(conn, Run)
            .values(id=run_id, kind=kind, started_at=now, status="running")
            .on_conflict_do_nothing(index_elements=["id"])
        )
    return run_id


def finish_run(
    engine: Engine, run_id: str, now: datetime, status: str, report: dict[str, Any]
) -> None:
    """Close a run with its status and JSON report."""
    with engine.begin() as conn:
        conn.execute(
            update(Run)
            .where(Run.id == run_id)
            .values(finished_at=now, status=status, report=report)
        )


def record_failure(
    engine: Engine,
    run_id: str | None,
    stage: str,
    error: DyadError,
    now: datetime,
    item: str | None = None,
) -> None:
    """Store one per-item failure where ``dyad status`` and reports can show it."""
    with engine.begin() as conn:
        conn.execute(
            upsert_insert(conn, Failure).values(
                run_id=run_id,
                stage=stage,
                item=(item or error.item or "")[:2048],
                kind=error.kind,
                message=str(error)[:4000],
                retryable=error.retryable,
                at=now,
            )
        )


def table_counts(engine: Engine) -> dict[str, int]:
    """Row counts of the main tables (used by tests and ``dyad status``)."""
    with engine.connect() as conn:
        return {
            model.__tablename__: conn.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (Feed, Article, Entry, Run, Failure)
        }


def retry_time(now: datetime, failures: int, base_minutes: float, max_hours: float) -> datetime:
    """When a feed that failed ``failures`` times in a row may be polled again (exponential)."""
    minutes = min(base_minutes * (2 ** max(0, failures - 1)), max_hours * 60)
    return now + timedelta(minutes=minutes)


# ---------------------------------------------------------------- detection


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
        select(Article.id, Article.title, Article.text, Article.feed_summary, Article.published_at)
        .where(
            (Article.gazetteer_version.is_(None)) | (Article.gazetteer_version != version),
        )
        .order_by(Article.id)
        .limit(limit)
    )
    if feed_ids is not None:
        stmt = stmt.where(
            Article.id.in_(select(Entry.article_id).where(Entry.feed_id.in_(list(feed_ids))))
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
            update(Article)
            .where(Article.id == article_id)
            .values(
                bilateral=detection.bilateral,
                dyad=detection.dyad,
                detect_score=detection.score,
                actor=detection.actor,
                target=detection.target,
                detection=detection.model_dump(mode="json", exclude={"evidence"})
                | {"evidence": [e.model_dump() for e in detection.evidence[:20]]},
                gazetteer_version=detection.gazetteer_version,
            )
        )


def reset_detection(engine: Engine, since: datetime, until: datetime, feed_url: str | None) -> int:
    """Clear the gazetteer version of articles first seen in [since, until] (optionally of one
    feed) so detection runs on them again; returns how many."""
    stmt = update(Article).where(Article.first_seen_at >= since, Article.first_seen_at <= until)
    if feed_url:
        stmt = stmt.where(
            Article.id.in_(
                select(Entry.article_id)
                .join(Feed, Feed.id == Entry.feed_id)
                .where(Feed.url == feed_url)
            )
        )
    with engine.begin() as conn:
        return conn.execute(stmt.values(gazetteer_version=None)).rowcount
