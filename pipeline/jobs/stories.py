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
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pydantic import Field
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from pipeline.cluster import ClusterInput, cluster_stories
from pipeline.config import Settings
from pipeline.detect import Gazetteer, load_gazetteer, pair_terms
from pipeline.errors import BudgetExhausted, LLMNoSummaries, LLMRateLimited, StoreError
from pipeline.jobs.runs import record_failure_safely, utc_now
from pipeline.records import Record, Story
from pipeline.store import open_store
from pipeline.store.stories import (
    BilateralArticle,
    bilateral_articles,
    cache_key,
    cached_record,
    confirmed_article_ids,
    current_summary,
    endpoint_shape,
    load_stories,
    record_llm_usage,
    save_endpoint_shape,
    save_stories,
    save_summary,
    start_of_day,
    story_articles,
    story_hashes,
    tokens_used_since,
)
from pipeline.summarize import (
    PROMPT_VERSION,
    StoryInput,
    StorySummarizer,
    StorySummary,
    SummaryStatus,
)
from pipeline.summarize.openai_chat import OpenAIChat
from pipeline.summarize.providers import RequestShape
from pipeline.summarize.tokens import tokenizer_name

log = logging.getLogger("dyad.jobs.stories")

FINAL_WITH_MODEL = frozenset(
    {SummaryStatus.VERIFIED, SummaryStatus.UNVERIFIED, SummaryStatus.REJECTED}
)
# Not sent to the model again until the story's content, the model or the prompt changes.
SETTLED = FINAL_WITH_MODEL | {SummaryStatus.FAILED}


class SummarizeReport(Record):
    """What one summarise run did: stories, statuses, calls, tokens and cost."""

    since: datetime
    until: datetime
    articles: int = 0
    stories: int = 0
    unchanged: int = 0
    cached: int = 0
    statuses: dict[str, int] = Field(default_factory=dict)
    deferred: int = 0
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    waiting: int = Field(0, description="stories whose model retry is not due yet")
    failed_requests: dict[str, int] = Field(
        default_factory=dict, description="failed LLM requests by error kind"
    )
    model_summaries: int = Field(0, description="stories the model summarised or rejected")
    model_failed: bool = Field(
        False, description="stories went to the model and none came back summarised"
    )
    backend: str = ""
    tokenizer: str = ""
    notes: tuple[str, ...] = ()
    seconds: float = 0.0


def _is_current(
    existing: dict[str, Any] | None, content_hash: str, model: str, local_only: bool
) -> bool:
    if not existing or existing.get("content_hash") != content_hash:
        return False
    made_by = existing.get("model_tried") or existing.get("model")
    if existing.get("prompt_version") != PROMPT_VERSION or made_by != model:
        return False
    status = existing.get("status")
    return status in SETTLED or (local_only and status == SummaryStatus.LOCAL)


def _retry_not_due(
    existing: dict[str, Any] | None, content_hash: str, model: str, now: datetime
) -> bool:
    """True when the story's last model reply was unusable and its retry time has not come
    (a change of content or of model makes it due at once)."""
    if not existing or existing.get("content_hash") != content_hash:
        return False
    if existing.get("model_tried") != model:
        return False
    after = existing.get("next_attempt_at")
    return bool(after) and datetime.fromisoformat(str(after)) > now


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
    )


def _shape_basis(chat: OpenAIChat) -> str:
    kind = "reasoning" if chat.reasoning else "chat"
    return f"{chat.profile.name}/{chat.settings.structured_output}/{kind}"


def _describe_shape(chat: OpenAIChat) -> str:
    shape = chat.shape
    temperature = "temperature" if shape.temperature else "no temperature"
    return f"{shape.structured}, {shape.limit_param}, {temperature}"


def _load_shape(engine: Any, chat: OpenAIChat) -> None:
    """Start from the shape this endpoint and model were last seen to accept, when it was
    learned on the same profile and settings."""
    stored = endpoint_shape(engine, chat.endpoint, chat.settings.model)
    if stored and stored[0] == _shape_basis(chat):
        try:
            chat.shape = RequestShape(**stored[1])
        except TypeError:
            log.warning("ignoring a stored request shape of an older version: %s", stored[1])


def _save_shape(engine: Any, chat: OpenAIChat, now: datetime) -> None:
    if not chat.shape_changes:
        return
    save_endpoint_shape(
        engine,
        chat.endpoint,
        chat.settings.model,
        basis=_shape_basis(chat),
        shape=asdict(chat.shape),
        reason=chat.shape_changes[-1],
        now=now,
    )


def _record_request_failures(
    engine: Any,
    summarizer: StorySummarizer,
    run_id: str | None,
    now: datetime,
    counts: dict[str, int],
) -> None:
    """One ``failures`` row per failed LLM request of the story just summarised."""
    for story_id, error in summarizer.state.failures:
        counts[error.kind] = counts.get(error.kind, 0) + 1
        record_failure_safely(engine, "summarize", error, run_id=run_id, item=story_id, now=now)
    summarizer.state.failures.clear()


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
    and the cache (a backfill with a new model). Never raises for one story."""
    started = time.monotonic()
    now = clock()
    until = until or now
    since = since or now - timedelta(days=7)
    summarizer = StorySummarizer(settings.llm, chat=chat)
    with open_store(settings) as engine:
        run = _SummaryRun(engine, summarizer, load_gazetteer(), now, run_id, force)
        if story_ids is None:
            found = bilateral_articles(engine, since, until, candidates=not run.local_only)
            stories = _cluster(settings, found)
            save_stories(engine, stories, now)
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
        **run.tally.figures(),
        backend="local" if run.local_only else f"openai-compatible ({settings.llm.model})",
        tokenizer=tokenizer_name(),
        notes=tuple(run.notes()),
        seconds=round(time.monotonic() - started, 3),
    )


@dataclass
class _Tally:
    """The counts a summarise run reports."""

    statuses: dict[str, int] = field(default_factory=dict)
    failed_requests: dict[str, int] = field(default_factory=dict)
    unchanged: int = 0
    cached: int = 0
    deferred: int = 0
    unconfirmed: int = 0
    waiting: int = 0
    attempted: int = 0
    model_summaries: int = 0
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    model_failed: bool = False

    def figures(self) -> dict[str, Any]:
        """The ``SummarizeReport`` fields these counts fill."""
        return {
            "unchanged": self.unchanged,
            "cached": self.cached,
            "statuses": self.statuses,
            "deferred": self.deferred,
            "calls": self.calls,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": round(self.cost, 6),
            "waiting": self.waiting,
            "failed_requests": self.failed_requests,
            "model_summaries": self.model_summaries,
            "model_failed": self.model_failed,
        }

    def count_status(self, status: str) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1


class _SummaryRun:
    """One summarise run over an open store: decides, per story, whether to skip it, reuse a
    cached record, ask the model (or the local backend), and stores the result."""

    def __init__(
        self,
        engine: Engine,
        summarizer: StorySummarizer,
        gazetteer: Gazetteer,
        now: datetime,
        run_id: str | None,
        force: bool,
    ) -> None:
        self.engine = engine
        self.summarizer = summarizer
        self.gazetteer = gazetteer
        self.known_codes = frozenset(gazetteer.names)
        self.now = now
        self.run_id = run_id
        self.force = force
        self.local_only = summarizer.chat is None
        self.deferred_reason: str | None = None
        self.tally = _Tally()

    def summarize_all(self, stories: Sequence[Story]) -> None:
        """Summarise every story, in order; the model's request shape is loaded before and
        saved after."""
        engine, chat = self.engine, self.summarizer.chat
        self.summarizer.state.tokens_today = tokens_used_since(engine, start_of_day(self.now))
        if chat is not None:
            _load_shape(engine, chat)
        # A story of candidate articles only is shown once the model confirms it; without the
        # model (local backend, deferred, fallback) it waits, unsummarised.
        final_ids = confirmed_article_ids(engine, [i for s in stories for i in s.article_ids])
        for story in stories:
            self.summarize_one(story, confirmed=not final_ids.isdisjoint(story.article_ids))
        if chat is not None:
            _save_shape(engine, chat, self.now)
        self.tally.model_failed = (
            not self.local_only and self.tally.attempted > 0 and self.tally.model_summaries == 0
        )

    def summarize_one(self, story: Story, *, confirmed: bool) -> None:
        """Bring one story's summary up to date (or leave it, and count why)."""
        if not confirmed and (self.local_only or self.deferred_reason is not None):
            self.tally.unconfirmed += 1
            return
        existing = current_summary(self.engine, story.id)
        if self._settled(story, existing):
            return
        key = cache_key(self.summarizer.model_name, PROMPT_VERSION, story.content_hash)
        if self._reuse_cached(key):
            return
        summary = self._summarize(story, existing)
        if summary is None:
            return
        if not confirmed and summary.backend != "openai":
            self.tally.unconfirmed += 1  # the model did not answer: no local summary here
            if summary.error_kind is None:
                return
            summary = _failure_only(summary)  # its failure is kept: the retry waits
        self._store(story, summary, key)

    def _settled(self, story: Story, existing: dict[str, Any] | None) -> bool:
        """True (and counted) when the story's stored summary needs no new attempt now."""
        if self.force:
            return False
        model = self.summarizer.model_name
        if _retry_not_due(existing, story.content_hash, model, self.now):
            self.tally.waiting += 1
            return True
        if _is_current(existing, story.content_hash, model, self.local_only):
            self.tally.unchanged += 1
            return True
        return False

    def _reuse_cached(self, key: str) -> bool:
        """Store the cached model record of the same content, model and prompt, if any."""
        if self.local_only or self.force:
            return False
        hit = cached_record(self.engine, key)
        if hit is None:
            return False
        record = hit | {"usage": hit.get("usage", {}) | {"cached": True}}
        save_summary(self.engine, record, self.now, cache_key_value=None)
        self.tally.cached += 1
        self.tally.count_status(hit["status"])
        return True

    def _summarize(self, story: Story, existing: dict[str, Any] | None) -> StorySummary | None:
        """The story's new summary: the model's (or the local one), a local one when the model
        is deferred, or None when a deferred story keeps what it has."""
        item = self._story_input(story)
        if self.deferred_reason is None:
            try:
                summary = self.summarizer.summarize(item, existing, self.now)
                self.tally.attempted += 1
            except (LLMRateLimited, BudgetExhausted) as exc:
                self.deferred_reason = f"{exc.kind}: {exc}"
                log.warning("deferring the remaining stories: %s", self.deferred_reason)
            _record_request_failures(
                self.engine, self.summarizer, self.run_id, self.now, self.tally.failed_requests
            )
            if self.deferred_reason is None:
                return summary
        self.tally.deferred += 1
        if existing is not None:
            return None  # keep what the story has; the model gets it next run
        return self.summarizer.local(item, f"deferred to the next run ({self.deferred_reason})")

    def _story_input(self, story: Story) -> StoryInput:
        codes = (story.dyad[:2], story.dyad[3:])
        names = self.gazetteer.names
        return StoryInput(
            story=story,
            articles=story_articles(self.engine, story),
            names=(names.get(codes[0], codes[0]), names.get(codes[1], codes[1])),
            terms=pair_terms(self.gazetteer, codes),
            known_codes=self.known_codes,
        )

    def _store(self, story: Story, summary: StorySummary, key: str) -> None:
        """Save the summary (cached when the model made it) and its usage; count it."""
        record = summary.model_dump(mode="json")
        cacheable = summary.backend == "openai" and summary.status in FINAL_WITH_MODEL
        try:
            save_summary(self.engine, record, self.now, cache_key_value=key if cacheable else None)
            if summary.usage.calls:
                record_llm_usage(self.engine, self.run_id, record, self.now)
        except SQLAlchemyError as exc:
            error = StoreError(f"summary not stored: {exc}", item=story.id)
            log.error("%s", error)
            record_failure_safely(self.engine, "summarize", error, run_id=self.run_id, now=self.now)
            return
        tally = self.tally
        tally.count_status(summary.status)
        if summary.backend == "openai" and summary.error_kind is None:
            tally.model_summaries += 1
        elif summary.error_kind:
            log.warning("story %s: %s", story.id, summary.reason)
        tally.calls += summary.usage.calls
        tally.input_tokens += summary.usage.input_tokens
        tally.output_tokens += summary.usage.output_tokens
        tally.cost += summary.usage.cost_usd

    def notes(self) -> list[str]:
        """What the reader of the report should know about this run, in plain words."""
        tally, chat = self.tally, self.summarizer.chat
        notes = list(self.summarizer.state.notes)
        if chat is not None and chat.shape_changes:
            notes.append(
                "the endpoint refused part of the request; now sending "
                f"{_describe_shape(chat)} ({chat.shape_changes[-1]})"
            )
        if tally.waiting:
            notes.append(
                f"{tally.waiting} stories wait for their next model attempt (llm.retry_hours)"
            )
        if tally.failed_requests:
            kinds = ", ".join(f"{n} {k}" for k, n in sorted(tally.failed_requests.items()))
            notes.append(f"failed LLM requests: {kinds} (dyad status shows the reasons)")
        if tally.model_failed:
            notes.append(
                f"the model produced no summary for any of the {tally.attempted} stories sent "
                "to it; local or previous summaries are shown"
            )
        if self.deferred_reason:
            notes.append(
                f"{tally.deferred} stories deferred to the next run: {self.deferred_reason}"
            )
        if tally.unconfirmed:
            notes.append(
                f"{tally.unconfirmed} candidate stories (below the final detection threshold) "
                "wait for the model to confirm them"
            )
        return notes


def _failure_only(summary: StorySummary) -> StorySummary:
    """A candidate story's failed model attempt without its local text: kept so the retry
    waits and the attempts are capped, but nothing is shown."""
    failed = summary.status == SummaryStatus.FAILED
    return summary.model_copy(
        update={
            "summary": None,
            "status": SummaryStatus.FAILED if failed else SummaryStatus.PENDING,
        }
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
