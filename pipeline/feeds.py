"""Feeds: the subscription list (YAML, OPML), parsing feed bytes, and polling one feed.

``parse_feed(body, url, headers, fetched_at, settings)`` is pure: it never fetches or opens
anything. feedparser gets our bytes as ``io.BytesIO`` with the response headers (for the
charset and the base URL), after any DOCTYPE internal subset and ENTITY declaration has been
cut out of the bytes (no entity expansion, no external entities, no DTD fetches). Malformed feeds
keep the entries that parsed, with a warning; a body that is not a feed raises ``NotAFeed``.

OPML import/export uses defusedxml (entity declarations, DTDs and external references refused);
listparser was considered, but it fetches URLs itself when handed one, which we never allow.
"""

from __future__ import annotations

import hashlib
import io
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as SafeET
import feedparser
import yaml
from defusedxml import DefusedXmlException
from pydantic import ValidationError

from pipeline.config import FeedSettings
from pipeline.errors import ConfigError, NotAFeed, OPMLError
from pipeline.http import HttpClient
from pipeline.records import (
    FeedEntry,
    FeedPoll,
    FeedSpec,
    FeedValidators,
    FetchResult,
    ParsedFeed,
)
from pipeline.textclean import clean_text, html_to_text
from pipeline.urls import absolute_url, canonical_url, is_fetchable

PLAUSIBLE_PAST = timedelta(days=365 * 30)
PLAUSIBLE_FUTURE = timedelta(days=1)

# A DOCTYPE with an internal subset ([ ... ]) or without, and stray ENTITY declarations.
_DOCTYPE = re.compile(rb"<!DOCTYPE(?:[^\[>]*\[.*?\]\s*>|[^>]*>)", re.S | re.I)
_ENTITY = re.compile(rb"<!ENTITY[^>]*>", re.S | re.I)
_ATTLIST = re.compile(rb"<!(?:ATTLIST|ELEMENT|NOTATION)[^>]*>", re.S | re.I)
_XML_DECL_ENCODING = re.compile(r"""(<\?xml[^>]*?encoding\s*=\s*["'])[^"']*(["'])""", re.I)


# ---------------------------------------------------------------- the subscription list


def load_feed_list(path: Path) -> list[FeedSpec]:
    """The feeds in a ``feeds.yaml`` file. Raises ``ConfigError`` naming the bad entry."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read feed list: {exc}", item=str(path)) from exc
    items = data.get("feeds") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ConfigError("feed list must be a list under 'feeds:'", item=str(path))
    feeds: list[FeedSpec] = []
    seen: set[str] = set()
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise ConfigError(f"entry {number} is not a mapping", item=str(path))
        fields = dict(item)
        if "why" in fields:
            fields["note"] = fields.pop("why")
        fields["tags"] = tuple(fields.get("tags") or ())
        try:
            spec = FeedSpec(**fields)
        except ValidationError as exc:
            raise ConfigError(f"entry {number} is invalid: {exc}", item=str(path)) from exc
        if not is_fetchable(spec.url):
            raise ConfigError(f"entry {number} has no http(s) URL: {spec.url!r}", item=str(path))
        if spec.url in seen:
            raise ConfigError(f"entry {number} repeats {spec.url}", item=str(path))
        seen.add(spec.url)
        feeds.append(spec)
    return feeds


def dump_feed_list(feeds: Iterable[FeedSpec]) -> str:
    """``feeds`` as the YAML that ``load_feed_list`` reads."""
    items = []
    for feed in feeds:
        item: dict[str, Any] = {"name": feed.name, "url": feed.url}
        if feed.tags:
            item["tags"] = list(feed.tags)
        if feed.language:
            item["language"] = feed.language
        if not feed.enabled:
            item["enabled"] = False
        if feed.note:
            item["why"] = feed.note
        items.append(item)
    return yaml.safe_dump({"feeds": items}, sort_keys=False, allow_unicode=True, width=100)


def parse_opml(data: bytes) -> list[FeedSpec]:
    """Feeds listed in an OPML document; nested outline titles become tags.

    Raises ``OPMLError`` for entity declarations, DTDs, external references or non-OPML input.
    """
    try:
        root = SafeET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise OPMLError(f"unsafe OPML refused ({type(exc).__name__})") from exc
    except ET.ParseError as exc:
        raise OPMLError(f"not well-formed OPML: {exc}") from exc
    if root.tag.lower() != "opml":
        raise OPMLError(f"root element is <{root.tag}>, not <opml>")
    body = root.find("body")
    if body is None:
        raise OPMLError("OPML has no <body>")
    feeds: list[FeedSpec] = []
    seen: set[str] = set()

    def walk(node: ET.Element, tags: tuple[str, ...]) -> None:
        for outline in node.findall("outline"):
            url = (outline.get("xmlUrl") or outline.get("xmlurl") or "").strip()
            title = clean_text(
                outline.get("title") or outline.get("text") or "", 200, single_line=True
            )
            categories = tuple(
                c.strip().strip("/")
                for c in (outline.get("category") or "").split(",")
                if c.strip()
            )
            if url:
                if is_fetchable(url) and url not in seen:
                    seen.add(url)
                    feeds.append(
                        FeedSpec(
                            name=title or url,
                            url=url,
                            tags=tags + categories,
                            language=outline.get("language"),
                        )
                    )
            else:
                walk(outline, (*tags, title) if title else tags)

    walk(body, ())
    return feeds


def render_opml(feeds: Iterable[FeedSpec], title: str = "Dyad feeds") -> bytes:
    """An OPML 2.0 document listing ``feeds`` (tags in the ``category`` attribute)."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    body = ET.SubElement(root, "body")
    for feed in feeds:
        attrs = {"type": "rss", "text": feed.name, "title": feed.name, "xmlUrl": feed.url}
        if feed.tags:
            attrs["category"] = ",".join(feed.tags)
        if feed.language:
            attrs["language"] = feed.language
        ET.SubElement(body, "outline", attrs)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


# ---------------------------------------------------------------- parsing bytes


def neutralise_dtd(body: bytes) -> bytes:
    """``body`` without DOCTYPE declarations (and their internal subsets) or ENTITY/ATTLIST
    declarations, so no entity can be expanded and no external DTD referenced.

    UTF-16/32 documents (found by BOM) are re-encoded as UTF-8 first so the cut works on them.
    """
    for bom, codec in (
        (b"\xef\xbb\xbf", "utf-8-sig"),
        (b"\xff\xfe\x00\x00", "utf-32"),
        (b"\x00\x00\xfe\xff", "utf-32"),
        (b"\xff\xfe", "utf-16"),
        (b"\xfe\xff", "utf-16"),
    ):
        if body.startswith(bom):
            if codec != "utf-8-sig":
                text = body.decode(codec, errors="replace")
                body = _XML_DECL_ENCODING.sub(r"\1utf-8\2", text, count=1).encode("utf-8")
            break
    if b"<!" not in body:
        return body
    body = _DOCTYPE.sub(b"", body, count=1)
    body = _ENTITY.sub(b"", body)
    return _ATTLIST.sub(b"", body)


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


def _entry_record(
    entry: Mapping[str, Any], base_url: str, fetched_at: datetime, limits: FeedSettings
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
    raw_date = entry.get("published") or entry.get("updated") or entry.get("created")
    parsed = entry.get("published_parsed") or entry.get("updated_parsed")
    published, flag = parse_published(raw_date, parsed, fetched_at)
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
    if head.startswith((b"{", b"[")):
        return "JSON, not a feed"
    if b"<html" in head or b"<!doctype html" in head or b"<body" in head:
        return "an HTML page, not a feed"
    if not head:
        return "empty document"
    return "not an RSS/Atom/RDF document"


def parse_feed(
    body: bytes, url: str, headers: Mapping[str, str], fetched_at: datetime, limits: FeedSettings
) -> ParsedFeed:
    """Entries of a feed body as clean records. Pure: no I/O, no clock (``fetched_at`` is given).

    Raises ``NotAFeed`` when the bytes hold no feed (HTML, JSON, garbage, empty, truncated to
    nothing). A malformed feed with some good entries returns them with ``partial`` set and
    the parser's complaint in ``warnings``. Only the first ``limits.max_items`` entries are kept.
    """
    if not body.strip():
        raise NotAFeed("empty document", item=url)
    cleaned = neutralise_dtd(body)
    response_headers = {k.lower(): v for k, v in headers.items()}
    response_headers.setdefault("content-location", url)
    parsed = feedparser.parse(
        io.BytesIO(cleaned),
        response_headers=response_headers,
        sanitize_html=True,
        resolve_relative_uris=True,
    )
    entries = list(parsed.get("entries", []))
    version = parsed.get("version", "") or ""
    if not version and not entries:
        raise NotAFeed(_not_a_feed_reason(cleaned), item=url)
    warnings: list[str] = []
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
    kept = entries[: limits.max_items]
    base = url
    records = [_entry_record(e, base, fetched_at, limits) for e in kept]
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


# ---------------------------------------------------------------- polling one feed


def conditional_headers(
    validators: FeedValidators, now: datetime, unconditional_every: timedelta | None
) -> tuple[dict[str, str], bool]:
    """The request headers for a feed poll and whether this poll is deliberately unconditional.

    The stored ETag and Last-Modified strings are sent back exactly as received. Once every
    ``unconditional_every`` they are left out, to catch servers that answer 304 wrongly.
    """
    due = unconditional_every is not None and (
        validators.last_unconditional_at is None
        or now - validators.last_unconditional_at >= unconditional_every
    )
    if due:
        return {}, True
    headers: dict[str, str] = {}
    if validators.etag:
        headers["If-None-Match"] = validators.etag
    if validators.last_modified:
        headers["If-Modified-Since"] = validators.last_modified
    return headers, False


def poll_feed(
    client: HttpClient,
    url: str,
    validators: FeedValidators,
    now: datetime,
    limits: FeedSettings,
) -> FeedPoll:
    """Fetch one feed (conditionally) and parse it. Raises ``FetchError`` or ``NotAFeed``."""
    every = (
        timedelta(hours=limits.unconditional_every_hours)
        if limits.unconditional_every_hours
        else None
    )
    headers, unconditional = conditional_headers(validators, now, every)
    result: FetchResult = client.fetch(url, purpose="feed", headers=headers)
    moved = next((loc for status, loc in result.redirects if status in (301, 308)), None)
    etag = result.headers.get("etag") or validators.etag
    modified = result.headers.get("last-modified") or validators.last_modified
    if result.status == 304:
        return FeedPoll(
            url=url,
            final_url=result.final_url,
            status=304,
            etag=etag,
            last_modified=modified,
            unconditional=unconditional,
            permanent_redirect=moved,
        )
    parsed = parse_feed(result.body, result.final_url, result.headers, now, limits)
    return FeedPoll(
        url=url,
        final_url=result.final_url,
        status=result.status,
        parsed=parsed,
        etag=result.headers.get("etag"),
        last_modified=result.headers.get("last-modified"),
        unconditional=unconditional,
        permanent_redirect=moved,
    )
