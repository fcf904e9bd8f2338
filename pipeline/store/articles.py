"""Entries, articles and their extraction (their detection: ``pipeline.store.detection``).

Rules every function keeps: ingest never deletes; each entry and each article is written in its
own transaction, so one bad item never rolls back the others; writes are keyed by canonical URL
(http/https and a trailing slash matched as one article, see ``article_keys``) and (feed, entry
key), so re-running on the same data changes no row counts. Times are passed in, never read
here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, select, true, update
from sqlalchemy.exc import SQLAlchemyError

from pipeline.errors import DyadError
from pipeline.records import ArticleStatus, DyadDetection, ExtractedPage, FeedEntry
from pipeline.store.db import in_chunks, upsert_insert
from pipeline.store.detection import detection_values
from pipeline.store.retention import article_tombstone, entry_tombstone, tombstoned
from pipeline.store.tables import ArticleRow, EntryRow
from pipeline.urls import equivalent_urls


@dataclass(frozen=True)
class EntryOutcome:
    outcome: str  # "new" | "updated" | "duplicate" | "purged"
    article_id: int


def article_key(entry: FeedEntry) -> str:
    """What an entry's article row is stored under (``articles.canonical_url``): its canonical
    URL, or a content URN without a link."""
    return entry.canonical_url or f"urn:dyad:{entry.content_hash}"


def article_keys(entry: FeedEntry) -> tuple[str, ...]:
    """Every stored key that names the entry's article: its canonical URL under https or http,
    with or without a trailing slash (``pipeline.urls.equivalent_urls``), so an item
    republished with an https link or a trailing slash finds its article. Rows keep the form
    first seen; nothing stored is rewritten, so rows written before this rule still match."""
    if entry.canonical_url is None:
        return (article_key(entry),)
    return equivalent_urls(entry.canonical_url)


def _feed_text(entry: FeedEntry) -> tuple[str, str]:
    if entry.content and len(entry.content) >= len(entry.summary):
        return entry.content, "feed_content"
    if entry.summary:
        return entry.summary, "feed_summary"
    return "", "none"


def store_entry(engine: Engine, feed_id: int, entry: FeedEntry, now: datetime) -> EntryOutcome:
    """Upsert one feed entry and its article in one transaction; say whether it was new.

    "purged": deleted by a retention purge, never stored again; "new": a story not seen before;
    "duplicate": seen before (same item again, or the same
    article under another GUID or in another feed, now linked to this feed too); "updated":
    the item's text changed, so its page is fetched again.
    """
    with engine.begin() as conn:
        return _store_entry(conn, feed_id, entry, now)


def store_entries(
    engine: Engine, feed_id: int, entries: Sequence[FeedEntry], now: datetime
) -> list[EntryOutcome | SQLAlchemyError]:
    """Store a feed's entries as ``store_entry`` does, in one transaction (one commit per feed,
    not per entry: a quarter to a half of the feeds stage's time went to commits and their round
    trips) and with a handful of statements for the whole feed (``_store_batch``). When the
    batch fails, it is rolled back and every entry is stored again in its own transaction, so
    one bad entry costs only itself: its error is returned in its place and the others are
    kept."""
    try:
        with engine.begin() as conn:
            return list(_store_batch(conn, feed_id, entries, now))
    except SQLAlchemyError:
        pass  # one entry (or a concurrent writer) failed the batch: store them one by one
    outcomes: list[EntryOutcome | SQLAlchemyError] = []
    for entry in entries:
        try:
            outcomes.append(store_entry(engine, feed_id, entry, now))
        except SQLAlchemyError as exc:
            outcomes.append(exc)
    return outcomes


def _article_ids(conn: Connection, keys: Sequence[str]) -> dict[str, int]:
    """The stored article id under each of ``keys`` that names one."""
    found: dict[str, int] = {}
    for chunk in in_chunks(keys):
        rows = conn.execute(
            select(ArticleRow.canonical_url, ArticleRow.id).where(
                ArticleRow.canonical_url.in_(chunk)
            )
        )
        found.update({row.canonical_url: row.id for row in rows})
    return found


def _stored_entries(conn: Connection, feed_id: int, keys: Sequence[str]) -> dict[str, Any]:
    """The feed's stored entries (id, content hash) under these entry keys."""
    found: dict[str, Any] = {}
    for chunk in in_chunks(keys):
        rows = conn.execute(
            select(EntryRow.entry_key, EntryRow.id, EntryRow.content_hash).where(
                EntryRow.feed_id == feed_id, EntryRow.entry_key.in_(chunk)
            )
        )
        found.update({row.entry_key: row for row in rows})
    return found


def _insert_articles(conn: Connection, entries: Sequence[FeedEntry], now: datetime) -> set[str]:
    """Insert the articles of ``entries`` in one statement, one per article (the first entry's,
    as entries naming the same article by equivalent URLs are one); the keys this call
    inserted (a concurrent writer may have stored others first)."""
    rows: list[dict[str, Any]] = []
    claimed: set[str] = set()  # the keys of the articles inserted here, in every equivalent form
    for entry in entries:
        keys = article_keys(entry)
        if claimed.isdisjoint(keys):
            rows.append(_article_values(entry, now))
        claimed.update(keys)
    if not rows:
        return set()
    inserted = conn.execute(
        upsert_insert(conn, ArticleRow)
        .on_conflict_do_nothing(index_elements=["canonical_url"])
        .returning(ArticleRow.canonical_url),
        rows,
    )
    return set(inserted.scalars().all())


def _store_batch(
    conn: Connection, feed_id: int, entries: Sequence[FeedEntry], now: datetime
) -> list[EntryOutcome]:
    """``_store_entry`` for each entry in order, with the same outcomes, in about six
    statements for the whole feed: tombstones, articles and entries looked up with one query
    each, new articles and new entries inserted with one statement each, the entries seen
    again touched with one update; only an entry whose text changed has statements of its own.
    A feed that repeats an entry key is stored entry by entry (the later item sees the
    earlier)."""
    if len({e.entry_key for e in entries}) < len(entries):
        return [_store_entry(conn, feed_id, entry, now) for entry in entries]
    purge_keys = {
        id(e): (
            *(article_tombstone(k) for k in article_keys(e)),
            entry_tombstone(feed_id, e.entry_key),
        )
        for e in entries
    }
    purged = tombstoned(conn, [k for keys in purge_keys.values() for k in keys])
    live = [e for e in entries if purged.isdisjoint(purge_keys[id(e)])]
    ids = _article_ids(conn, [k for e in live for k in article_keys(e)])
    unknown = [e for e in live if not any(k in ids for k in article_keys(e))]
    inserted = _insert_articles(conn, unknown, now)
    ids |= _article_ids(conn, [k for e in unknown for k in article_keys(e)])
    stored = _stored_entries(conn, feed_id, [e.entry_key for e in live])
    outcomes: dict[int, EntryOutcome] = {}
    new_rows: list[dict[str, Any]] = []
    seen_again: list[int] = []
    for entry in live:
        article_id = min(ids[k] for k in article_keys(entry) if k in ids)
        article_new = article_key(entry) in inserted and ids[article_key(entry)] == article_id
        inserted.discard(article_key(entry))  # a later entry of the same article: a duplicate
        existing = stored.get(entry.entry_key)
        if existing is None:
            new_rows.append(_entry_values(feed_id, entry, article_id, now))
            outcome = "new" if article_new else "duplicate"
        elif existing.content_hash == entry.content_hash:
            seen_again.append(existing.id)
            outcome = "duplicate"
        else:
            _update_changed_entry(conn, existing.id, entry, article_id, now)
            outcome = "updated"
        outcomes[id(entry)] = EntryOutcome(outcome, article_id)
    if new_rows:
        conn.execute(
            upsert_insert(conn, EntryRow).on_conflict_do_nothing(
                index_elements=["feed_id", "entry_key"]
            ),
            new_rows,
        )
    for chunk in in_chunks(seen_again):
        conn.execute(update(EntryRow).where(EntryRow.id.in_(chunk)).values(last_seen_at=now))
    return [outcomes.get(id(e), EntryOutcome("purged", 0)) for e in entries]


def _store_entry(conn: Connection, feed_id: int, entry: FeedEntry, now: datetime) -> EntryOutcome:
    purged = (
        *(article_tombstone(key) for key in article_keys(entry)),
        entry_tombstone(feed_id, entry.entry_key),
    )
    if tombstoned(conn, purged):
        return EntryOutcome("purged", 0)
    article_id, article_new = _upsert_article(conn, entry, now)
    existing = conn.execute(
        select(EntryRow.id, EntryRow.content_hash).where(
            EntryRow.feed_id == feed_id, EntryRow.entry_key == entry.entry_key
        )
    ).first()
    if existing is None:
        _insert_entry(conn, feed_id, entry, article_id, now)
        return EntryOutcome("new" if article_new else "duplicate", article_id)
    if existing.content_hash == entry.content_hash:
        conn.execute(update(EntryRow).where(EntryRow.id == existing.id).values(last_seen_at=now))
        return EntryOutcome("duplicate", article_id)
    _update_changed_entry(conn, existing.id, entry, article_id, now)
    return EntryOutcome("updated", article_id)


def _upsert_article(conn: Connection, entry: FeedEntry, now: datetime) -> tuple[int, bool]:
    """The id of the entry's article, inserted when new; and whether this call inserted it."""
    found = (
        select(ArticleRow.id)
        .where(ArticleRow.canonical_url.in_(article_keys(entry)))
        .order_by(ArticleRow.id)
        .limit(1)
    )
    article_id = conn.execute(found).scalar()
    if article_id is not None:
        return article_id, False
    inserted = conn.execute(
        upsert_insert(conn, ArticleRow)
        .values(**_article_values(entry, now))
        .on_conflict_do_nothing(index_elements=["canonical_url"])
        .returning(ArticleRow.id)
    ).scalar_one_or_none()
    if inserted is not None:
        return inserted, True
    return conn.execute(found).scalar_one(), False  # a concurrent writer got there first


def _article_values(entry: FeedEntry, now: datetime) -> dict[str, Any]:
    """The new article row of an entry (its page pending when it has a link)."""
    text, source = _feed_text(entry)
    return {
        "canonical_url": article_key(entry),
        "url": entry.canonical_url,
        "title": entry.title,
        "feed_summary": entry.summary,
        "feed_content": entry.content,
        "text": text,
        "text_source": source,
        "status": ArticleStatus.PENDING
        if entry.link
        else (ArticleStatus.FALLBACK if text else ArticleStatus.FAILED),
        "attempts": 0,
        "entry_hash": entry.content_hash,
        "published_at": entry.published_at,
        "date_flag": entry.date_flag,
        "author": ", ".join(entry.authors) or None,
        "first_seen_at": now,
        "updated_at": now,
        "last_error_kind": None if entry.link else "no_link",
        "last_error": None if entry.link else "item has no usable link; feed text kept",
    }


def _entry_values(feed_id: int, entry: FeedEntry, article_id: int, now: datetime) -> dict[str, Any]:
    """The new entry row of ``entry`` in feed ``feed_id``."""
    return {
        "feed_id": feed_id,
        "entry_key": entry.entry_key,
        "guid": entry.guid,
        "link": entry.link,
        "article_id": article_id,
        "title": entry.title,
        "published_at": entry.published_at,
        "content_hash": entry.content_hash,
        "first_seen_at": now,
        "last_seen_at": now,
    }


def _insert_entry(
    conn: Connection, feed_id: int, entry: FeedEntry, article_id: int, now: datetime
) -> None:
    conn.execute(
        upsert_insert(conn, EntryRow)
        .values(**_entry_values(feed_id, entry, article_id, now))
        .on_conflict_do_nothing(index_elements=["feed_id", "entry_key"])
    )


def _update_changed_entry(
    conn: Connection, entry_id: int, entry: FeedEntry, article_id: int, now: datetime
) -> None:
    """A known item whose text changed: new text on the entry and the article, detection
    cleared, and (with a link) the page fetched again."""
    conn.execute(
        update(EntryRow)
        .where(EntryRow.id == entry_id)
        .values(
            title=entry.title,
            published_at=entry.published_at,
            content_hash=entry.content_hash,
            last_seen_at=now,
        )
    )
    changes: dict[str, Any] = {
        "title": entry.title,
        "feed_summary": entry.summary,
        "feed_content": entry.content,
        "entry_hash": entry.content_hash,
        "updated_at": now,
        "gazetteer_version": None,  # the text may change: detect again
    }
    if entry.link:
        changes.update(status=ArticleStatus.PENDING, attempts=0, next_attempt_after=None)
    conn.execute(update(ArticleRow).where(ArticleRow.id == article_id).values(**changes))


@dataclass(frozen=True)
class PendingArticle:
    id: int
    url: str
    attempts: int
    title: str = ""
    published_at: datetime | None = None
    entry_hash: str | None = None
    """The article's item when its page became due: ``save_extraction`` stores the page only
    while the item is still that one."""


def _due(engine: Engine, now: datetime, max_attempts: int, among: Any) -> list[PendingArticle]:
    """The pending articles ``among`` selects whose page has to be fetched (a link, attempts
    left) and whose retry time came."""
    stmt = (
        select(
            ArticleRow.id,
            ArticleRow.url,
            ArticleRow.attempts,
            ArticleRow.title,
            ArticleRow.published_at,
            ArticleRow.entry_hash,
        )
        .where(
            ArticleRow.status == ArticleStatus.PENDING,
            ArticleRow.url.is_not(None),
            ArticleRow.attempts < max_attempts,
            (ArticleRow.next_attempt_after.is_(None)) | (ArticleRow.next_attempt_after <= now),
            among,
        )
        .order_by(ArticleRow.id)
    )
    with engine.connect() as conn:
        return [
            PendingArticle(r.id, r.url, r.attempts, r.title or "", r.published_at, r.entry_hash)
            for r in conn.execute(stmt)
        ]


def pending_articles(
    engine: Engine, feed_ids: Sequence[int], now: datetime, max_attempts: int
) -> list[PendingArticle]:
    """Articles of these feeds whose page still has to be fetched and whose retry time came."""
    of_feeds = select(EntryRow.article_id).where(EntryRow.feed_id.in_(list(feed_ids)))
    return _due(engine, now, max_attempts, ArticleRow.id.in_(of_feeds))


def pending_article(
    engine: Engine, article_id: int, now: datetime, max_attempts: int
) -> PendingArticle | None:
    """The article, when its page still has to be fetched and its retry time came."""
    found = _due(engine, now, max_attempts, ArticleRow.id == article_id)
    return found[0] if found else None


def claim_article(engine: Engine, article_id: int, now: datetime, lease: timedelta) -> bool:
    """Take a pending article for this run: its retry time moves ``lease`` ahead, so a
    concurrent ingest (another process or Celery worker) skips it instead of fetching and
    extracting the page a second time. False when another run holds it or it is no longer
    pending. Saving the extraction or the failure sets the retry time anew."""
    with engine.begin() as conn:
        claimed = conn.execute(
            update(ArticleRow)
            .where(
                ArticleRow.id == article_id,
                ArticleRow.status == ArticleStatus.PENDING,
                (ArticleRow.next_attempt_after.is_(None)) | (ArticleRow.next_attempt_after <= now),
            )
            .values(next_attempt_after=now + lease)
        )
    return claimed.rowcount == 1


def save_extraction(
    engine: Engine,
    article_id: int,
    page: ExtractedPage,
    content_hash: str,
    now: datetime,
    detection: DyadDetection | None = None,
    entry_hash: str | None = None,
) -> bool:
    """Store the page's text and metadata; the article becomes "extracted". With
    ``detection`` (made on this text, the article's title and date), its result is stored in
    the same statement, as ``pipeline.store.detection.save_detection`` stores it; without, the
    article waits for detection (no gazetteer version). With ``entry_hash`` (the item's when
    the page became due), nothing is stored when a feed changed the item meanwhile: the article
    stays pending, its page due again. Returns whether the page was stored."""
    values: dict[str, Any] = {
        "gazetteer_version": None,
        "text": page.text,
        "text_source": "page",
        "status": ArticleStatus.EXTRACTED,
        "content_hash": content_hash,
        "site_name": page.site_name,
        "language": page.language,
        "page_date": page.date,
        "extracted_at": now,
        "updated_at": now,
        "last_error_kind": None,
        "last_error": None,
        "next_attempt_after": None,
    }
    if page.title:
        values["title"] = page.title
    if detection is not None:
        values.update(detection_values(detection))
    same_item = ArticleRow.entry_hash == entry_hash if entry_hash is not None else true()
    with engine.begin() as conn:
        stored = conn.execute(
            update(ArticleRow)
            .where(ArticleRow.id == article_id, same_item)
            .values(attempts=ArticleRow.attempts + 1, **values)
        )
    return bool(stored.rowcount)


def save_article_failure(
    engine: Engine,
    article_id: int,
    error: DyadError,
    now: datetime,
    *,
    final: bool,
    retry_at: datetime | None,
) -> ArticleStatus:
    """Keep the feed's own text for an article whose page failed. Returns the new status:
    "pending" (tried again next run), "fallback" (feed text kept for good) or "failed"."""
    with engine.begin() as conn:
        row = conn.execute(
            select(ArticleRow.feed_content, ArticleRow.feed_summary, ArticleRow.attempts).where(
                ArticleRow.id == article_id
            )
        ).one()
        text, source = (
            (row.feed_content, "feed_content")
            if row.feed_content and len(row.feed_content) >= len(row.feed_summary)
            else (row.feed_summary, "feed_summary")
        )
        if not text:
            source = "none"
        status = (
            ArticleStatus.PENDING
            if not final
            else (ArticleStatus.FALLBACK if text else ArticleStatus.FAILED)
        )
        conn.execute(
            update(ArticleRow)
            .where(ArticleRow.id == article_id)
            .values(
                attempts=row.attempts + (0 if error.kind == "deferred" else 1),
                status=status,
                text=text,
                text_source=source,
                gazetteer_version=None,
                last_error_kind=error.kind,
                last_error=str(error)[:2000],
                next_attempt_after=retry_at,
                updated_at=now,
            )
        )
    return status
