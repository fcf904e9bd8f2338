"""One ingest shard's pages, fetched while its feeds are still being polled.

As soon as a feed's entries are stored, that feed's articles whose page is due are queued for
the page threads (each article once, even when several feeds carry it); the feed threads go on
with the next feeds meanwhile, so the first pages are fetched before the last feed answers.
Each page is fetched by the shared HTTP client (robots.txt and per-host spacing as ever),
extracted and (when the shard detects) checked for a country pair in an extraction worker
(``pipeline.jobs.page_work``), and stored here in one statement. Every failure is caught per
article, stored as a failure row and reported; nothing here raises for one article.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy.exc import SQLAlchemyError

from pipeline.errors import DyadError, HostDeferred, StoreError
from pipeline.jobs.page_work import PAGE_WORK_TASK, DetectInput, PageWork
from pipeline.jobs.shard import ShardContext, poll_one
from pipeline.records import (
    ArticleCounts,
    ArticleFailure,
    ArticleStatus,
    DetectionCounts,
    FeedReport,
)
from pipeline.store.articles import (
    PendingArticle,
    claim_article,
    pending_article,
    pending_articles,
    save_article_failure,
    save_extraction,
)
from pipeline.store.feeds import StoredFeed

ARTICLE_LEASE = timedelta(minutes=15)
"""How long a claimed article is left to this run (fetch + extraction take far less)."""


CHANGED_MEANWHILE = "changed meanwhile"
"""``process_article``'s outcome when a feed changed the item while its page was fetched: the
page was not stored and the article is pending again (``PageQueue`` fetches it once more)."""


class PageQueue:
    """The shard's page work, run by the page threads: each feed's due articles, each article
    once, and once more when a feed of the run changed its item while or after its page was
    fetched (``ShardContext.changed``)."""

    def __init__(self, ctx: ShardContext, executor: ThreadPoolExecutor) -> None:
        self._ctx = ctx
        self._executor = executor
        self._lock = threading.Lock()
        self._queued: dict[int, Future[str]] = {}
        self._futures: list[Future[str]] = []

    def _wanted(self, article_id: int) -> bool:
        """Not queued yet, or done and changed since by a feed (``ShardContext.changed``)."""
        earlier = self._queued.get(article_id)
        return earlier is None or (earlier.done() and article_id in self._ctx.changed)

    def _submit(self, article: PendingArticle) -> None:
        """Queue one article (the lock held)."""
        self._ctx.changed.discard(article.id)  # only a change after this counts
        future = self._executor.submit(self._run, article)
        self._queued[article.id] = future
        self._futures.append(future)

    def add_feed(self, feed_id: int) -> None:
        """Queue the feed's articles whose page is due and that are wanted (``_wanted``)."""
        s = self._ctx.settings
        now = self._ctx.clock()
        due = pending_articles(self._ctx.engine, [feed_id], now, s.extract.max_attempts)
        with self._lock:
            fresh = [a for a in due if self._wanted(a.id)]
            if not fresh:
                return
            self._ctx.progress("articles", len(fresh))
            for article in fresh:
                self._submit(article)

    def _run(self, article: PendingArticle) -> str:
        """``process_article``, then the article queued again when a feed changed its item
        meanwhile (the new future counts it; a change that is not fetched again in this run
        leaves the article pending, counted as deferred)."""
        status = process_article(self._ctx, article)
        with self._lock:
            if article.id not in self._ctx.changed:
                return ArticleStatus.PENDING if status == CHANGED_MEANWHILE else status
            s = self._ctx.settings
            now = self._ctx.clock()
            again = pending_article(self._ctx.engine, article.id, now, s.extract.max_attempts)
            if again is None:
                return ArticleStatus.PENDING if status == CHANGED_MEANWHILE else status
            self._ctx.progress("articles", 1)
            self._submit(again)
        return status

    def counts(self) -> ArticleCounts:
        """Wait for every queued page (also those queued again meanwhile) and count the
        outcomes; a fetch whose page was not stored because a feed changed the item meanwhile
        is not counted (the fetch after the change is)."""
        outcomes: Counter[str] = Counter()
        counted = 0
        while True:  # a page may queue its article again before its own future is done
            with self._lock:
                futures = self._futures[counted:]
            if not futures:
                break
            outcomes.update(f.result() for f in futures)
            counted += len(futures)
        return ArticleCounts(
            extracted=outcomes[ArticleStatus.EXTRACTED],
            fallback=outcomes[ArticleStatus.FALLBACK],
            failed=outcomes[ArticleStatus.FAILED],
            deferred=outcomes[ArticleStatus.PENDING],
        )


def poll_and_extract(
    ctx: ShardContext, feeds: Sequence[StoredFeed]
) -> tuple[list[FeedReport], ArticleCounts, dict[str, float]]:
    """Poll the feeds (``feeds.poll_workers`` threads) and fetch, extract and store the pages of
    each feed's due articles (``extract.fetch_workers`` threads) as soon as that feed is done.
    Returns the feed reports in the order of ``feeds``, the article counts and the stage
    times: "feeds" until the last feed was polled, "articles" from then until the last page
    was stored (the pages fetched meanwhile overlap the feeds stage)."""
    s = ctx.settings
    started = time.monotonic()
    ctx.progress("feeds", len(feeds))
    ctx.progress("articles", 0)
    with ThreadPoolExecutor(s.extract.fetch_workers, thread_name_prefix="dyad-page") as pages:
        queue = PageQueue(ctx, pages)

        def poll_then_queue(feed: StoredFeed) -> FeedReport:
            report = poll_one(ctx, feed)
            queue.add_feed(feed.id)  # also pages left due by earlier runs, as before
            return report

        workers = max(1, min(s.feeds.poll_workers, len(feeds)))
        with ThreadPoolExecutor(workers, thread_name_prefix="dyad-feed") as executor:
            reports = list(executor.map(poll_then_queue, feeds))
        feeds_done = time.monotonic()
        counts = queue.counts()
    seconds = {
        "feeds": round(feeds_done - started, 3),
        "articles": round(time.monotonic() - feeds_done, 3),
    }
    return reports, counts, seconds


def page_detection_counts(ctx: ShardContext, after: DetectionCounts) -> DetectionCounts:
    """``after`` (detection run after the pages) plus the detections stored with the pages."""
    dyads = Counter(after.dyads)
    bilateral = after.bilateral
    for dyad in ctx.detected:
        if dyad:
            bilateral += 1
            dyads[dyad] += 1
    return DetectionCounts(
        checked=after.checked + len(ctx.detected), bilateral=bilateral, dyads=dict(dyads)
    )


def _detect_input(ctx: ShardContext, article: PendingArticle) -> DetectInput | None:
    if ctx.detect is None:
        return None
    return DetectInput(
        article.title,
        article.published_at,
        ctx.detect.candidate_threshold,
        ctx.detect.final_threshold,
    )


def process_article(ctx: ShardContext, article: PendingArticle) -> str:
    """Claim, fetch, extract (and detect in the worker), store one article; its new status, or
    ``CHANGED_MEANWHILE`` when a feed changed its item during the fetch (nothing stored)."""
    try:
        if not claim_article(ctx.engine, article.id, ctx.clock(), ARTICLE_LEASE):
            return ArticleStatus.PENDING  # another ingest has it now
        try:
            result = ctx.client.fetch(article.url, purpose="page")
            work: PageWork = ctx.pool.work(
                PAGE_WORK_TASK,
                result.body,
                result.headers.get("content-type"),
                result.final_url,
                _detect_input(ctx, article),
            )
        except DyadError as error:
            return _save_failure(ctx, article, error)
        saved = save_extraction(
            ctx.engine,
            article.id,
            work.page,
            work.content_hash,
            ctx.clock(),
            work.detection,
            entry_hash=article.entry_hash,
        )
        if not saved:
            return CHANGED_MEANWHILE
        if work.detection is not None:
            detection = work.detection
            ctx.detected.append(detection.dyad if detection.bilateral else None)
        return ArticleStatus.EXTRACTED
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
        return ArticleStatus.FAILED
    finally:
        ctx.progress("articles", 0)


def _save_failure(ctx: ShardContext, article: PendingArticle, error: DyadError) -> str:
    """Keep the feed's text for an article whose page failed; store and report the failure."""
    now = ctx.clock()
    final = not error.retryable or article.attempts + 1 >= ctx.settings.extract.max_attempts
    retry_at = error.not_before if isinstance(error, HostDeferred) else None
    status = save_article_failure(
        ctx.engine, article.id, error, now, final=final, retry_at=retry_at
    )
    ctx.fail("article", error, article.url)
    ctx.failures.append(
        ArticleFailure(
            url=article.url,
            kind=error.kind,
            message=error.message,
            fallback=status != ArticleStatus.FAILED,
        )
    )
    return status
