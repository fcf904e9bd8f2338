"""Ingest: feeds in, articles extracted and checked for a country pair, stored.

Ingest is three steps so Airflow can map the middle one over shards:

1. ``plan_ingest``: load the feed list, upsert it into the store, cut enabled feeds into shards.
2. ``ingest_shard``: poll each feed of the shard (conditional GET, parse, store entries, then
   save validators) and, as each feed is done, fetch and extract the pages of its new articles
   while the other feeds are polled (``pipeline.jobs.pages``); bilateral-relations detection
   runs on each page in the extraction worker that extracted it, then on the remaining
   articles whose text (or the gazetteer) changed (feed text kept when a page failed). Every
   failure is caught per item, stored as a failure row and reported; the shard always finishes.
3. ``finish_ingest``: merge shard reports and close the run row.

``run_ingest`` does all three in one process (the CLI).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from pipeline.config import Settings
from pipeline.extract import ExtractorPool
from pipeline.feeds import load_feed_list
from pipeline.http import HttpClient, build_client
from pipeline.jobs.detection import detect_articles
from pipeline.jobs.page_work import DetectInput
from pipeline.jobs.pages import page_detection_counts, poll_and_extract
from pipeline.jobs.runs import utc_now
from pipeline.jobs.shard import Progress, ShardContext, no_progress
from pipeline.memory import pin_mmap_threshold
from pipeline.records import (
    DetectionCounts,
    FeedShard,
    IngestReport,
    ShardReport,
    merge_shard_reports,
)
from pipeline.store import open_store
from pipeline.store.feeds import load_feeds, sync_feeds
from pipeline.store.hosts import StoreSchedule
from pipeline.store.runs import finish_run, start_run

WORKER_PRELOAD = ("pipeline.feeds.parse", "pipeline.detect", "pipeline.jobs.page_work")
"""What the extraction workers import besides ``pipeline.extract.page``: they also parse feeds
and run detection on the pages they extract."""


def _page_detect(settings: Settings, detect: bool) -> DetectInput | None:
    """The thresholds detection with the pages uses; None when the shard does not detect."""
    if not detect:
        return None
    low, high = settings.detect.candidate_threshold, settings.detect.final_threshold
    return DetectInput("", None, low, high)


def plan_ingest(settings: Settings, feeds_file: Path | None = None) -> list[FeedShard]:
    """Upsert the feed list into the store and return its enabled feeds in shards."""
    specs = load_feed_list(feeds_file or settings.feeds_file)
    with open_store(settings) as engine:
        sync_feeds(engine, specs)
    urls = [spec.url for spec in specs if spec.enabled]
    size = settings.feeds.shard_size
    return [
        FeedShard(index=i, feed_urls=tuple(urls[start : start + size]))
        for i, start in enumerate(range(0, len(urls), size))
    ]


def ingest_shard(
    settings: Settings,
    shard: FeedShard | Mapping[str, Any],
    run_id: str,
    *,
    client: HttpClient | None = None,
    clock: Callable[[], datetime] = utc_now,
    progress: Progress = no_progress,
    detect: bool = True,
) -> ShardReport:
    """Poll the shard's feeds, store their entries and extract their new articles' pages as
    each feed is done (and, unless ``detect`` is off because a separate step does it, run
    detection on them: with the pages in the extraction workers, then on the rest).

    Never raises for a single feed or article: those failures are stored and reported.
    Raises ``StoreError`` / ``SchemaMismatch`` only when the store itself cannot be opened.
    ``shard`` may be the JSON form a DAG task passed on.
    """
    shard = FeedShard.model_validate(shard)
    pin_mmap_threshold()  # page bodies back to the system when freed (pipeline.memory)
    own_client = client is None
    http = client or build_client(settings)
    try:
        with (
            open_store(settings) as engine,
            ExtractorPool(settings.extract, preload=WORKER_PRELOAD) as pool,
        ):
            http.gate.shared = StoreSchedule(engine)  # polite across processes too
            ctx = ShardContext(
                settings,
                engine,
                http,
                pool,
                run_id,
                clock,
                progress,
                detect=_page_detect(settings, detect),
            )
            feeds = load_feeds(engine, shard.feed_urls)
            feed_reports, counts, stage_seconds = poll_and_extract(ctx, feeds)
            detection = DetectionCounts()
            if detect:
                started = time.monotonic()
                after = detect_articles(engine, [f.id for f in feeds], settings=settings)
                detection = page_detection_counts(ctx, after)
                stage_seconds["detect"] = round(time.monotonic() - started, 3)
    finally:
        http.gate.shared = None
        if own_client:
            http.close()
    return ShardReport(
        index=shard.index,
        feeds=tuple(feed_reports),
        articles=counts,
        article_failures=tuple(ctx.failures),
        detection=detection,
        stage_seconds=stage_seconds,
    )


def start_ingest(
    settings: Settings, clock: Callable[[], datetime] = utc_now, run_id: str | None = None
) -> str:
    """Open a run row for an ingest and return its id (reused when ``run_id`` is given)."""
    with open_store(settings) as engine:
        return start_run(engine, "ingest", clock(), run_id)


def finish_ingest(
    settings: Settings,
    run_id: str,
    started_at: datetime,
    shards: Sequence[ShardReport | Mapping[str, Any]],
    clock: Callable[[], datetime] = utc_now,
) -> IngestReport:
    """Merge the shard reports (or their JSON forms), store the run's report and return it."""
    reports = [ShardReport.model_validate(s) for s in shards]
    report = merge_shard_reports(run_id, started_at, clock(), reports)
    failed = report.feed_counts()["failed"] + report.articles.failed
    status = "partial" if failed else "success"
    with open_store(settings) as engine:
        finish_run(engine, run_id, report.finished_at, status, report.model_dump(mode="json"))
    return report


def run_ingest(
    settings: Settings,
    feeds_file: Path | None = None,
    *,
    clock: Callable[[], datetime] = utc_now,
    progress: Progress = no_progress,
) -> IngestReport:
    """Plan, ingest every feed in one shard (one client, one politeness gate), and finish."""
    started_at = clock()
    shards = plan_ingest(settings, feeds_file)
    run_id = start_ingest(settings, clock)
    everything = FeedShard(index=0, feed_urls=tuple(u for s in shards for u in s.feed_urls))
    report = ingest_shard(settings, everything, run_id, clock=clock, progress=progress)
    return finish_ingest(settings, run_id, started_at, [report], clock)
