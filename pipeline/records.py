"""Typed records that cross stage and Airflow task boundaries.

All are frozen pydantic models that round-trip through JSON (``model_dump(mode="json")`` /
``model_validate``), so they can travel as XCom or be rebuilt from the store. Bodies of
articles never travel between Airflow tasks: tasks pass ids, shards and reports.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FeedSpec(Record):
    """One subscribed feed as listed in ``feeds.yaml``."""

    name: str
    url: str
    tags: tuple[str, ...] = ()
    language: str | None = None
    enabled: bool = True
    note: str | None = Field(None, description="why this feed is on the list")


class FetchResult(Record):
    """A completed HTTP fetch: the final answer after redirects, body already decoded from gzip."""

    url: str = Field(description="the URL asked for")
    final_url: str = Field(description="the URL that answered, after redirects")
    status: int
    headers: dict[str, str] = Field(default_factory=dict, description="lower-cased names")
    body: bytes = b""
    redirects: tuple[tuple[int, str], ...] = Field((), description="(status, location) per hop")
    elapsed: float = 0.0

    @property
    def content_type(self) -> str:
        """The media type without parameters, lower-cased ('' when absent)."""
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


class FeedEntry(Record):
    """One item of a feed, cleaned: plain text, safe link, UTC date or a flag."""

    entry_key: str = Field(description="stable id within the feed (GUID and link, or a hash)")
    guid: str | None = None
    link: str | None = Field(None, description="absolute http(s) link as published")
    canonical_url: str | None = Field(None, description="normalised link, tracking removed")
    title: str = ""
    summary: str = ""
    content: str = Field("", description="full text when the feed carries it")
    published_at: datetime | None = None
    date_flag: str | None = Field(None, description="why a published date was rejected")
    authors: tuple[str, ...] = ()
    content_hash: str = Field(description="hash of title+summary+content, to spot edits")


class ParsedFeed(Record):
    """What ``parse_feed`` made of a feed body."""

    title: str = ""
    version: str = ""
    entries: tuple[FeedEntry, ...] = ()
    skipped: int = Field(0, description="items beyond the per-run cap")
    warnings: tuple[str, ...] = ()
    partial: bool = Field(False, description="the document was malformed; good entries kept")


class ExtractedPage(Record):
    """Main text and the metadata Dyad keeps from an article page (the author comes from the
    feed entry)."""

    url: str
    title: str | None = None
    date: str | None = None
    site_name: str | None = None
    language: str | None = None
    text: str
    encoding: str | None = Field(None, description="how we decoded the bytes")


class FeedValidators(Record):
    """What a feed told us last time, to send back on the next conditional GET."""

    etag: str | None = None
    last_modified: str | None = None
    last_unconditional_at: datetime | None = None


class FeedPoll(Record):
    """One poll's outcome: parsed entries (or not modified) and the validators to keep."""

    url: str
    final_url: str
    status: int
    parsed: ParsedFeed | None = None
    etag: str | None = None
    last_modified: str | None = None
    unconditional: bool = False
    permanent_redirect: str | None = None


class ArticleStatus(StrEnum):
    """Where an article's text stands."""

    PENDING = "pending"  # its page is still to be fetched (again)
    EXTRACTED = "extracted"  # the page's text is stored
    FALLBACK = "fallback"  # the page failed for good; the feed's own text is kept
    FAILED = "failed"  # no page and no feed text


class DeliveryStatus(StrEnum):
    """How the delivery of one digest to one recipient stands (stored or reported)."""

    PENDING = "pending"  # not sent yet, or deferred by the server: tried again
    SENDING = "sending"  # claimed by a sender
    SENT = "sent"
    FAILED = "failed"  # refused for good (5xx)
    ALREADY_SENT = "already_sent"  # reported only: sent before
    IN_DOUBT = "in_doubt"  # reported only: an earlier send was interrupted after its claim
    SKIPPED_EMPTY = "skipped_empty"  # reported only: nothing for the pairs followed
    WRITTEN = "written"  # reported only: no SMTP host, written as .eml
    UNSUBSCRIBED = "unsubscribed"  # not sent: the address left the list (sent after resubscribe)


class FeedStatus(StrEnum):
    OK = "ok"
    NOT_MODIFIED = "not_modified"
    FAILED = "failed"
    DEFERRED = "deferred"
    BACKING_OFF = "backing_off"
    DUPLICATE = "duplicate"


class FeedReport(Record):
    """The outcome of polling one feed in one run."""

    url: str
    name: str = ""
    status: FeedStatus
    entries_seen: int = 0
    entries_new: int = 0
    entries_updated: int = 0
    entries_duplicate: int = 0
    entries_skipped: int = 0
    error_kind: str | None = None
    error: str | None = None
    warnings: tuple[str, ...] = ()
    seconds: float = 0.0


class ArticleFailure(Record):
    url: str
    kind: str
    message: str
    fallback: bool = Field(description="the feed's own text was used instead")


class ArticleCounts(Record):
    extracted: int = 0
    fallback: int = 0
    failed: int = 0
    deferred: int = 0


class DetectionCounts(Record):
    """How many articles detection looked at in a run, and what it found."""

    checked: int = 0
    bilateral: int = 0
    dyads: dict[str, int] = Field(default_factory=dict, description="articles per pair, e.g. IN-RU")

    def top(self, n: int = 5) -> list[tuple[str, int]]:
        """The ``n`` pairs with the most articles."""
        return sorted(self.dyads.items(), key=lambda kv: (-kv[1], kv[0]))[:n]


def merge_detection(parts: list[DetectionCounts]) -> DetectionCounts:
    """Sum detection counts (per pair too)."""
    dyads: dict[str, int] = {}
    for part in parts:
        for pair, count in part.dyads.items():
            dyads[pair] = dyads.get(pair, 0) + count
    return DetectionCounts(
        checked=sum(p.checked for p in parts),
        bilateral=sum(p.bilateral for p in parts),
        dyads=dyads,
    )


class FeedShard(Record):
    """A slice of the enabled feeds, handled by one Airflow mapped task."""

    index: int
    feed_urls: tuple[str, ...]


class ShardReport(Record):
    """What one shard did: per-feed reports, article counts and failures, time per stage."""

    index: int = 0
    feeds: tuple[FeedReport, ...] = ()
    articles: ArticleCounts = ArticleCounts()
    article_failures: tuple[ArticleFailure, ...] = ()
    detection: DetectionCounts = DetectionCounts()
    stage_seconds: dict[str, float] = Field(default_factory=dict)


class IngestReport(Record):
    """The whole run: what ``dyad ingest`` prints and ``--json`` emits."""

    run_id: str
    started_at: datetime
    finished_at: datetime
    feeds: tuple[FeedReport, ...] = ()
    articles: ArticleCounts = ArticleCounts()
    article_failures: tuple[ArticleFailure, ...] = ()
    detection: DetectionCounts = DetectionCounts()
    stage_seconds: dict[str, float] = Field(default_factory=dict)

    def feed_counts(self) -> dict[str, int]:
        """How many feeds ended in each status."""
        counts: dict[str, int] = {status.value: 0 for status in FeedStatus}
        for feed in self.feeds:
            counts[feed.status.value] += 1
        return counts

    def entry_counts(self) -> dict[str, int]:
        """Entries new / updated / duplicate / skipped over all feeds."""
        return {
            "seen": sum(f.entries_seen for f in self.feeds),
            "new": sum(f.entries_new for f in self.feeds),
            "updated": sum(f.entries_updated for f in self.feeds),
            "duplicate": sum(f.entries_duplicate for f in self.feeds),
            "skipped": sum(f.entries_skipped for f in self.feeds),
        }


def merge_shard_reports(
    run_id: str, started_at: datetime, finished_at: datetime, shards: list[ShardReport]
) -> IngestReport:
    """Combine shard reports into one run report (stage times are summed)."""
    stage_seconds: dict[str, float] = {}
    for shard in shards:
        for stage, seconds in shard.stage_seconds.items():
            stage_seconds[stage] = round(stage_seconds.get(stage, 0.0) + seconds, 3)
    return IngestReport(
        run_id=run_id,
        started_at=started_at,
        finished_at=finished_at,
        feeds=tuple(f for s in shards for f in s.feeds),
        articles=ArticleCounts(
            extracted=sum(s.articles.extracted for s in shards),
            fallback=sum(s.articles.fallback for s in shards),
            failed=sum(s.articles.failed for s in shards),
            deferred=sum(s.articles.deferred for s in shards),
        ),
        article_failures=tuple(a for s in shards for a in s.article_failures),
        detection=merge_detection([s.detection for s in shards]),
        stage_seconds=stage_seconds,
    )


class Evidence(Record):
    """One piece of text that resolved to a country."""

    text: str
    country: str
    kind: str = Field(description="name | adjective | capital | metonym | leader")
    where: str = Field(description="title | lead | body")


class DyadDetection(Record):
    """Whether an article is about the relations between two countries, and which two."""

    bilateral: bool = Field(description="probability >= the final threshold")
    candidate: bool = Field(
        False, description="probability >= the candidate threshold (what an LLM may confirm)"
    )
    countries: tuple[str, ...] = Field(
        (), description="the most probable pair, ISO alpha-2, sorted, when a candidate; else ()"
    )
    score: float = Field(ge=0.0, le=1.0, description="calibrated probability of that pair")
    actor: str | None = Field(None, description="the side that acted, when the text says so")
    target: str | None = None
    third_countries: tuple[str, ...] = ()
    cues: tuple[str, ...] = Field((), description="relation cue words found")
    evidence: tuple[Evidence, ...] = ()
    gazetteer_version: str = ""

    @property
    def dyad(self) -> str | None:
        """The pair as "IN-RU" (sorted), or None."""
        return "-".join(self.countries) if len(self.countries) == 2 else None


class StoryArticle(Record):
    """One article of a story, as the summariser sees it (text included, so not for XCom)."""

    article_id: int
    url: str
    outlet: str
    title: str
    text: str
    published_at: datetime | None = None


class Story(Record):
    """Articles of several outlets about one development between two countries."""

    id: str = Field(description="stable: derived from the dyad and the story's first article")
    dyad: str
    article_ids: tuple[int, ...]
    outlets: tuple[str, ...]
    first_seen: datetime
    last_seen: datetime
    content_hash: str = Field(description="hash of the member articles' texts")
    actor: str | None = None
    target: str | None = None
