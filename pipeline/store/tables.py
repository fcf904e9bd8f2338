"""SQLAlchemy tables of Dyad's store. The Alembic migrations in ``migrations/`` create them;
a test checks the two agree.

- ``feeds``: the subscriptions, their validators (ETag / Last-Modified) and health.
- ``articles``: one row per canonical URL (or content hash when an item has no link), with the
  text, where it came from (page or the feed's own content) and the extraction status.
- ``entries``: one row per (feed, item); several entries may point at one article, which is how
  the same story under two GUIDs or in two feeds is stored once and linked to both.
- ``runs`` and ``failures``: what each run did and every per-item failure, for users to see.
- ``opt_outs``: the addresses that unsubscribed from the digest (delivery skips them).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from pipeline.records import ArticleStatus

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused; pass UTC-aware datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime,
        dict[str, Any]: JSON,
        list[str]: JSON,
    }


class FeedRow(Base):
    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    tags: Mapped[list[str]] = mapped_column(default=list)
    language: Mapped[str | None] = mapped_column(String(20))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    title: Mapped[str | None] = mapped_column(String(1024))
    etag: Mapped[str | None] = mapped_column(String(1024))
    last_modified: Mapped[str | None] = mapped_column(String(200))
    last_unconditional_at: Mapped[datetime | None]
    last_polled_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_status: Mapped[str | None] = mapped_column(String(20))
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error_kind: Mapped[str | None] = mapped_column(String(40))
    last_error: Mapped[str | None] = mapped_column(Text)
    next_poll_after: Mapped[datetime | None]
    final_url: Mapped[str | None] = mapped_column(String(2048))
    moved_to: Mapped[str | None] = mapped_column(String(2048))
    moved_count: Mapped[int] = mapped_column(Integer, default=0)
    warnings: Mapped[str | None] = mapped_column(Text)


class ArticleRow(Base):
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    canonical_url: Mapped[str] = mapped_column(String(2048), unique=True)
    url: Mapped[str | None] = mapped_column(String(2048))
    title: Mapped[str] = mapped_column(String(1024), default="")
    feed_summary: Mapped[str] = mapped_column(Text, default="")
    feed_content: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    text_source: Mapped[str] = mapped_column(String(20), default="none")
    status: Mapped[str] = mapped_column(String(20), default=ArticleStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error_kind: Mapped[str | None] = mapped_column(String(40))
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_after: Mapped[datetime | None]
    author: Mapped[str | None] = mapped_column(String(500))
    site_name: Mapped[str | None] = mapped_column(String(500))
    language: Mapped[str | None] = mapped_column(String(20))
    page_date: Mapped[str | None] = mapped_column(String(40))
    published_at: Mapped[datetime | None]
    date_flag: Mapped[str | None] = mapped_column(String(200))
    entry_hash: Mapped[str] = mapped_column(String(64), default="")
    content_hash: Mapped[str | None] = mapped_column(String(64))
    first_seen_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    extracted_at: Mapped[datetime | None]
    # Detection (pipeline.detect); gazetteer_version None means "detect again".
    bilateral: Mapped[bool | None] = mapped_column(Boolean)
    dyad: Mapped[str | None] = mapped_column(String(8))
    detect_score: Mapped[float | None] = mapped_column(Float)
    actor: Mapped[str | None] = mapped_column(String(2))
    target: Mapped[str | None] = mapped_column(String(2))
    detection: Mapped[dict[str, Any] | None]
    gazetteer_version: Mapped[str | None] = mapped_column(String(20))
    story_id: Mapped[str | None] = mapped_column(String(40))

    __table_args__ = (
        Index("ix_articles_status", "status"),
        Index("ix_articles_dyad", "dyad"),
        Index("ix_articles_story_id", "story_id"),
        Index("ix_articles_first_seen_at", "first_seen_at"),
        Index("ix_articles_gazetteer_version", "gazetteer_version"),
    )


class EntryRow(Base):
    __tablename__ = "entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id", ondelete="CASCADE"))
    entry_key: Mapped[str] = mapped_column(String(80))
    guid: Mapped[str | None] = mapped_column(String(2048))
    link: Mapped[str | None] = mapped_column(String(2048))
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(1024), default="")
    published_at: Mapped[datetime | None]
    content_hash: Mapped[str] = mapped_column(String(64))
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("feed_id", "entry_key", name="uq_entries_feed_key"),
        Index("ix_entries_article_id", "article_id"),
    )


class RunRow(Base):
    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20))
    report: Mapped[dict[str, Any] | None]


class FailureRow(Base):
    __tablename__ = "failures"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str | None] = mapped_column(String(64))
    stage: Mapped[str] = mapped_column(String(20))
    item: Mapped[str] = mapped_column(String(2048))
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    retryable: Mapped[bool] = mapped_column(Boolean, default=False)
    at: Mapped[datetime]

    __table_args__ = (Index("ix_failures_run_id", "run_id"),)


class StoryRow(Base):
    """A story: bilateral articles about one development (pipeline.cluster)."""

    __tablename__ = "stories"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    dyad: Mapped[str] = mapped_column(String(8))
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    article_count: Mapped[int] = mapped_column(Integer)
    outlets: Mapped[list[str]] = mapped_column(default=list)
    content_hash: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str | None] = mapped_column(String(2))
    target: Mapped[str | None] = mapped_column(String(2))
    thread_id: Mapped[str | None] = mapped_column(String(40))  # the thread's first story
    continues: Mapped[str | None] = mapped_column(String(40))  # the story this one follows
    updated_at: Mapped[datetime]

    __table_args__ = (
        Index("ix_stories_dyad", "dyad"),
        Index("ix_stories_last_seen", "last_seen"),
        Index("ix_stories_thread_id", "thread_id"),
    )


class SummaryRow(Base):
    """The current summary of a story (pipeline.summarize), one per story."""

    __tablename__ = "summaries"

    story_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    backend: Mapped[str] = mapped_column(String(20))
    model: Mapped[str] = mapped_column(String(200))
    prompt_version: Mapped[str] = mapped_column(String(60))
    record: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]

    __table_args__ = (Index("ix_summaries_status", "status"),)


class LLMCacheRow(Base):
    """Summaries by (model, prompt version, story content hash): a re-run costs no call."""

    __tablename__ = "llm_cache"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    record: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]


class LLMCallRow(Base):
    """Usage of every story sent to the model: tokens, cost, outcome."""

    __tablename__ = "llm_calls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str | None] = mapped_column(String(64))
    story_id: Mapped[str] = mapped_column(String(40))
    model: Mapped[str] = mapped_column(String(200))
    calls: Mapped[int] = mapped_column(Integer)
    input_tokens: Mapped[int] = mapped_column(Integer)
    output_tokens: Mapped[int] = mapped_column(Integer)
    cost_usd: Mapped[float] = mapped_column(Float)
    outcome: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime]

    __table_args__ = (
        Index("ix_llm_calls_at", "at"),
        Index("ix_llm_calls_story_id", "story_id"),
    )


class DigestRow(Base):
    """A built digest (the JSON record), one per send date."""

    __tablename__ = "digests"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    generated_at: Mapped[datetime]
    content_hash: Mapped[str] = mapped_column(String(64))
    record: Mapped[dict[str, Any]]


class DeliveryRow(Base):
    """One digest to one recipient: claimed before sending, marked sent after the server accepts."""

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest_id: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(320))
    message_id: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20))  # pending | sending | sent | failed | skipped
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("digest_id", "recipient", name="uq_deliveries_digest_recipient"),
    )


class OptOutRow(Base):
    """An address that left the digest (``dyad unsubscribe``, a mailed request, a one-click
    link) or came back (``dyad resubscribe``): the latest change per address, lowercased."""

    __tablename__ = "opt_outs"

    address: Mapped[str] = mapped_column(String(320), primary_key=True)
    unsubscribed: Mapped[bool] = mapped_column(Boolean)
    changed_at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(20))  # command | mail | one-click
    detail: Mapped[str | None] = mapped_column(Text)


class LLMEndpointRow(Base):
    """The request shape an endpoint and model accept, learned from their errors
    (pipeline.summarize.providers): structured-output step, token-limit parameter, temperature."""

    __tablename__ = "llm_endpoints"

    endpoint: Mapped[str] = mapped_column(String(500), primary_key=True)
    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    basis: Mapped[str] = mapped_column(String(200))
    shape: Mapped[dict[str, Any]]
    reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]


class TombstoneRow(Base):
    """What a retention purge deleted, kept so it never comes back: an article's canonical URL
    (``article <url>``) or a feed entry (``entry <feed id> <entry key>``)."""

    __tablename__ = "tombstones"

    key: Mapped[str] = mapped_column(String(2200), primary_key=True)
    purged_at: Mapped[datetime]


class HostScheduleRow(Base):
    """Per-host request spacing and Retry-After shared by every fetching process."""

    __tablename__ = "host_schedule"

    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    next_start: Mapped[float] = mapped_column(Float, default=0.0)  # epoch seconds
    not_before: Mapped[datetime | None]
