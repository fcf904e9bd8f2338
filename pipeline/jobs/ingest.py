"""Ingest: feeds in, articles extracted and checked for a country pair, stored.

Ingest is three steps so Airflow can map the middle one over shards:

1. ``plan_ingest``: load the feed list, upsert it into the store, cut enabled feeds into shards.
2. ``ingest_shard``: poll each feed of the shard (conditional GET, parse, store entries, then
   save validators), fetch and extract the pages of the shard's new articles, then run
   bilateral-relations detection on articles whose text (or the gazetteer) changed. Every
   failure is caught per item, stored as a failure row and reported; the shard always finishes.
3. ``finish_ingest``: merge shard reports and close the run row.

``run_ingest`` does all three in one process (the CLI).
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from pipeline.config import Settings
from pipeline.detect import detect_dyads, detection_version, load_gazetteer
from pipeline.errors import (
    DyadError,
    HostDeferred,
    StoreError,
)
from pipeline.extract import ExtractorPool
from pipeline.feeds import load_feed_list, poll_feed
from pipeline.http import HttpClient, build_client
from pipeline.records import (
    ArticleCounts,
    ArticleFailure,
    DetectionCounts,
    FeedReport,
    FeedShard,
    FeedStatus,
    IngestReport,
    ShardReport,
    merge_shard_reports,
)
from pipeline.store import repo
from pipeline.store.db import open_engine

log = logging.getLogger("dyad.jobs")

Progress = Callable[[str, int], None]
"""Called with ("feeds" | "articles", total) once a stage's size is known, then (stage, 0) per
item done. The CLI draws a progress bar from it; Airflow passes nothing."""


def utc_now() -> datetime:
    """The current time in UTC (the only clock the jobs read)."""
    return datetime.now(UTC)


def _noop(_stage: str, _total: int) -> None:
    return None


def plan_ingest(settings: Settings, feeds_file: Path | None = None) -> list[FeedShard]:
    """Upsert the feed list into the store and return its enabled feeds in shards."""
    specs = load_feed_list(feeds_file or settings.feeds_file)
    engine = open_engine(settings.effective_database_url)
    try:
        repo.sync_feeds(engine, specs)
    finally:
        engine.dispose()
    urls = [spec.url for spec in specs if spec.enabled]
    size = settings.feeds.shard_size
    return [
        FeedShard(index=i, feed_urls=tuple(urls[start : start + size]))
        for i, start in enumerate(range(0, len(urls), size))
    ]


@dataclass
class _ShardContext:
    settings: Settings
    engine: Engine
    client: HttpClient
    pool: ExtractorPool
    run_id: str
    clock: Callable[[], datetime]
    progress: Progress
    failures: list[ArticleFailure] = field(default_factory=list)

    def fail(self, stage: str, error: DyadError, item: str | None = None) -> None:
        """Store a failure row; a store that cannot even take that is logged, never raised."""
        log.warning("%s failed for %s: %s", stage, item or error.item, error)
        try:
            repo.record_failure(self.engine, self.run_id, stage, error, self.clock(), item)
        except SQLAlchemyError:
            log.exception("could not record a %s failure for %s", stage, item or error.item)


def ingest_shard(
    settings: Settings,
    shard: FeedShard,
    run_id: str,
    *,
    client: HttpClient | None = None,
    clock: Callable[[], datetime] = utc_now,
    progress: Progress = _noop,
    detect: bool = True,
) -> ShardReport:
    """Poll the shard's feeds, store their entries, then extract their new articles' pages
    (and, unless ``detect`` is off because a separate step does it, run detection on them).

    Never raises for a single feed or article: those failures are stored and reported.
    Raises ``StoreError`` / ``SchemaMismatch`` only when the store itself cannot be opened.
    """
    engine = open_engine(settings.effective_database_url)
    own_client = client is None
    http = client or build_client(settings)
    stage_seconds: dict[str, float] = {}
    try:
        with ExtractorPool(settings.extract) as pool:
            ctx = _ShardContext(settings, engine, http, pool, run_id, clock, progress)
            started = time.monotonic()
            feeds = repo.load_feeds(engine, shard.feed_urls)
            progress("feeds", len(feeds))
            workers = max(1, min(settings.feeds.poll_workers, len(feeds)))
            with ThreadPoolExecutor(workers, thread_name_prefix="dyad-feed") as executor:
                feed_reports = list(executor.map(lambda f: _poll_one(ctx, f), feeds))
            stage_seconds["feeds"] = round(time.monotonic() - started, 3)

            started = time.monotonic()
            counts = _extract_pending(ctx, [f.id for f in feeds])
            stage_seconds["articles"] = round(time.monotonic() - started, 3)

            detection = DetectionCounts()
            if detect:
                started = time.monotonic()
                detection = detect_articles(engine, [f.id for f in feeds], settings=settings)
                stage_seconds["detect"] = round(time.monotonic() - started, 3)
    finally:
        if own_client:
            http.close()
        engine.dispose()
    return ShardReport(
        index=shard.index,
        feeds=tuple(feed_reports),
        articles=counts,
        article_failures=tuple(ctx.failures),
        detection=detection,
        stage_seconds=stage_seconds,
    )


def _poll_one(ctx: _ShardContext, feed: repo.FeedRow) -> FeedReport:
    try:
        return _poll_feed_row(ctx, feed)
    except Exception as exc:  # a bug in one feed's handling must not end the shard
        log.exception("unexpected error polling %s", feed.url)
        error = DyadError(f"internal error: {type(exc).__name__}: {exc}", item=feed.url)
        ctx.fail("feed", error)
        return FeedReport(
            url=feed.url,
            name=feed.name,
            status=FeedStatus.FAILED,
            error_kind=error.kind,
            error=str(error),
        )
    finally:
        ctx.progress("feeds", 0)


def _poll_feed_row(ctx: _ShardContext, feed: repo.FeedRow) -> FeedReport:
    s = ctx.settings
    started = time.monotonic()
    now = ctx.clock()
    if feed.next_poll_after is not None and feed.next_poll_after > now:
        return FeedReport(
            url=feed.url,
            name=feed.name,
            status=FeedStatus.BACKING_OFF,
            error=f"not polled before {feed.next_poll_after:%Y-%m-%d %H:%M} UTC "
            f"({feed.consecutive_failures} failures in a row)",
        )
    try:
        poll = poll_feed(ctx.client, feed.url, feed.validators, now, s.feeds)
    except DyadError as error:
        if isinstance(error, HostDeferred):
            status, retry_at = FeedStatus.DEFERRED, error.not_before
        else:
            status = FeedStatus.FAILED
            failures = feed.consecutive_failures + 1
            retry_at = repo.retry_time(
                now,
                failures,
                s.feeds.failure_backoff_base_minutes,
                s.feeds.failure_backoff_max_hours,
            )
            retry_at += timedelta(seconds=random.uniform(0, 60))
        ctx.fail("feed", error, feed.url)
        repo.save_feed_failure(ctx.engine, feed, error, status, now, retry_at)
        return FeedReport(
            url=feed.url,
            name=feed.name,
            status=status,
            error_kind=error.kind,
            error=str(error),
            seconds=round(time.monotonic() - started, 3),
        )
    if poll.final_url != feed.url:
        other = repo.duplicate_of(ctx.engine, feed.id, poll.final_url)
        if other is not None:
            repo.mark_feed_duplicate(ctx.engine, feed, other, now)
            return FeedReport(
                url=feed.url,
                name=feed.name,
                status=FeedStatus.DUPLICATE,
                error_kind="duplicate_feed",
                error=f"redirects to the same feed as {other}; not ingested twice",
            )
    if poll.parsed is None:
        repo.save_feed_success(
            ctx.engine, feed, poll, now, redirect_confirm=s.feeds.redirect_confirm_count
        )
        return FeedReport(
            url=feed.url,
            name=feed.name,
            status=FeedStatus.NOT_MODIFIED,
            seconds=round(time.monotonic() - started, 3),
        )
    parsed = poll.parsed
    outcomes = {"new": 0, "updated": 0, "duplicate": 0}
    store_failures = 0
    for entry in poll.parsed.entries:
        try:
            outcome = repo.store_entry(ctx.engine, feed.id, entry, now)
        except SQLAlchemyError as exc:
            store_failures += 1
            item = entry.link or entry.entry_key
            ctx.fail(
                "store",
                StoreError(
                    f"entry not stored: {exc.__class__.__name__}: {str(exc)[:300]}", item=item
                ),
            )
            continue
        outcomes[outcome.outcome] += 1
    warnings = list(poll.parsed.warnings)
    if poll.parsed.skipped:
        warnings.append(
            f"{poll.parsed.skipped} items beyond the {s.feeds.max_items}-item cap skipped"
        )
    if store_failures:
        warnings.append(f"{store_failures} entries could not be stored")
    # Validators only after the entries are committed: a crash before this line means the next
    # run fetches unconditionally and finds the same entries again (no loss, no duplicates).
    if store_failures:
        poll = poll.model_copy(update={"etag": None, "last_modified": None})
    repo.save_feed_success(
        ctx.engine,
        feed,
        poll,
        now,
        warnings=warnings,
        redirect_confirm=s.feeds.redirect_confirm_count,
    )
    return FeedReport(
        url=feed.url,
        name=feed.name,
        status=FeedStatus.OK,
        entries_seen=len(parsed.entries),
        entries_new=outcomes["new"],
        entries_updated=outcomes["updated"],
        entries_duplicate=outcomes["duplicate"],
        entries_skipped=parsed.skipped,
        warnings=tuple(warnings),
        seconds=round(time.monotonic() - started, 3),
    )


def _extract_pending(ctx: _ShardContext, feed_ids: Sequence[int]) -> ArticleCounts:
    s = ctx.settings
    pending = repo.pending_articles(ctx.engine, feed_ids, ctx.clock(), s.extract.max_attempts)
    ctx.progress("articles", len(pending))
    if not pending:
        return ArticleCounts()
    workers = max(1, min(s.extract.fetch_workers, len(pending)))
    with ThreadPoolExecutor(workers, thread_name_prefix="dyad-page") as executor:
        outcomes = list(executor.map(lambda a: _process_article(ctx, a), pending))
    return ArticleCounts(
        extracted=outcomes.count("extracted"),
        fallback=outcomes.count("fallback"),
        failed=outcomes.count("failed"),
        deferred=outcomes.count("pending"),
    )


def _process_article(ctx: _ShardContext, article: repo.PendingArticle) -> str:
    s = ctx.settings
    try:
        try:
            result = ctx.client.fetch(article.url, purpose="page")
            page = ctx.pool.extract(
                result.body, result.headers.get("content-type"), result.final_url
            )
        except DyadError as error:
            now = ctx.clock()
            final = not error.retryable or article.attempts + 1 >= s.extract.max_attempts
            retry_at = error.not_before if isinstance(error, HostDeferred) else None
            status = repo.save_article_failure(
                ctx.engine, article.id, error, now, final=final, retry_at=retry_at
            )
            ctx.fail("article", error, article.url)
            ctx.failures.append(
                ArticleFailure(
                    url=article.url,
                    kind=error.kind,
                    message=error.message,
                    fallback=status != "failed",
                )
            )
            return status
        digest = hashlib.sha256(page.text.encode("utf-8")).hexdigest()[:32]
        repo.save_extraction(ctx.engine, article.id, page, digest, ctx.clock())
        return "extracted"
    except SQLAlchemyError as exc:
        stored = StoreError(
            f"article not stored: {type(exc).__name__}: {str(exc)[:300]}", item=article.url
        )
        ctx.fail("store", stored)
        ctx.failures.append(
            ArticleFailure(
                url=article.url, kind=stored.kind, message=stored.message, fallback=False
            )
        )
        return "failed"
    finally:
        ctx.progress("articles", 0)


def record_failure_safely(
    engine: Engine,
    stage: str,
    error: DyadError,
    *,
    run_id: str | None = None,
    item: str | None = None,
    now: datetime | None = None,
) -> None:
    """Record one failure where ``dyad status`` shows it, never raising: when the store refuses
    the row too (it may just have failed a save), the log keeps the error."""
    try:
        repo.record_failure(engine, run_id, stage, error, now or utc_now(), item=item)
    except SQLAlchemyError as exc:
        log.error("failure not recorded (%s): %s", error, exc)


def detect_pending(settings: Settings) -> DetectionCounts:
    """Detection over every article whose text or gazetteer changed (the DAG's detect step)."""
    engine = open_engine(settings.effective_database_url)
    try:
        return detect_articles(engine, settings=settings)
    finally:
        engine.dispose()


def detect_articles(
    engine: Engine, feed_ids: Sequence[int] | None = None, *, settings: Settings | None = None
) -> DetectionCounts:
    """Run detection on articles whose text is new or whose gazetteer, model or thresholds
    changed; store results."""
    gazetteer = load_gazetteer()
    low = settings.detect.candidate_threshold if settings else None
    high = settings.detect.final_threshold if settings else None
    version = detection_version(gazetteer, None, low, high)
    checked = bilateral = 0
    dyads: dict[str, int] = {}
    for article in repo.articles_to_detect(engine, feed_ids, version):
        result = detect_dyads(
            article.title,
            article.text,
            article.published_at,
            gaz=gazetteer,
            candidate_threshold=low,
            final_threshold=high,
        )
        try:
            repo.save_detection(engine, article.id, result)
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


def start_ingest(
    settings: Settings, clock: Callable[[], datetime] = utc_now, run_id: str | None = None
) -> str:
    """Open a run row for an ingest and return its id (reused when ``run_id`` is given)."""
    engine = open_engine(settings.effective_database_url)
    try:
        return repo.start_run(engine, "ingest", clock(), run_id)
    finally:
        engine.dispose()


def finish_ingest(
    settings: Settings,
    run_id: str,
    started_at: datetime,
    shards: Sequence[ShardReport],
    clock: Callable[[], datetime] = utc_now,
) -> IngestReport:
    """Merge the shard reports, store the run's report and return it."""
    report = merge_shard_reports(run_id, started_at, clock(), list(shards))
    failed = report.feed_counts()["failed"] + report.articles.failed
    status = "partial" if failed else "success"
    engine = open_engine(settings.effective_database_url)
    try:
        repo.finish_run(engine, run_id, report.finished_at, status, report.model_dump(mode="json"))
    finally:
        engine.dispose()
    return report


def run_ingest(
    settings: Settings,
    feeds_file: Path | None = None,
    *,
    clock: Callable[[], datetime] = utc_now,
    progress: Progress = _noop,
) -> IngestReport:
    """Plan, ingest every feed in one shard (one client, one politeness gate), and finish."""
    started_at = clock()
    shards = plan_ingest(settings, feeds_file)
    run_id = start_ingest(settings, clock)
    everything = FeedShard(index=0, feed_urls=tuple(u for s in shards for u in s.feed_urls))
    report = ingest_shard(settings, everything, run_id, clock=clock, progress=progress)
    return finish_ingest(settings, run_id, started_at, [report], clock)


def record_airflow_failure(
    settings: Settings,
    *,
    dag_id: str,
    run_id: str,
    task_id: str,
    error: str,
    clock: Callable[[], datetime] = utc_now,
) -> None:
    """Store a failed Airflow task as a failed run (``dyad status`` lists it)."""
    engine = open_engine(settings.effective_database_url)
    try:
        now = clock()
        rid = f"airflow-{dag_id}-{run_id}-{task_id}"[:64]
        repo.start_run(engine, "airflow", now, rid)
        repo.finish_run(
            engine,
            rid,
            now,
            "failed",
            {"dag_id": dag_id, "run_id": run_id, "task_id": task_id, "error": error[:2000]},
        )
        repo.record_failure(
            engine, rid, "airflow", DyadError(error[:2000], item=f"{dag_id}.{task_id}"), now
        )
    finally:
        engine.dispose()


def reset_detection(
    settings: Settings, since: datetime, until: datetime, feed_url: str | None = None
) -> int:
    """Mark the articles first seen in [since, until] (of one feed, or all) for re-detection."""
    engine = open_engine(settings.effective_database_url)
    try:
        return repo.reset_detection(engine, since, until, feed_url)
    finally:
        engine.dispose()
