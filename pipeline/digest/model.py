"""The digest record: what a reader gets for one morning, before it is rendered.

JSON Schema (versioned) in ``digest.schema.json`` beside this file; ``dyad digest --format json``
writes exactly this model.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from pipeline.summary_record import EventType, Reaction, Source, SummaryStatus, Voice

DIGEST_SCHEMA_VERSION = "3"  # 3: cited points, both sides, quote, thread
DIGEST_SCHEMA_FILE = Path(__file__).with_name("digest.schema.json")


class _Frozen(BaseModel):
    """A digest part: built once by ``digest.build``, never changed afterwards."""

    model_config = ConfigDict(frozen=True)


class DigestPoint(_Frozen):
    """A key point with the outlets of the articles it cites."""

    text: str
    outlets: list[str] = Field(default_factory=list)


class DigestPosition(_Frozen):
    """What one country of the pair said or did, as shown (``voice`` none: no statement)."""

    country: str
    name: str = Field(description="the country's name")
    voice: Voice
    position: str = ""
    speaker: str | None = None
    quote: str | None = None
    outlets: list[str] = Field(default_factory=list)


class DigestQuote(_Frozen):
    """The story's representative quotation, attributed."""

    text: str
    speaker: str
    country: str | None = None
    outlets: list[str] = Field(default_factory=list)


class DigestThread(_Frozen):
    """The earlier story of the pair this one continues (a story thread)."""

    thread_id: str
    previous_story_id: str
    previous_headline: str = ""
    previous_last_seen: datetime


class DigestStory(_Frozen):
    story_id: str
    headline: str
    summary: str
    key_points: list[DigestPoint] = Field(default_factory=list)
    positions: list[DigestPosition] = Field(
        default_factory=list, description="each side, in pair order; empty for old summaries"
    )
    quote: DigestQuote | None = None
    whats_new: str = Field("", description="what the story adds (since the thread's last story)")
    thread: DigestThread | None = Field(None, description="set: the story continues a thread")
    event_type: EventType | None = None
    actor: str | None = None
    target: str | None = None
    cooperation_score: int | None = None
    status: SummaryStatus = Field(description="verified | unverified | local | failed")
    note: str | None = Field(
        None, description="why the model's summary is missing (the reason is in the store)"
    )
    new: bool = Field(description="first seen inside this digest's window")
    outlets: int
    first_seen: datetime
    last_seen: datetime
    reactions: list[Reaction] = Field(default_factory=list)
    sources: list[Source] = Field(default_factory=list)
    importance: float


class TrendPoint(_Frozen):
    day: date
    articles: int
    score: float | None = Field(description="mean cooperation-conflict score that day")


class DigestDyad(_Frozen):
    dyad: str
    names: tuple[str, str]
    importance: float
    stories: list[DigestStory]
    more_stories: int = 0
    trend: list[TrendPoint] = Field(default_factory=list)
    coverage_change: int | None = Field(None, description="articles vs the previous digest's day")
    score_change: float | None = Field(None, description="mean score vs the previous digest")
    movement: float | None = Field(
        None,
        description="recent mean score minus the earlier one (negative: toward conflict)",
    )


class Ledger(_Frozen):
    feeds_polled: int = 0
    feeds_not_modified: int = 0
    feeds_failed: list[str] = Field(default_factory=list, description="names of failed feeds")
    articles_read: int = 0
    bilateral_stories: int = 0
    summaries_unverified: int = 0
    summaries_local: int = 0
    summaries_pending: int = 0
    summaries_failed: int = 0
    llm_failures: dict[str, int] = Field(
        default_factory=dict, description="failed LLM requests in the window, by kind"
    )
    llm_calls: int = 0
    llm_tokens: int = 0
    llm_cost_usd: float = 0.0


class Digest(_Frozen):
    schema_version: str = DIGEST_SCHEMA_VERSION
    id: str = Field(description="digest-YYYY-MM-DD (the send date)")
    date: date
    timezone: str
    window_start: datetime
    window_end: datetime
    generated_at: datetime
    title: str
    dyads: list[DigestDyad]
    more_dyads: int = 0
    ledger: Ledger

    def for_recipient(self, follow: list[str]) -> Digest:
        """The same digest with only the pairs ``follow`` selects ("*", "IN-*", "CN-US")."""
        return self.model_copy(update={"dyads": [d for d in self.dyads if follows(follow, d.dyad)]})


def follows(patterns: list[str], dyad: str) -> bool:
    """Whether a subscription (list of "*", "IN-*", "CN-US") covers ``dyad``."""
    a, b = dyad.split("-")
    for pattern in patterns:
        if pattern == "*" or pattern in (f"{a}-{b}", f"{b}-{a}"):
            return True
        if pattern.endswith("-*") and pattern[:2] in (a, b):
            return True
    return False


class MailFooter(_Frozen):
    """The end of one recipient's copy: why they get it, how to leave, where to read it online.
    Not part of the digest record (one per recipient)."""

    recipient: str
    follows: list[str] = Field(description="the pairs followed, in words")
    unsubscribe_address: str
    unsubscribe_mailto: str
    unsubscribe_url: str | None = None
    web_url: str | None = None


def describe_follow(patterns: list[str], names: dict[str, str]) -> list[str]:
    """A subscription in words: "all country pairs", "every pair with India", "China – United
    States" (``names``: ISO code -> country name)."""
    words = []
    for pattern in patterns:
        if pattern == "*":
            return ["all country pairs"]
        a, b = pattern.split("-")
        if b == "*":
            words.append(f"every pair with {names.get(a, a)}")
        else:
            words.append(f"{names.get(a, a)} – {names.get(b, b)}")
    return words


def digest_json_schema() -> dict[str, object]:
    """The versioned JSON Schema of the digest record (``digest.schema.json``)."""
    schema = Digest.model_json_schema()
    schema["$id"] = f"https://dyad.example/schema/digest-v{DIGEST_SCHEMA_VERSION}.json"
    schema["title"] = f"Dyad digest, schema version {DIGEST_SCHEMA_VERSION}"
    return schema
