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
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from pydantic import Field
from sqlalchemy.exc import SQLAlchemyError

from pipeline.cluster import ClusterInput, cluster_stories
from pipeline.config import Settings
from pipeline.detect import load_gazetteer, pair_terms
from pipeline.errors import BudgetExhausted, LLMNoSummaries, LLMRateLimited, StoreError
from pipeline.jobs.ingest import record_failure_safely, utc_now
from pipeline.records import Record, Story
from pipeline.store import stories as repo
from pipeline.store.db import open_engine
from pipeline.summarize import PROMPT_VERSION, StoryInput, StorySummarizer, SummaryStatus
from pipeline.summarize.openai_chat import OpenAIChat
from pipeline.summarize.providers import RequestShape
from pipeline.summarize.tokens import tokenizer_name

log = logging.getLogger("dyad.jobs.summarize")

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
    engine = open_engine(settings.effective_database_url)
    try:
        articles = repo.bilateral_articles(
            engine, since, until, candidates=settings.llm.uses_openai
        )
        stories = _cluster(settings, articles)
        before = repo.story_hashes(engine, [s.id for s in stories])
        repo.save_stories(engine, stories, now)
    finally:
        engine.dispose()
    changed = tuple(s.id for s in stories if before.get(s.id) != s.content_hash)
    return ClusterReport(
        articles=len(articles), story_ids=tuple(s.id for s in stories), changed=changed
    )


def _cluster(settings: Settings, articles: list[repo.BilateralArticle]) -> list[Story]:
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
    kind = "reasoning" if chat.settings.is_reasoning_model else "chat"
    return f"{chat.profile.name}/{chat.settings.structured_output}/{kind}"


def _describe_shape(chat: OpenAIChat) -> str:
    shape = chat.shape
    temperature = "temperature" if shape.temperature else "no temperature"
    return f"{shape.structured}, {shape.limit_param}, {temperature}"


def _load_shape(engine: Any, chat: OpenAIChat) -> None:
    """Start from the shape this endpoint and model were last seen to accept, when it was
    learned on the same profile and settings."""
    stored = repo.endpoint_shape(engine, chat.endpoint, chat.settings.model)
    if stored and stored[0] == _shape_basis(chat):
        try:
            chat.shape = RequestShape(**stored[1])
        except TypeError:
            log.warning("ignoring a stored request shape of an older version: %s", stored[1])


def _save_shape(engine: Any, chat: OpenAIChat, now: datetime) -> None:
    if not chat.shape_changes:
        return
    repo.save_endpoint_shape(
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
    engine = open_engine(settings.effective_database_url)
    summarizer = StorySummarizer(settings.llm, chat=chat)
    local_only = summarizer.chat is None
    gazetteer = load_gazetteer()
    statuses: dict[str, int] = {}
    unchanged = cached = deferred = unconfirmed = waiting = attempted = model_summaries = 0
    failed_requests: dict[str, int] = {}
    known_codes = frozenset(gazetteer.names)
    input_tokens = output_tokens = calls = 0
    cost = 0.0
    deferred_reason: str | None = None
    try:
        if story_ids is None:
            found = repo.bilateral_articles(engine, since, until, candidates=not local_only)
            stories = _cluster(settings, found)
            repo.save_stories(engine, stories, now)
            article_count = len(found)
        else:
            stories = repo.load_stories(engine, story_ids)
            article_count = sum(len(s.article_ids) for s in stories)
        summarizer.state.tokens_today = repo.tokens_used_since(engine, repo.start_of_day(now))
        if summarizer.chat is not None:
            _load_shape(engine, summarizer.chat)
        # A story of candidate articles only is shown once the model confirms it; without the
        # model (local backend, deferred, fallback) it waits, unsummarised.
        final_ids = repo.confirmed_article_ids(
            engine, [i for story in stories for i in story.article_ids]
        )
        for story in stories:
            confirmed = not final_ids.isdisjoint(story.article_ids)
            if not confirmed and (local_only or deferred_reason is not None):
                unconfirmed += 1
                continue
            existing = repo.current_summary(engine, story.id)
            if not force and _retry_not_due(
                existing, story.content_hash, summarizer.model_name, now
            ):
                waiting += 1
                continue
            if not force and _is_current(
                existing, story.content_hash, summarizer.model_name, local_only
            ):
                unchanged += 1
                continue
            key = repo.cache_key(summarizer.model_name, PROMPT_VERSION, story.content_hash)
            hit = repo.cached_record(engine, key) if not (local_only or force) else None
            if hit is not None:
                repo.save_summary(
                    engine,
                    hit | {"usage": hit.get("usage", {}) | {"cached": True}},
                    now,
                    cache_key_value=None,
                )
                cached += 1
                statuses[hit["status"]] = statuses.get(hit["status"], 0) + 1
                continue
            codes = (story.dyad[:2], story.dyad[3:])
            item = StoryInput(
                story=story,
                articles=repo.story_articles(engine, story),
                names=(
                    gazetteer.names.get(codes[0], codes[0]),
                    gazetteer.names.get(codes[1], codes[1]),
                ),
                terms=pair_terms(gazetteer, codes),
                known_codes=known_codes,
            )
            if deferred_reason is None:
                try:
                    summary = summarizer.summarize(item, existing, now)
                    attempted += 1
                except (LLMRateLimited, BudgetExhausted) as exc:
                    deferred_reason = f"{exc.kind}: {exc}"
                    log.warning("deferring the remaining stories: %s", deferred_reason)
                _record_request_failures(engine, summarizer, run_id, now, failed_requests)
            if deferred_reason is not None:
                deferred += 1
                if existing is not None:
                    continue  # keep what the story has; the model gets it next run
                summary = summarizer.local(item, f"deferred to the next run ({deferred_reason})")
            if not confirmed and summary.backend != "openai":
                unconfirmed += 1  # the model did not answer: no local summary for a candidate
                if summary.error_kind is None:
                    continue
                # ... but its failure is kept, so the retry waits and the count is capped
                summary = summary.model_copy(
                    update={
                        "summary": None,
                        "status": SummaryStatus.FAILED
                        if summary.status == SummaryStatus.FAILED
                        else SummaryStatus.PENDING,
                    }
                )
            record = summary.model_dump(mode="json")
            cacheable = summary.backend == "openai" and summary.status in FINAL_WITH_MODEL
            try:
                repo.save_summary(engine, record, now, cache_key_value=key if cacheable else None)
                if summary.usage.calls:
                    repo.record_llm_usage(engine, run_id, record, now)
            except SQLAlchemyError as exc:
                error = StoreError(f"summary not stored: {exc}", item=story.id)
                log.error("%s", error)
                record_failure_safely(engine, "summarize", error, run_id=run_id, now=now)
                continue
            statuses[summary.status] = statuses.get(summary.status, 0) + 1
            if summary.backend == "openai" and summary.error_kind is None:
                model_summaries += 1
            elif summary.error_kind:
                log.warning("story %s: %s", story.id, summary.reason)
            calls += summary.usage.calls
            input_tokens += summary.usage.input_tokens
            output_tokens += summary.usage.output_tokens
            cost += summary.usage.cost_usd
        if summarizer.chat is not None:
            _save_shape(engine, summarizer.chat, now)
    finally:
        engine.dispose()
    notes = list(summarizer.state.notes)
    if summarizer.chat is not None and summarizer.chat.shape_changes:
        notes.append(
            "the endpoint refused part of the request; now sending "
            f"{_describe_shape(summarizer.chat)} ({summarizer.chat.shape_changes[-1]})"
        )
    if waiting:
        notes.append(f"{waiting} stories wait for their next model attempt (llm.retry_hours)")
    if failed_requests:
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(failed_requests.items()))
        notes.append(f"failed LLM requests: {kinds} (dyad status shows the reasons)")
    model_failed = not local_only and attempted > 0 and model_summaries == 0
    if model_failed:
        notes.append(
            f"the model produced no summary for any of the {attempted} stories sent to it; "
            "local or previous summaries are shown"
        )
    if deferred_reason:
        notes.append(f"{deferred} stories deferred to the next run: {deferred_reason}")
    if unconfirmed:
        notes.append(
            f"{unconfirmed} candidate stories (below the final detection threshold) wait for "
            "the model to confirm them"
        )
    return SummarizeReport(
        since=since,
        until=until,
        articles=article_count,
        stories=len(stories),
        unchanged=unchanged,
        cached=cached,
        statuses=statuses,
        deferred=deferred,
        calls=calls,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cost_usd=round(cost, 6),
        waiting=waiting,
        failed_requests=failed_requests,
        model_summaries=model_summaries,
        model_failed=model_failed,
        backend="local" if local_only else f"openai-compatible ({settings.llm.model})",
        tokenizer=tokenizer_name(),
        notes=tuple(notes),
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
