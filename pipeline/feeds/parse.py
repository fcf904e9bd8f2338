"""Parsing feed bytes: ``parse_feed(body, url, headers, fetched_at, settings)`` is pure; it
never fetches or opens anything. See the package docstring for what it guarantees."""

from __future__ import annotations

import hashlib
import io
import re
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import feedparser

from pipeline.config import FeedSettings
from pipeline.errors import NotAFeed
from pipeline.feeds.prolog import decode_to_utf8, neutralise_dtd, refuse_surviving_dtd
from pipeline.records import (
    FeedEntry,
    ParsedFeed,
)
from pipeline.textclean import clean_text, html_to_text
from pipeline.urls import absolute_url, canonical_url

PLAUSIBLE_PAST = timedelta(days=365 * 30)
PLAUSIBLE_FUTURE = timedelta(days=1)


def _plausible(when: datetime, fetched_at: datetime) -> bool:
    return fetched_at - PLAUSIBLE_PAST <= when <= fetched_at + PLAUSIBLE_FUTURE


def parse_published(
    raw: str | None, fallback: time.struct_time | None, fetched_at: datetime
) -> tuple[datetime | None, str | None]:
    """A UTC publication time from a feed's date text, or (None, reason) when it is not credible.

    RFC 822 and ISO 8601 are parsed strictly (an impossible day is an error, never rolled over);
    other formats are taken from feedparser only when its year and day appear in the text.
    Dates outside [fetched_at - 30 years, fetched_at + 1 day] are rejected and flagged.
    """
    text = clean_text(raw, 200, single_line=True)
    if not text:
        return None, None
    when: datetime | None = None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            when = None
    if when is None and fallback is not None:
        numbers = {int(n) for n in re.findall(r"\d+", text)}
        if fallback.tm_year in numbers and fallback.tm_mday in numbers:
            when = datetime(*fallback[:6], tzinfo=UTC)
    if when is None:
        return None, f"unparseable date {text[:60]!r}"
    when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
    if not _plausible(when, fetched_at):
        return None, f"implausible date {text[:60]!r}"
    return when, None


def _hash(*parts: str) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\x00")
    return digest.hexdigest()[:32]


def _detail_text(value: str, detail: Mapping[str, Any] | None, cap: int, single: bool) -> str:
    if detail and "html" in str(detail.get("type", "")):
        text = html_to_text(value, cap)
        return " ".join(text.split()) if single else text
    return clean_text(value, cap, single_line=single)


def _entry_published(
    entry: Mapping[str, Any], fetched_at: datetime
) -> tuple[datetime | None, str | None]:
    """The entry's publication time (or its update/creation time) and any date flag."""
    raw_date = entry.get("published") or entry.get("updated") or entry.get("created")
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    return parse_published(raw_date, parsed, fetched_at)


def newest_entries(
    entries: Sequence[Mapping[str, Any]], fetched_at: datetime, count: int
) -> list[tuple[Mapping[str, Any], tuple[datetime | None, str | None]]]:
    """The ``count`` newest entries with their dates, in document order. Newest means by
    publication time, dated entries before undated ones, then document order: a feed may list
    its items oldest first, and its first ``count`` would then be its oldest."""
    dated = [(i, entry, _entry_published(entry, fetched_at)) for i, entry in enumerate(entries)]
    dated.sort(key=lambda d: (d[2][0] is None, -d[2][0].timestamp() if d[2][0] else 0.0, d[0]))
    kept = sorted(dated[:count], key=lambda d: d[0])
    return [(entry, published) for _index, entry, published in kept]


def _entry_record(
    entry: Mapping[str, Any],
    dates: tuple[datetime | None, str | None],
    base_url: str,
    limits: FeedSettings,
) -> FeedEntry:
    title = _detail_text(
        entry.get("title", ""), entry.get("title_detail"), limits.title_max_chars, True
    )
    summary = _detail_text(
        entry.get("summary", ""), entry.get("summary_detail"), limits.summary_max_chars, False
    )
    contents = [c.get("value", "") for c in entry.get("content", []) or []]
    content = html_to_text(max(contents, key=len), limits.summary_max_chars) if contents else ""
    guid = clean_text(entry.get("id"), 2048, single_line=True) or None
    link = absolute_url(entry.get("link"), base_url)
    canonical = canonical_url(link) if link else None
    published, flag = dates
    authors = tuple(
        clean_text(a.get("name"), 200, single_line=True)
        for a in entry.get("authors", []) or []
        if isinstance(a, Mapping) and a.get("name")
    )
    content_hash = _hash(title, summary, content)
    key = (
        _hash("entry", guid or "", canonical or link or "")
        if (guid or link)
        else f"h-{content_hash}"
    )
    return FeedEntry(
        entry_key=key,
        guid=guid,
        link=link,
        canonical_url=canonical,
        title=title,
        summary=summary,
        content=content,
        published_at=published,
        date_flag=flag,
        authors=authors,
        content_hash=content_hash,
    )


def _not_a_feed_reason(body: bytes) -> str:
    head = body[:2048].lstrip().lower()
    if head.startswith(b"<?xml"):  # the declaration feedparser's decoder puts on every body
        head = head.partition(b"?>")[2].lstrip()
    if head.startswith((b"{", b"[")):
        return "JSON, not a feed"
    if b"<html" in head or b"<!doctype html" in head or b"<body" in head:
        return "an HTML page, not a feed"
    if not head:
        return "empty document"
    return "not an RSS/Atom/RDF document"


def _parse_safely(
    body: bytes, url: str, headers: Mapping[str, str]
) -> tuple[Any, bytes, list[str]]:
    """feedparser's result for ``body`` decoded to UTF-8 with its DTD cut out (see
    ``pipeline.feeds.prolog``), the bytes it parsed, and a charset warning if any."""
    response_headers = {k.lower(): v for k, v in headers.items()}
    response_headers.setdefault("content-location", url)
    utf8, response_headers, charset_warning = decode_to_utf8(body, response_headers)
    cleaned = neutralise_dtd(utf8)
    refuse_surviving_dtd(cleaned, url)
    parsed = feedparser.parse(
        io.BytesIO(cleaned),
        response_headers=response_headers,
        # Off: feedparser's sanitiser strips aria-hidden, visibility:hidden and <template> but
        # keeps their text; html_to_text judges visibility on the raw HTML and keeps only text
        # (no tag, attribute, script or style survives it).
        sanitize_html=False,
        resolve_relative_uris=True,
    )
    return parsed, cleaned, [charset_warning] if charset_warning else []


def parse_feed(
    body: bytes, url: str, headers: Mapping[str, str], fetched_at: datetime, limits: FeedSettings
) -> ParsedFeed:
    """Entries of a feed body as clean records. Pure: no I/O, no clock (``fetched_at`` is given).

    Raises ``NotAFeed`` when the bytes hold no feed (HTML, JSON, garbage, empty, truncated to
    nothing) and ``DTDNotAllowed`` when a DTD survives the cut. A malformed feed with some good
    entries returns them with ``partial`` set and the parser's complaint in ``warnings``. Only
    the newest ``limits.max_items`` entries are kept (see ``newest_entries``).
    """
    if not body.strip():
        raise NotAFeed("empty document", item=url)
    parsed, cleaned, warnings = _parse_safely(body, url, headers)
    entries = list(parsed.get("entries", []))
    version = parsed.get("version", "") or ""
    if not version and not entries:
        raise NotAFeed(_not_a_feed_reason(cleaned), item=url)
    partial = False
    if parsed.get("bozo"):
        exc = parsed.get("bozo_exception")
        name = type(exc).__name__
        if name in ("CharacterEncodingOverride", "CharacterEncodingUnknown"):
            warnings.append(f"charset: {exc}")
        else:
            partial = True
            warnings.append(
                f"malformed feed ({name}: {str(exc)[:200]}); kept {len(entries)} entries"
            )
    kept = newest_entries(entries, fetched_at, limits.max_items)
    records = [_entry_record(entry, dates, url, limits) for entry, dates in kept]
    empty = [r for r in records if not (r.title or r.link or r.summary or r.content)]
    if empty:  # e.g. the cut-off last item of a truncated feed
        records = [r for r in records if r not in empty]
        warnings.append(f"{len(empty)} empty items ignored")
    guids = [r.guid for r in records if r.guid]
    if guids and (len(guids) - len(set(guids))) > 0.05 * len(guids):
        warnings.append("more than 5% of items share a GUID; items are told apart by link")
    if partial and not records:
        raise NotAFeed(f"unparseable feed: {warnings[-1]}", item=url)
    feed_info = parsed.get("feed", {})
    return ParsedFeed(
        title=clean_text(feed_info.get("title", ""), limits.title_max_chars, single_line=True),
        version=version,
        entries=tuple(records),
        skipped=max(0, len(entries) - len(kept)),
        warnings=tuple(warnings),
        partial=partial,
    )
