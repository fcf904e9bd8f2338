"""The subscription list: ``feeds.yaml`` read and written, OPML imported and exported.

OPML uses defusedxml (entity declarations, DTDs and external references refused); listparser
was considered, but it fetches URLs itself when handed one, which we never allow.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as SafeET
import yaml
from defusedxml import DefusedXmlException
from pydantic import ValidationError

from pipeline.config import read_yaml_file, validation_lines
from pipeline.errors import ConfigError, OPMLError
from pipeline.records import (
    FeedSpec,
)
from pipeline.textclean import clean_text
from pipeline.urls import is_fetchable


def load_feed_list(path: Path) -> list[FeedSpec]:
    """The feeds in a ``feeds.yaml`` file. Raises ``ConfigError`` naming the bad entry."""
    data = read_yaml_file(path, "feed list")
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
        fields["tags"] = _tags(fields.get("tags"), number, path)
        try:
            spec = FeedSpec(**fields)
        except ValidationError as exc:
            lines = "".join(f"\n  {line}" for line in validation_lines(exc))
            raise ConfigError(f"feed list {path}: entry {number} is invalid:{lines}") from exc
        if not is_fetchable(spec.url):
            raise ConfigError(f"entry {number} has no http(s) URL: {spec.url!r}", item=str(path))
        if spec.url in seen:
            raise ConfigError(f"entry {number} repeats {spec.url}", item=str(path))
        seen.add(spec.url)
        feeds.append(spec)
    return feeds


def _tags(value: Any, number: int, path: Path) -> tuple[str, ...]:
    """An entry's ``tags``: a YAML list, or nothing. A bare string is refused rather than split
    into one-letter tags (``tags: "asia"`` would otherwise become a, s, i, a)."""
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ConfigError(
            f"feed list {path}: entry {number}: tags must be a list such as [wire, asia], "
            f"not {type(value).__name__} {value!r}"
        )
    return tuple(value)


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
