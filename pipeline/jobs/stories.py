"""Summarise: the window's bilateral articles become stories, and each story gets one summary.

Cost control, each part measured in the report: only articles that passed detection are
clustered; one model call per story (plus at most a repair or a regrounding); story text trimmed
to ``llm.input_token_budget``; a cache keyed by (model, prompt version, story content hash), so a
re-run makes no call; a daily token budget that stops calling and says so; usage recorded per
story (``llm_calls``). A long Retry-After or a spent budget defers the remaining stories: they
keep (or get) a local summary now and are sent to the model on a later run.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from pydantic import ConfigDict, Field

from pipeline.cluster import ClusterInput, cluster_stories
from pipeline.config import Settings
from pipeline.detect import load_gazetteer
from pipeline.errors import LLMNoSummaries
from pipeline.jobs.runs import utc_now
from pipeline.jobs.summary_run import SummaryCounts, SummaryRun
from pipeline.jobs.threads import link_threads
from pipeline.records import Record, Story
from pipeline.store import open_store
from pipeline.store.stories import (
    BilateralArticle,
    bilateral_articles,
    load_stories,
    save_stories,
    story_hashes,
)
from pipeline.summarize import StorySummarizer
from pipeline.summarize.openai_chat import OpenAIChat
from pipeline.summarize.tokens import tokenizer_name

log = logging.getLogger("dyad.jobs.stories")


class SummarizeReport(SummaryCounts):
    """What one summarise run did: the window, stories, statuses, calls, tokens and cost."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    since: datetime
    until: datetime
    articles: int = 0
    stories: int = 0
    backend: str = ""
    tokenizer: str = ""
    notes: tuple[str, ...] = ()
    seconds: float = 0.0


class ClusterReport(Record):
    """What clustering found: the window's stories and which of them changed."""

    articles: int
    story_ids: tuple[str, ...]
    changed: tuple[str, ...] = Field(description="new stories, or stories whose articles changed")


def cluster_window(
    settings: Settings,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> ClusterReport:
    """Cluster the bilateral articles first seen in [since, until] (default: the last 7 days)
    into stories, store them, and say which are new or changed."""
    now = clock()
    until, since = until or now, since or now - timedelta(days=7)
    with open_store(settings) as engine:
        articles = bilateral_articles(engine, since, until, candidates=settings.llm.uses_openai)
        stories = _cluster(settings, articles)
        before = story_hashes(engine, [s.id for s in stories])
        save_stories(engine, stories, now)
        link_threads(engine, settings, stories, articles)
    changed = tuple(s.id for s in stories if before.get(s.id) != s.content_hash)
    return ClusterReport(
        articles=len(articles), story_ids=tuple(s.id for s in stories), changed=changed
    )


def _cluster(settings: Settings, articles: list[BilateralArticle]) -> list[Story]:
    return cluster_stories(
        [
            ClusterInput(
                a.id, a.dyad, a.seen_at, a.text, a.outlet, a.canonical_url, a.actor, a.target
            )
            for a in articles
        ],
        window=timedelta(hours=settings.cluster.window_hours),
        similarity=settings.cluster.similarity,
        num_perm=settings.cluster.num_perm,
        lsh_rows=settings.cluster.lsh_rows,
        exact_neighbours=settings.cluster.exact_neighbours,
        max_story_articles=settings.cluster.max_story_articles,
    )


def summarize_stories(
    settings: Settings,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    story_ids: Sequence[str] | None = None,
    clock: Callable[[], datetime] = utc_now,
    chat: OpenAIChat | None = None,
    run_id: str | None = None,
    force: bool = False,
) -> SummarizeReport:
    """Bring the summaries of stories up to date: the stories given by id (already clustered,
    e.g. by the DAG's cluster step), or else those clustered now from the bilateral articles
    first seen in [since, until] (default: the last 7 days). ``force`` ignores stored summaries
    and the cache (a backfill with a new model). Never raises for one story: a story whose
    summary fails unexpectedly is recorded (``summary_crashed``) and the run goes on; raises
    ``SummaryCrashed`` only when that happened to every story of the run."""
    started = time.monotonic()
    now = clock()
    until = until or now
    since = since or now - timedelta(days=7)
    summarizer = StorySummarizer(settings.llm, chat=chat)
    with open_store(settings) as engine:
        zone = ZoneInfo(settings.digest.timezone)
        run = SummaryRun(engine, summarizer, load_gazetteer(), now, run_id, force, zone)
        if story_ids is None:
            found = bilateral_articles(engine, since, until, candidates=not run.local_only)
            stories = _cluster(settings, found)
            save_stories(engine, stories, now)
            link_threads(engine, settings, stories, found)
            article_count = len(found)
        else:
            stories = load_stories(engine, story_ids)
            article_count = sum(len(s.article_ids) for s in stories)
        run.summarize_all(stories)
    return SummarizeReport(
        since=since,
        until=until,
        articles=article_count,
        stories=len(stories),
        **run.tally.model_dump(),
        backend="local" if run.local_only else f"openai-compatible ({settings.llm.model})",
        tokenizer=tokenizer_name(),
        notes=tuple(run.notes()),
        seconds=round(time.monotonic() - started, 3),
    )


def check_model_outcome(settings: Settings, report: SummarizeReport) -> None:
    """Raise ``LLMNoSummaries`` when the run sent stories to the model and none came back
    summarised, unless ``llm.on_no_summary`` is ``warn`` (then only log it). Called after the
    report is shown and the local summaries are stored, so nothing is lost by failing."""
    if not report.model_failed:
        return
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(report.failed_requests.items())) or "none"
    message = (
        f"the model ({settings.llm.model}) produced no summary this run; failed requests: "
        f"{kinds}; see dyad status"
    )
    if settings.llm.on_no_summary == "warn":
        log.warning("%s", message)
        return
    raise LLMNoSummaries(message)
