"""One story in, one summary record out: the rules around the model call.

``StorySummarizer.summarize`` sends one request per story (never per article) with the articles
trimmed to the input budget. The reply is read tolerantly (``replies``: reasoning blocks, code
fences, prose around the object) and validated against the schema and the story (actor and
target in the pair, country codes the gazetteer knows, meaningful lengths); an invalid reply gets
one repair round trip. A reply cut off at the output limit is asked again with a larger limit,
then with really shorter input (never a byte-identical request). A story the model rejects as not
bilateral is stored as "rejected"; the grounding check regenerates once with the problems named,
storing a second failure as "unverified". Whatever the status, the model's text is stored as plain
text: markup and links it wrote are removed (``pipeline.textclean.plain_text``).

No story is lost to a bad reply: when the model gives nothing usable (``LLMBadOutput`` kinds:
invalid even after repair, refused, empty, cut off, request rejected) the story keeps its previous
model summary for the same content, or gets the local one, with the reason beside it; it is
tried again after ``llm.retry_hours`` and marked "failed" after ``llm.max_attempts``. Endpoint
failures (``LLMUnavailable`` kinds: 5xx, timeouts, 401, 404, an HTML page) fall back the same way
without counting against the story, and open the circuit breaker after ``llm.circuit_after``
stories in a row; from then on, and whenever no key is configured, the local summariser fills in.
A long Retry-After raises ``LLMRateLimited`` to the caller, which defers the remaining stories.
Every failed request is kept in ``RunState.failures`` for the caller to record.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pipeline.config import LLMSettings
from pipeline.errors import (
    BudgetExhausted,
    LLMBadOutput,
    LLMError,
    LLMRateLimited,
    LLMRequestRejected,
    LLMTruncated,
    LLMUnavailable,
)
from pipeline.records import Story, StoryArticle
from pipeline.summarize.grounding import check_grounding
from pipeline.summarize.local import LOCAL_MODEL, summarize_locally
from pipeline.summarize.openai_chat import Completion, OpenAIChat
from pipeline.summarize.prompts import (
    PROMPT_VERSION,
    REGROUND,
    REPAIR,
    build_messages,
    earlier_block,
    new_delimiter,
)
from pipeline.summarize.providers import output_token_limit
from pipeline.summarize.replies import json_text
from pipeline.summarize.schema import (
    LLMSummary,
    Source,
    StorySummary,
    SummaryStatus,
    ThreadLink,
    Usage,
)
from pipeline.summarize.speakers import CountryReader
from pipeline.summarize.tokens import count_tokens, trim_to_budget
from pipeline.summarize.validation import describe_invalid, plain_summary, validated_summary
from pipeline.summarize.voices import Speakers


@dataclass(frozen=True)
class EarlierStory:
    """The last story of the thread a story continues, as its summary may refer to it."""

    link: ThreadLink
    summary: str
    key_points: tuple[str, ...] = ()


@dataclass
class StoryInput:
    """What the summariser gets for one story (built by pipeline.jobs from the store)."""

    story: Story
    articles: Sequence[StoryArticle]
    names: tuple[str, str]  # country names of the pair, in dyad order
    terms: tuple[str, ...]  # words that name the pair (countries, capitals, leaders)
    known_codes: frozenset[str] = frozenset()  # ISO codes the gazetteer knows (empty: unchecked)
    earlier: EarlierStory | None = None  # the thread's last story before this one, if any
    speakers: Speakers | None = None  # every country's forms, to read who said what
    reader: CountryReader | None = None  # the gazetteer's reading: a speaker's country


@dataclass
class RunState:
    """What the summariser remembers across the stories of one run."""

    consecutive_failures: int = 0
    circuit_open: bool = False
    circuit_error: LLMError | None = None  # the failure that opened the circuit
    tokens_today: int = 0
    calls: int = 0
    notes: list[str] = field(default_factory=list)
    failures: list[tuple[str, LLMError]] = field(default_factory=list)  # (story id, error)


def _sources(articles: Sequence[StoryArticle]) -> list[Source]:
    return [
        Source(outlet=a.outlet, url=a.url, published=a.published_at, article_id=a.article_id)
        for a in articles
    ]


_CONTEXT_LENGTH = re.compile(r"context_length_exceeded|maximum context length", re.I)
MODEL_MADE = frozenset({SummaryStatus.VERIFIED, SummaryStatus.UNVERIFIED})


class StorySummarizer:
    """Summarises stories with the configured backend, following the module's rules."""

    def __init__(self, settings: LLMSettings, chat: OpenAIChat | None = None) -> None:
        self.settings = settings
        self.chat = (
            chat if chat is not None else (OpenAIChat(settings) if settings.uses_openai else None)
        )
        self.state = RunState()
        self._usage = Usage()

    @property
    def model_name(self) -> str:
        """The model recorded with summaries (``local-extractive`` without an endpoint)."""
        return self.settings.model if self.chat is not None else LOCAL_MODEL

    def local(self, item: StoryInput, reason: str | None = None) -> StorySummary:
        """The extractive summary, marked as local."""
        summary = summarize_locally(
            item.story, item.articles, item.terms, (), earlier=item.earlier, speakers=item.speakers
        )
        return StorySummary(
            story_id=item.story.id,
            dyad=item.story.dyad,
            status=SummaryStatus.LOCAL,
            reason=reason,
            summary=summary,
            sources=_sources(item.articles),
            backend="local",
            model=LOCAL_MODEL,
            prompt_version=PROMPT_VERSION,
            content_hash=item.story.content_hash,
            thread=item.earlier.link if item.earlier else None,
        )

    def summarize(
        self,
        item: StoryInput,
        previous: dict[str, Any] | None = None,
        now: datetime | None = None,
    ) -> StorySummary:
        """The summary record for one story; ``previous`` is its stored record, if any.
        Raises ``LLMRateLimited`` or ``BudgetExhausted`` (defer the rest), nothing else."""
        if self.chat is None:
            return self.local(item)
        if self.state.circuit_open and self.state.circuit_error is not None:
            return self._fallback(
                item, previous, self.state.circuit_error, now, counts=False, circuit=True
            )
        budget = self.settings.daily_token_budget
        if budget and self.state.tokens_today >= budget:
            raise BudgetExhausted(f"daily token budget of {budget} reached", item=item.story.id)
        self._usage = Usage()
        self.chat.failed_requests.clear()
        try:
            record = self._summarize_with_model(item)
        except LLMUnavailable as exc:
            self.state.consecutive_failures += 1
            if self.state.consecutive_failures >= self.settings.circuit_after:
                self.state.circuit_open = True
                self.state.circuit_error = exc
                self.state.notes.append(
                    f"circuit opened after {self.state.consecutive_failures} failed stories: {exc}"
                )
            return self._fallback(item, previous, exc, now, counts=False)
        except LLMBadOutput as exc:
            self.state.consecutive_failures = 0
            if not any(exc is e for e in self.chat.failed_requests):
                # every request succeeded but the reply is unusable: record the story's failure
                self.state.failures.append((item.story.id, exc))
            return self._fallback(item, previous, exc, now, counts=True)
        finally:
            failed = list(self.chat.failed_requests)
            self.chat.failed_requests.clear()
            self._usage.calls += len(failed)
            self.state.calls += len(failed)
            self.state.failures.extend((item.story.id, e) for e in failed)
        self.state.consecutive_failures = 0
        return record

    def _fallback(
        self,
        item: StoryInput,
        previous: dict[str, Any] | None,
        error: LLMError,
        now: datetime | None,
        *,
        counts: bool,
        circuit: bool = False,
    ) -> StorySummary:
        """The best summary the story has when the model gave none: its previous model summary
        of the same content, else the local one, with the reason, the attempt count and when
        to try again (``counts``: the failure was this story's, not the endpoint's;
        ``circuit``: no request was sent, the circuit is open after ``error``)."""
        story = item.story
        same = previous is not None and previous.get("content_hash") == story.content_hash
        tried = previous is not None and previous.get("model_tried") == self.settings.model
        attempts = int((previous or {}).get("attempts") or 0) if same and tried else 0
        kept = None
        if same and previous and previous.get("status") in MODEL_MADE and previous.get("summary"):
            kept = StorySummary.model_validate(previous)
        base = kept or self.local(item)
        shown = "previous summary kept" if kept else "local summary shown"
        update: dict[str, Any] = {
            "thread": item.earlier.link if item.earlier else None,
            "error_kind": error.kind,
            "model_tried": self.settings.model,
            "usage": self._usage,
        }
        if not counts:
            why = "circuit open for this run after" if circuit else "LLM unavailable:"
            update["reason"] = f"{why} {error.kind} ({error}); {shown}"
        elif attempts + 1 >= self.settings.max_attempts:
            update |= {
                "status": SummaryStatus.FAILED,
                "reason": f"the model gave no usable summary in {attempts + 1} attempts "
                f"({error.kind}: {error}); {shown}",
                "attempts": attempts + 1,
                "next_attempt_at": None,
            }
        else:
            retry_at = (now or datetime.now().astimezone()) + timedelta(
                hours=self.settings.retry_hours
            )
            update |= {
                "reason": f"model reply unusable ({error.kind}: {error}); {shown}; attempt "
                f"{attempts + 1} of {self.settings.max_attempts}, next not before "
                f"{retry_at:%Y-%m-%d %H:%M} UTC",
                "attempts": attempts + 1,
                "next_attempt_at": retry_at,
            }
        return base.model_copy(update=update)

    def _call(self, messages: list[dict[str, str]], limit: int | None = None) -> Completion:
        assert self.chat is not None
        usage = self._usage
        completion = self.chat.complete(messages, limit)
        sent = sum(count_tokens(m["content"]) for m in messages)
        usage.calls += 1
        usage.input_tokens += completion.input_tokens or sent
        usage.output_tokens += completion.output_tokens or count_tokens(completion.text)
        s = self.settings
        usage.cost_usd = round(
            usage.input_tokens * s.price_input_per_mtok / 1e6
            + usage.output_tokens * s.price_output_per_mtok / 1e6,
            6,
        )
        self.state.calls += 1
        self.state.tokens_today += (completion.input_tokens or sent) + (
            completion.output_tokens or 0
        )
        return completion

    def _texts(self, item: StoryInput, budget: int, floor: int = 200) -> list[str]:
        per_article = max(floor, budget // max(1, len(item.articles)))
        return [trim_to_budget(a.text, per_article, item.terms)[0] for a in item.articles]

    def _shorter(self, item: StoryInput, texts: list[str], floor: int) -> list[str] | None:
        """The articles cut to half the tokens of ``texts`` (at least ``floor`` per article), or
        None when that would not make them any shorter."""
        shorter = self._texts(item, sum(count_tokens(t) for t in texts) // 2, floor)
        return shorter if sum(map(len, shorter)) < sum(map(len, texts)) else None

    def _parse(
        self, messages: list[dict[str, str]], completion: Completion, item: StoryInput
    ) -> LLMSummary:
        """Validate a reply; one repair round trip on invalid JSON, a wrong schema or fields
        that do not fit the story."""
        for attempt in range(2):
            reply = json_text(completion.text)
            try:
                return validated_summary(reply, item.story.dyad, item.known_codes)
            except ValueError as exc:
                problem = describe_invalid(exc, reply)
                if attempt == 1:
                    raise LLMBadOutput(f"invalid output after a repair attempt: {problem}") from exc
                messages = [
                    *messages,
                    {"role": "assistant", "content": reply[:4000]},
                    {"role": "user", "content": REPAIR.format(problem=problem)},
                ]
                completion = self._call(messages)
                if completion.finish_reason == "length":
                    raise LLMTruncated(
                        "repaired reply was cut off at the output token limit"
                    ) from exc
        raise AssertionError("unreachable")

    def _complete_whole(
        self, item: StoryInput
    ) -> tuple[list[dict[str, str]], Completion, list[str]]:
        """A reply that was not cut off: on ``finish_reason: length`` the output limit is
        doubled once, then the input is halved while that really shortens it. A request refused
        for the model's context length (OpenAI's ``context_length_exceeded``, which vLLM and
        llama-cpp-python also send) is sent again with half the input, while that shortens it."""
        story = item.story
        pair = (story.dyad[:2], story.dyad[3:])
        limit = output_token_limit(self.settings)
        larger = min(32_000, limit * 2)
        texts = self._texts(item, self.settings.input_token_budget)
        was = item.earlier  # the thread's last story: "whats_new" says what is new since then
        earlier = earlier_block(was.link, was.summary, was.key_points) if was else ""
        for _ in range(4):
            messages = build_messages(
                pair, item.names, item.articles, texts, new_delimiter(), earlier
            )
            try:
                completion = self._call(messages, limit)
            except LLMRequestRejected as exc:
                halved = self._shorter(item, texts, floor=50)
                if not _CONTEXT_LENGTH.search(str(exc)) or halved is None:
                    raise
                texts = halved
                continue
            if completion.finish_reason != "length":
                return messages, completion, texts
            if limit < larger:
                limit = larger
                continue
            halved = self._shorter(item, texts, floor=200)
            if halved is None:
                break
            texts = halved
        raise LLMTruncated(
            f"reply cut off at the output token limit ({limit} tokens) even with shorter input"
        )

    def _summarize_with_model(self, item: StoryInput) -> StorySummary:
        story = item.story
        record = {
            "story_id": story.id,
            "dyad": story.dyad,
            "sources": _sources(item.articles),
            "backend": "openai",
            "model": self.settings.model,
            "prompt_version": PROMPT_VERSION,
            "content_hash": story.content_hash,
            "thread": item.earlier.link if item.earlier else None,
        }
        messages, completion, texts = self._complete_whole(item)
        summary = self._parse(messages, completion, item)
        if not summary.bilateral:
            return StorySummary(
                status=SummaryStatus.REJECTED,
                summary=plain_summary(summary),
                reason=summary.reject_reason or "not bilateral",
                usage=self._usage,
                **record,
            )
        sources = [f"{a.title}\n{t}" for a, t in zip(item.articles, texts, strict=True)]
        # the earlier story's day grounds "Since 24 November"; a whats_new without it is kept
        published = [a.published_at for a in item.articles]
        published += [item.earlier.link.previous_last_seen] if item.earlier else []
        problems = check_grounding(summary, sources, published, item.reader)
        if problems:
            retry = [
                *messages,
                {"role": "assistant", "content": json_text(completion.text)[:4000]},
                {"role": "user", "content": REGROUND.format(problems="; ".join(problems))},
            ]
            completion = self._call(retry)
            summary = self._parse(retry, completion, item)
            problems = check_grounding(summary, sources, published, item.reader)
        status = SummaryStatus.UNVERIFIED if problems else SummaryStatus.VERIFIED
        return StorySummary(
            status=status,
            summary=plain_summary(summary),
            grounding_problems=problems,
            usage=self._usage,
            **record,
        )


__all__ = ["BudgetExhausted", "EarlierStory", "LLMRateLimited", "StoryInput", "StorySummarizer"]
