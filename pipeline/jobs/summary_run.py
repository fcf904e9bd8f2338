"""One summarise run over an open store: per story, skip it (settled, or its retry not due),
reuse the cached model record, or ask the model (or the local backend); store and count the
result. ``jobs.stories.summarize_stories`` drives it."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime, tzinfo
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from pipeline.detect import Gazetteer, pair_terms
from pipeline.errors import BudgetExhausted, LLMRateLimited, StoreError, SummaryCrashed
from pipeline.jobs.runs import record_failure_safely
from pipeline.jobs.speakers import GazetteerReader, speakers_of
from pipeline.jobs.threads import earlier_story
from pipeline.records import Story
from pipeline.store.stories import (
    cache_key,
    cached_record,
    confirmed_article_ids,
    current_summary,
    endpoint_shape,
    record_llm_usage,
    save_endpoint_shape,
    save_summary,
    start_of_day,
    story_articles,
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
from pipeline.summarize.service import EarlierStory

log = logging.getLogger("dyad.jobs.stories")

FINAL_WITH_MODEL = frozenset(
    {SummaryStatus.VERIFIED, SummaryStatus.UNVERIFIED, SummaryStatus.REJECTED}
)
# Not sent to the model again until the story's content, the model or the prompt changes.
SETTLED = FINAL_WITH_MODEL | {SummaryStatus.FAILED}


def _continues(earlier: EarlierStory | None) -> str | None:
    return earlier.link.previous_story_id if earlier else None


def _is_current(
    existing: dict[str, Any] | None,
    content_hash: str,
    model: str,
    local_only: bool,
    continues: str | None = None,
) -> bool:
    """True when the stored summary is of the same content, in the same thread place (the
    story it continues: a new link means a summary that says what is new since), by the same
    model and prompt, and settled."""
    if not existing or existing.get("content_hash") != content_hash:
        return False
    if (existing.get("thread") or {}).get("previous_story_id") != continues:
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


class SummaryCounts(BaseModel):
    """What a summarise run counts, as it goes; ``SummarizeReport`` carries them, frozen."""

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
    crashed: int = Field(0, description="stories not summarised: an unexpected error")
    model_summaries: int = Field(0, description="stories the model summarised or rejected")
    model_failed: bool = Field(
        False, description="stories went to the model and none came back summarised"
    )

    def count_status(self, status: str) -> None:
        """One more story stored with ``status``."""
        self.statuses[status] = self.statuses.get(status, 0) + 1


class SummaryRun:
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
        timezone: tzinfo = UTC,
    ) -> None:
        self.engine = engine
        self.summarizer = summarizer
        self.gazetteer = gazetteer
        self.known_codes = frozenset(gazetteer.names)
        self.speakers = speakers_of(gazetteer)
        self.reader = GazetteerReader(gazetteer)
        self.now = now
        self.run_id = run_id
        self.force = force
        self.timezone = timezone  # the digest's: "since 24 November" is the reader's day
        self.local_only = summarizer.chat is None
        self.deferred_reason: str | None = None
        self.tally = SummaryCounts()
        self.unconfirmed = 0  # candidate stories left for the model to confirm
        self.attempted = 0  # stories sent to the model

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
            try:
                self.summarize_one(story, confirmed=not final_ids.isdisjoint(story.article_ids))
            except SQLAlchemyError:
                raise  # the store itself failed: the run fails, as any store failure does
            except Exception as exc:  # a bug on one story must not cost the others
                self._crashed(story, exc)
        if stories and self.tally.crashed == len(stories):
            raise SummaryCrashed(
                f"no summary made: all {len(stories)} stories failed unexpectedly "
                "(dyad status shows each error)"
            )
        if chat is not None:
            _save_shape(engine, chat, self.now)
        self.tally.model_failed = (
            not self.local_only and self.attempted > 0 and self.tally.model_summaries == 0
        )
        self.tally.cost_usd = round(self.tally.cost_usd, 6)

    def _crashed(self, story: Story, exc: Exception) -> None:
        """Log and record a story whose summary failed unexpectedly (not the store: that fails
        the run); it keeps what it had. When every story of the run fails so, the run fails."""
        log.exception("story %s not summarised", story.id)
        error = SummaryCrashed(f"summary not made: {type(exc).__name__}: {exc}"[:2000])
        record_failure_safely(
            self.engine, "summarize", error, run_id=self.run_id, item=story.id, now=self.now
        )
        self.tally.crashed += 1

    def summarize_one(self, story: Story, *, confirmed: bool) -> None:
        """Bring one story's summary up to date (or leave it, and count why)."""
        if not confirmed and (self.local_only or self.deferred_reason is not None):
            self.unconfirmed += 1
            return
        existing = current_summary(self.engine, story.id)
        earlier = earlier_story(self.engine, story.id, self.timezone)
        if self._settled(story, existing, _continues(earlier)):
            return
        # a linked story's summary depends on the story it continues: cached apart
        content = "|".join(filter(None, (story.content_hash, _continues(earlier))))
        key = cache_key(self.summarizer.model_name, PROMPT_VERSION, content)
        if self._reuse_cached(key):
            return
        summary = self._summarize(story, existing, earlier)
        if summary is None:
            return
        if not confirmed and summary.backend != "openai":
            self.unconfirmed += 1  # the model did not answer: no local summary here
            if summary.error_kind is None:
                return
            summary = _failure_only(summary)  # its failure is kept: the retry waits
        self._store(story, summary, key)

    def _settled(
        self, story: Story, existing: dict[str, Any] | None, continues: str | None
    ) -> bool:
        """True (and counted) when the story's stored summary needs no new attempt now."""
        if self.force:
            return False
        model = self.summarizer.model_name
        if _retry_not_due(existing, story.content_hash, model, self.now):
            self.tally.waiting += 1
            return True
        if _is_current(existing, story.content_hash, model, self.local_only, continues):
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

    def _summarize(
        self, story: Story, existing: dict[str, Any] | None, earlier: EarlierStory | None
    ) -> StorySummary | None:
        """The story's new summary: the model's (or the local one), a local one when the model
        is deferred, or None when a deferred story keeps what it has."""
        item = self._story_input(story, earlier)
        if self.deferred_reason is None:
            try:
                summary = self.summarizer.summarize(item, existing, self.now)
                self.attempted += 1
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

    def _story_input(self, story: Story, earlier: EarlierStory | None = None) -> StoryInput:
        codes = (story.dyad[:2], story.dyad[3:])
        names = self.gazetteer.names
        return StoryInput(
            story=story,
            articles=story_articles(self.engine, story),
            names=(names.get(codes[0], codes[0]), names.get(codes[1], codes[1])),
            terms=pair_terms(self.gazetteer, codes),
            known_codes=self.known_codes,
            earlier=earlier,
            speakers=self.speakers,
            reader=self.reader,
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
        tally.cost_usd += summary.usage.cost_usd

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
        if tally.crashed:
            notes.append(
                f"{tally.crashed} stories not summarised because of an unexpected error; they "
                "keep their earlier summary (dyad status shows the errors)"
            )
        if tally.failed_requests:
            kinds = ", ".join(f"{n} {k}" for k, n in sorted(tally.failed_requests.items()))
            notes.append(f"failed LLM requests: {kinds} (dyad status shows the reasons)")
        if tally.model_failed:
            notes.append(
                f"the model produced no summary for any of the {self.attempted} stories sent "
                "to it; local or previous summaries are shown"
            )
        if self.deferred_reason:
            notes.append(
                f"{tally.deferred} stories deferred to the next run: {self.deferred_reason}"
            )
        if self.unconfirmed:
            notes.append(
                f"{self.unconfirmed} candidate stories (below the final detection threshold) "
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
