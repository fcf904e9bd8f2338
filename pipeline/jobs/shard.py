"""One ingest shard's feed work: poll each feed and store its entries (the pages of its new
articles: ``pipeline.jobs.pages``). Every failure is caught per item, stored as a failure row
and reported; nothing here raises for one feed or one article."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from pipeline.config import Settings
from pipeline.errors import DyadError, HostDeferred, StoreError
from pipeline.extract import ExtractorPool
from pipeline.feeds import poll_feed
from pipeline.http import HttpClient
from pipeline.jobs.page_work import DetectInput
from pipeline.records import (
    ArticleFailure,
    FeedPoll,
    FeedReport,
    FeedStatus,
    ParsedFeed,
)
from pipeline.store.articles import store_entries
from pipeline.store.feeds import (
    StoredFeed,
    duplicate_of,
    mark_feed_duplicate,
    retry_time,
    save_feed_failure,
    save_feed_success,
)
from pipeline.store.runs import record_failure

log = logging.getLogger("dyad.jobs")

Progress = Callable[[str, int], None]
"""Called with (stage, n) for "feeds" and "articles": the first call of a stage opens it with
``n`` items (the feeds: all of them; the articles: 0, as pages are queued while feeds arrive),
a later call with ``n`` > 0 adds ``n`` items to it, and (stage, 0) marks one item done. The CLI
draws a progress bar from it; Airflow passes nothing."""


def no_progress(_stage: str, _total: int) -> None:
    """The ``Progress`` that shows nothing."""
    return None


@dataclass
class ShardContext:
    """What one shard's feed and article work shares: the store, one HTTP client (one
    politeness gate), one extractor pool (which also parses the feeds and runs detection on the
    pages), the run and its clock."""

    settings: Settings
    engine: Engine
    client: HttpClient
    pool: ExtractorPool
    run_id: str
    clock: Callable[[], datetime]
    progress: Progress
    detect: DetectInput | None = None
    """Thresholds for detection in the extraction workers; None: no detection with the pages."""
    failures: list[ArticleFailure] = field(default_factory=list)
    detected: list[str | None] = field(default_factory=list)
    """One item per detection made with the pages and stored (``pipeline.jobs.pages``): its
    pair when bilateral, else None (the detections themselves are stored, not kept here)."""
    changed: set[int] = field(default_factory=set)
    """Articles whose item changed in a feed of this run (their page is due again): a page
    queue fetches such an article once more when its earlier fetch in this run is over."""

    def fail(self, stage: str, error: DyadError, item: str | None = None) -> None:
        """Store a failure row; a store that cannot even take that is logged, never raised."""
        log.warning("%s failed for %s: %s", stage, item or error.item, error)
        try:
            record_failure(self.engine, self.run_id, stage, error, self.clock(), item)
        except SQLAlchemyError:
            log.exception("could not record a %s failure for %s", stage, item or error.item)


def poll_one(ctx: ShardContext, feed: StoredFeed) -> FeedReport:
    """Poll one feed and store what it brings; a bug in its handling becomes a failed report,
    never an exception that ends the shard."""
    started = time.monotonic()
    try:
        return _poll(ctx, feed, started)
    except Exception as exc:  # a bug in one feed's handling must not end the shard
        log.exception("unexpected error polling %s", feed.url)
        error = DyadError(f"internal error: {type(exc).__name__}: {exc}", item=feed.url)
        ctx.fail("feed", error)
        return _feed_report(feed, FeedStatus.FAILED, error_kind=error.kind, error=str(error))
    finally:
        ctx.progress("feeds", 0)


def _feed_report(
    feed: StoredFeed, status: FeedStatus, started: float | None = None, **fields: Any
) -> FeedReport:
    """The report of one feed's poll (with its duration when ``started`` is given)."""
    if started is not None:
        fields["seconds"] = round(time.monotonic() - started, 3)
    return FeedReport(url=feed.url, name=feed.name, status=status, **fields)


def _poll(ctx: ShardContext, feed: StoredFeed, started: float) -> FeedReport:
    now = ctx.clock()
    if feed.next_poll_after is not None and feed.next_poll_after > now:
        return _feed_report(
            feed,
            FeedStatus.BACKING_OFF,
            error=f"not polled before {feed.next_poll_after:%Y-%m-%d %H:%M} UTC "
            f"({feed.consecutive_failures} failures in a row)",
        )
    try:
        poll = poll_feed(ctx.client, feed.url, feed.validators, now, ctx.settings.feeds, ctx.pool)
    except DyadError as error:
        _save_poll_failure(ctx, feed, error, now)
        status = FeedStatus.DEFERRED if isinstance(error, HostDeferred) else FeedStatus.FAILED
        return _feed_report(feed, status, started, error_kind=error.kind, error=str(error))
    if poll.final_url != feed.url:
        other = duplicate_of(ctx.engine, feed.id, poll.final_url)
        if other is not None:
            mark_feed_duplicate(ctx.engine, feed, other, now)
            return _feed_report(
                feed,
                FeedStatus.DUPLICATE,
                error_kind="duplicate_feed",
                error=f"redirects to the same feed as {other}; not ingested twice",
            )
    if poll.parsed is None:
        _save_poll(ctx, feed, poll, now, [])
        return _feed_report(feed, FeedStatus.NOT_MODIFIED, started)
    return _store_feed(ctx, feed, poll, poll.parsed, now, started)


def _save_poll_failure(
    ctx: ShardContext, feed: StoredFeed, error: DyadError, now: datetime
) -> None:
    """Record a failed poll: a deferral waits for the host's time, a failure backs off
    exponentially (with up to a minute of jitter)."""
    feeds = ctx.settings.feeds
    if isinstance(error, HostDeferred):
        status, retry_at = FeedStatus.DEFERRED, error.not_before
    else:
        status = FeedStatus.FAILED
        retry_at = retry_time(
            now,
            feed.consecutive_failures + 1,
            feeds.failure_backoff_base_minutes,
            feeds.failure_backoff_max_hours,
        ) + timedelta(seconds=random.uniform(0, 60))
    ctx.fail("feed", error, feed.url)
    save_feed_failure(ctx.engine, feed, error, status, now, retry_at)


def _save_poll(
    ctx: ShardContext, feed: StoredFeed, poll: FeedPoll, now: datetime, warnings: list[str]
) -> None:
    redirect_confirm = ctx.settings.feeds.redirect_confirm_count
    save_feed_success(
        ctx.engine, feed, poll, now, warnings=warnings, redirect_confirm=redirect_confirm
    )


def _store_feed(
    ctx: ShardContext,
    feed: StoredFeed,
    poll: FeedPoll,
    parsed: ParsedFeed,
    now: datetime,
    started: float,
) -> FeedReport:
    """Store a fetched feed's entries, then its validators; report what was new."""
    outcomes = {"new": 0, "updated": 0, "duplicate": 0, "purged": 0}
    store_failures = 0
    stored = store_entries(ctx.engine, feed.id, parsed.entries, now)
    for entry, outcome in zip(parsed.entries, stored, strict=True):
        if isinstance(outcome, SQLAlchemyError):
            store_failures += 1
            message = f"entry not stored: {outcome.__class__.__name__}: {str(outcome)[:300]}"
            ctx.fail("store", StoreError(message, item=entry.link or entry.entry_key))
        else:
            outcomes[outcome.outcome] += 1
            if outcome.outcome == "updated":
                ctx.changed.add(outcome.article_id)
    warnings = list(parsed.warnings)
    if parsed.skipped:
        cap = ctx.settings.feeds.max_items
        warnings.append(f"{parsed.skipped} items beyond the {cap}-item cap skipped")
    if store_failures:
        warnings.append(f"{store_failures} entries could not be stored")
        # Without validators the next run fetches unconditionally and finds them again.
        poll = poll.model_copy(update={"etag": None, "last_modified": None})
    # Validators only after the entries are committed: a crash before this line means the next
    # run fetches unconditionally and finds the same entries again (no loss, no duplicates).
    _save_poll(ctx, feed, poll, now, warnings)
    return _feed_report(
        feed,
        FeedStatus.OK,
        started,
        entries_seen=len(parsed.entries),
        entries_new=outcomes["new"],
        entries_updated=outcomes["updated"],
        entries_duplicate=outcomes["duplicate"] + outcomes["purged"],
        entries_skipped=parsed.skipped,
        warnings=tuple(warnings),
    )
