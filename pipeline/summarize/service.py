"""One story in, one summary record out: the rules around the model call.

``StorySummarizer.summarize`` sends one request per story (never per article) with the articles
trimmed to the input budget; validates the JSON against the schema (one repair attempt on
invalid or wrong-schema output; a reply cut off by the token limit is retried once with half the
input); stores a story the model rejects as not bilateral as "rejected"; runs the grounding check
and regenerates once with the problems named, storing a second failure as "unverified". The
circuit breaker opens after ``llm.circuit_after`` stories in a row fail for endpoint reasons; from
then on, and whenever no key is configured, the local summariser fills in (status "local").
A long Retry-After raises ``LLMRateLimited`` to the caller, which defers the remaining stories.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from pydantic import ValidationError

from pipeline.config import LLMSettings
from pipeline.errors import BudgetExhausted, LLMBadOutput, LLMRateLimited, LLMUnavailable
from pipeline.records import Story, StoryArticle
from pipeline.summarize.grounding import check_grounding
from pipeline.summarize.local import LOCAL_MODEL, summarize_locally
from pipeline.summarize.openai_chat import Completion, OpenAIChat
from pipeline.summarize.prompts import (
    PROMPT_VERSION,
    REGROUND,
    REPAIR,
    build_messages,
    new_delimiter,
)
from pipeline.summarize.schema import (
    LLMSummary,
    Source,
    StorySummary,
    SummaryStatus,
    Usage,
)
from pipeline.summarize.tokens import count_tokens, trim_to_budget
from pipeline.textclean import clean_text


@dataclass
class StoryInput:
    """What the summariser gets for one story (built by pipeline.jobs from the store)."""

    story: Story
    articles: Sequence[StoryArticle]
    names: tuple[str, str]  # country names of the pair, in dyad order
    terms: tuple[str, ...]  # words that name the pair (countries, capitals, leaders)


@dataclass
class RunState:
    """What the summariser remembers across the stories of one run."""

    consecutive_failures: int = 0
    circuit_open: bool = False
    tokens_today: int = 0
    calls: int = 0
    notes: list[str] = field(default_factory=list)


def _sources(articles: Sequence[StoryArticle]) -> list[Source]:
    return [Source(outlet=a.outlet, url=a.url, published=a.published_at) for a in articles]


def _plain(summary: LLMSummary) -> LLMSummary:
    """Control characters out of every string the model wrote."""
    data = summary.model_dump()

    def walk(value: object) -> object:
        if isinstance(value, str):
            return clean_text(value)
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        return value

    return LLMSummary.model_validate(walk(data))


class StorySummarizer:
    """Summarises stories with the configured backend, following the module's rules."""

    def __init__(self, settings: LLMSettings, chat: OpenAIChat | None = None) -> None:
        self.settings = settings
        self.chat = (
            chat if chat is not None else (OpenAIChat(settings) if settings.uses_openai else None)
        )
        self.state = RunState()

    @property
    def model_name(self) -> str:
        """The model recorded with summaries (``local-extractive`` without an endpoint)."""
        return self.settings.model if self.chat is not None else LOCAL_MODEL

    def local(self, item: StoryInput, reason: str | None = None) -> StorySummary:
        """The extractive summary, marked as local."""
        summary = summarize_locally(item.story, item.articles, item.terms, ())
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
        )

    def summarize(self, item: StoryInput) -> StorySummary:
        """The summary record for one story. Raises ``LLMRateLimited`` (defer the rest)."""
        if self.chat is None:
            return self.local(item)
        if self.state.circuit_open:
            return self.local(item, "LLM endpoint failing: circuit open for this run")
        budget = self.settings.daily_token_budget
        if budget and self.state.tokens_today >= budget:
            raise BudgetExhausted(f"daily token budget of {budget} reached", item=item.story.id)
        try:
            record = self._summarize_with_model(item)
        except LLMUnavailable as exc:
            self.state.consecutive_failures += 1
            if self.state.consecutive_failures >= self.settings.circuit_after:
                self.state.circuit_open = True
                self.state.notes.append(
                    f"circuit opened after {self.state.consecutive_failures} failed stories: {exc}"
                )
            return self.local(item, f"LLM unavailable ({exc}); local summary")
        self.state.consecutive_failures = 0
        return record

    def _call(self, messages: list[dict[str, str]], usage: Usage) -> Completion:
        assert self.chat is not None
        completion = self.chat.complete(messages)
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

    def _texts(self, item: StoryInput, budget: int) -> list[str]:
        per_article = max(200, budget // max(1, len(item.articles)))
        return [trim_to_budget(a.text, per_article, item.terms)[0] for a in item.articles]

    def _parse(
        self, messages: list[dict[str, str]], completion: Completion, usage: Usage
    ) -> LLMSummary:
        """Validate a reply; one repair round trip on invalid JSON or a wrong schema."""
        for attempt in range(2):
            try:
                return LLMSummary.model_validate_json(completion.text)
            except ValidationError as exc:
                problem = _describe(exc, completion.text)
                if attempt == 1:
                    raise LLMBadOutput(f"invalid output after a repair attempt: {problem}") from exc
                messages = [
                    *messages,
                    {"role": "assistant", "content": completion.text[:4000]},
                    {"role": "user", "content": REPAIR.format(problem=problem)},
                ]
                completion = self._call(messages, usage)
                if completion.finish_reason == "length":
                    raise LLMBadOutput(
                        "repaired reply was cut off at the output token limit"
                    ) from exc
        raise AssertionError("unreachable")

    def _summarize_with_model(self, item: StoryInput) -> StorySummary:
        story = item.story
        usage = Usage()
        pair = (story.dyad[:2], story.dyad[3:])
        budget = self.settings.input_token_budget
        record = {
            "story_id": story.id,
            "dyad": story.dyad,
            "sources": _sources(item.articles),
            "backend": "openai",
            "model": self.settings.model,
            "prompt_version": PROMPT_VERSION,
            "content_hash": story.content_hash,
        }
        try:
            for _ in range(2):  # a second try with half the input if the reply is cut off
                texts = self._texts(item, budget)
                messages = build_messages(pair, item.names, item.articles, texts, new_delimiter())
                completion = self._call(messages, usage)
                if completion.finish_reason != "length":
                    break
                budget //= 2
            else:
                raise LLMBadOutput("reply cut off at the output token limit twice")
            summary = self._parse(messages, completion, usage)
            if not summary.bilateral:
                return StorySummary(
                    status=SummaryStatus.REJECTED,
                    summary=_plain(summary),
                    reason=summary.reject_reason or "not bilateral",
                    usage=usage,
                    **record,
                )
            sources = "\n".join(
                f"{a.title}\n{t}" for a, t in zip(item.articles, texts, strict=True)
            )
            problems = check_grounding(summary, sources)
            if problems:
                retry = [
                    *messages,
                    {"role": "assistant", "content": completion.text[:4000]},
                    {"role": "user", "content": REGROUND.format(problems="; ".join(problems))},
                ]
                completion = self._call(retry, usage)
                summary = self._parse(retry, completion, usage)
                problems = check_grounding(summary, sources)
        except LLMBadOutput as exc:
            return StorySummary(
                status=SummaryStatus.PENDING, reason=str(exc), usage=usage, **record
            )
        status = SummaryStatus.UNVERIFIED if problems else SummaryStatus.VERIFIED
        return StorySummary(
            status=status,
            summary=_plain(summary),
            grounding_problems=problems,
            usage=usage,
            **record,
        )


def _describe(error: ValidationError, text: str) -> str:
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return f"not valid JSON ({exc.msg} at character {exc.pos})"
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(root)"
    return f"does not match the schema: {where}: {first['msg']} ({error.error_count()} errors)"


__all__ = ["BudgetExhausted", "LLMRateLimited", "StoryInput", "StorySummarizer"]
