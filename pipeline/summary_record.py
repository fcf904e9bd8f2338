"""The stored summary record: what the model must return for a story (``LLMSummary``) and the
record Dyad stores and shows (``StorySummary``). A record crossing stages: the summarize stage
makes it, the store keeps it as JSON, the digest reads it back validated. The JSON Schemas and
their field-by-field meaning are in ``pipeline.summarize.schema``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

SCHEMA_VERSION = "3"  # 3: cited key points, both sides' positions, quote, thread


class EventType(StrEnum):
    AGREE = "AGREE"
    CONSULT = "CONSULT"
    SUPPORT = "SUPPORT"
    CONCEDE = "CONCEDE"
    COOPERATE = "COOPERATE"
    AID = "AID"
    RETREAT = "RETREAT"
    REQUEST = "REQUEST"
    ACCUSE = "ACCUSE"
    REJECT = "REJECT"
    THREATEN = "THREATEN"
    PROTEST = "PROTEST"
    SANCTION = "SANCTION"
    MOBILIZE = "MOBILIZE"
    COERCE = "COERCE"
    ASSAULT = "ASSAULT"


MIN_HEADLINE = 10
MIN_SUMMARY = 40


FROM_MODEL = {"from_model": True}  # validation context of a model's reply


def _norm(text: str) -> str:
    return " ".join(text.lower().replace(".", " ").split())


class Stance(StrEnum):
    SUPPORT = "support"
    OPPOSE = "oppose"
    CONCERN = "concern"
    NEUTRAL = "neutral"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Actor(_Strict):
    name: str = Field(max_length=120)
    role: str = Field(max_length=120)
    country: str | None = Field(description="ISO 3166-1 alpha-2, or null")


class Reaction(_Strict):
    country: str = Field(description="ISO 3166-1 alpha-2 of the third country")
    stance: Stance
    evidence: str = Field(max_length=300, description="what the sources say it said or did")


MAX_CITES = 12
_CITES = Field(
    max_length=MAX_CITES,
    description="numbers of the articles this comes from: 1 is the story's first source, as "
    "the articles are numbered in the prompt and listed in the record's sources",
)


class KeyPoint(_Strict):
    """One key point of a story, with the articles it came from."""

    text: str = Field(max_length=300)
    cites: list[int] = _CITES


class Voice(StrEnum):
    """Whose words a side's position reports."""

    GOVERNMENT = "government"  # the country's leaders, ministers, ministries, officials
    PRESS = "press"  # no government statement; the country's own press or state media
    NONE = "none"  # no statement in the sources (shown as such, never invented)


class Position(_Strict):
    """What one of the two countries said or did in the sources."""

    country: str = Field(description="ISO 3166-1 alpha-2 code of one of the pair")
    voice: Voice
    position: str = Field(
        max_length=300, description="one sentence: its position; empty when voice is none"
    )
    speaker: str | None = Field(
        max_length=160, description="who said it, with role (e.g. 'Foreign Minister X'), or null"
    )
    quote: str | None = Field(
        max_length=400, description="the speaker's words verbatim from an article, or null"
    )
    cites: list[int] = _CITES

    @classmethod
    def unheard(cls, country: str) -> Position:
        """``country``'s side when the sources give it no statement (nothing made up)."""
        return cls(
            country=country, voice=Voice.NONE, position="", speaker=None, quote=None, cites=[]
        )


class Quote(_Strict):
    """The story's representative quotation: verbatim, attributed, about the relationship."""

    text: str = Field(max_length=400, description="verbatim from an article, no quote marks")
    speaker: str = Field(max_length=160, description="who said it, with role")
    country: str | None = Field(description="ISO 3166-1 alpha-2 of the speaker's country, or null")
    cites: list[int] = _CITES


class LLMSummary(_Strict):
    """What the model returns for one story."""

    bilateral: bool
    reject_reason: str | None = Field(max_length=300)
    headline: str = Field(max_length=160)
    summary: str = Field(max_length=900)
    key_points: list[KeyPoint] = Field(max_length=5)
    whats_new: str = Field(max_length=600)
    background: str = Field(max_length=600)
    event_type: EventType
    actor_country: str | None
    target_country: str | None
    cooperation_score: int = Field(ge=-10, le=10)
    actors: list[Actor] = Field(max_length=12)
    agreements: list[str] = Field(max_length=8)
    third_party_reactions: list[Reaction] = Field(max_length=8)
    positions: list[Position] = Field(
        max_length=2,
        description="each country of the pair, in pair order; empty only in records from "
        "before schema 3 (never filled in afterwards)",
    )
    quote: Quote | None = Field(description="the representative quotation, or null when none")

    @model_validator(mode="after")
    def _meaningful(self, info: ValidationInfo) -> LLMSummary:
        """A model's bilateral summary says something: a headline and summary of real length
        (checked on return: OpenAI's strict mode takes no string lengths), and key points that
        are not the summary again. Applies to replies (validated with ``FROM_MODEL`` as
        context), not to stored or local summaries."""
        if not self.bilateral or not (info.context or {}).get("from_model"):
            return self
        if len(self.headline) < MIN_HEADLINE or len(self.headline.split()) < 3:
            raise ValueError("headline: fewer than 3 words")
        if len(self.summary) < MIN_SUMMARY or len(self.summary.split()) < 8:
            raise ValueError("summary: fewer than 8 words")
        whole = _norm(self.summary)
        for number, point in enumerate(self.key_points, start=1):
            text = _norm(point.text)
            if len(text) < 8:
                raise ValueError(f"key_points.{number}: empty or too short")
            if text == whole or (len(text) > 40 and text in whole):
                raise ValueError(f"key_points.{number}: repeats the summary; say something new")
        return self


class SummaryStatus(StrEnum):
    VERIFIED = "verified"  # passed the grounding check
    UNVERIFIED = "unverified"  # failed it twice; shown as unverified, never as verified
    LOCAL = "local"  # made by the local extractive summariser
    REJECTED = "rejected"  # the model says the story is not bilateral
    PENDING = "pending"  # no usable summary yet (deferred, invalid output); retried next run
    FAILED = "failed"  # the model's replies stayed unusable after llm.max_attempts; the summary
    # shown is the previous or the local one, with the reason


class Source(BaseModel):
    """An article a story (or a digest entry) cites: its outlet, link and date."""

    model_config = ConfigDict(frozen=True)

    outlet: str
    url: str | None = Field(description="http(s) link from our records; None when none is safe")
    published: datetime | None = None
    article_id: int | None = Field(None, description="the article's id in the store")


class ThreadLink(BaseModel):
    """Where a story continues an earlier story of the same pair (``pipeline.threads``)."""

    model_config = ConfigDict(frozen=True)

    thread_id: str = Field(description="id of the thread's first story")
    previous_story_id: str = Field(description="the story this one continues")
    previous_headline: str = ""
    previous_last_seen: datetime = Field(description="when the previous story was last reported")
    similarity: float = Field(ge=0.0, le=1.0, description="content similarity to it")


class Usage(BaseModel):
    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    cached: bool = False


class StorySummary(BaseModel):
    """The stored record for one story (versioned by ``schema_version``)."""

    schema_version: str = SCHEMA_VERSION
    story_id: str
    dyad: str
    status: SummaryStatus
    reason: str | None = None
    summary: LLMSummary | None = None
    sources: list[Source] = Field(default_factory=list)
    grounding_problems: list[str] = Field(default_factory=list)
    backend: str
    model: str
    prompt_version: str
    content_hash: str
    usage: Usage = Field(default_factory=Usage)
    error_kind: str | None = Field(
        None, description="why the model's last attempt gave no summary (an error kind)"
    )
    attempts: int = Field(0, description="model attempts that gave no usable summary")
    model_tried: str | None = Field(
        None, description="the model those attempts went to (model names the summary's maker)"
    )
    next_attempt_at: datetime | None = Field(
        None, description="not sent to the model again before this time"
    )
    thread: ThreadLink | None = Field(
        None, description="the earlier story of the pair this one continues, if any"
    )
