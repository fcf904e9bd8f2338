"""Rendering a digest: JSON, HTML email (+ plain text), Markdown, an Atom feed, a static site.

HTML comes from Jinja2 templates with autoescaping on, so a hostile headline arrives as text;
links are only our records' http(s) URLs (``Source.url`` is None otherwise). The email (lead,
contents, pairs, in a size budget) is laid out by ``mail.render_email``; its CSS is inlined
with css-inline (Rust, maintained; it keeps the ``@media`` rules for dark mode in a style
block, which clients that support them read). The subject and preheader come from ``lead``.
The archive (index, search, digest and pair pages) is written by ``archive``. The Atom feed
is built with ElementTree (escaping by construction) and reads back in feedparser without
errors: one short entry (the lead and a link) per digest with stories, the newest
``ATOM_ENTRIES``.
"""

from __future__ import annotations

import json
import re
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined

from pipeline.digest.archive import ARCHIVE_FILTERS, write_archive
from pipeline.digest.lead import lead_items, render_subject
from pipeline.digest.mail import EMAIL_MAX_BYTES, FILTERS, lead_context, render_email
from pipeline.digest.model import Digest, MailFooter
from pipeline.digest.parts import PART_FILTERS

__all__ = [
    "render_atom",
    "render_html",
    "render_json",
    "render_markdown",
    "render_subject",
    "render_text",
    "write_site",
]
ATOM = "http://www.w3.org/2005/Atom"
ATOM_ENTRIES = 60
"""The Atom feed keeps the newest 60 digests with stories; the archive site keeps all."""
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|>~-])")


def _local(value: datetime, zone: str) -> str:
    return value.astimezone(ZoneInfo(zone)).strftime("%d %b %H:%M")


def _signed(value: float | int) -> str:
    return f"+{value}" if value > 0 else str(value)


def _markdown(value: str) -> str:
    return _MD_SPECIAL.sub(r"\\\1", value).replace("<", "&lt;").replace(">", "&gt;")


def _environment(autoescape: bool) -> Environment:
    env = Environment(
        loader=PackageLoader("pipeline.digest", "templates"),
        autoescape=autoescape,  # noqa: S701 (text and Markdown outputs escape with their own filter)
        undefined=StrictUndefined,
        trim_blocks=False,
        keep_trailing_newline=True,
    )
    env.filters.update(local=_local, signed=_signed, md=_markdown)
    env.filters.update(FILTERS)
    env.filters.update(ARCHIVE_FILTERS)
    env.filters.update(PART_FILTERS)
    return env


_HTML = _environment(autoescape=True)
_TEXT = _environment(autoescape=False)


def render_json(digest: Digest) -> str:
    """The digest as JSON (matches ``digest.schema.json``)."""
    return json.dumps(digest.model_dump(mode="json"), ensure_ascii=False, indent=2) + "\n"


def render_html(
    digest: Digest,
    site_url: str | None = None,
    *,
    footer: MailFooter | None = None,
    max_bytes: int | None = EMAIL_MAX_BYTES,
) -> str:
    """The HTML email, CSS inlined, under ``max_bytes`` as sent (what does not fit is linked to
    the web version at ``site_url``); ``max_bytes=None``: everything, for the archive. With
    ``footer``, one recipient's copy (why they get it, how to unsubscribe, the web version)."""
    return render_email(_HTML, digest, site_url, max_bytes, footer)


def render_text(
    digest: Digest, footer: MailFooter | None = None, site_url: str | None = None
) -> str:
    """The plain-text alternative of the email (with ``footer`` as in ``render_html``; with
    ``site_url``, each continuing story's thread page in the archive)."""
    text = _TEXT.get_template("email.txt.j2").render(
        **lead_context(digest, site_url), footer=footer
    )
    return re.sub(r"\n{3,}", "\n\n", text)


def render_markdown(digest: Digest, site_url: str | None = None) -> str:
    """The digest as Markdown (text escaped; links in angle brackets; with ``site_url``, each
    continuing story's thread page in the archive)."""
    page = _TEXT.get_template("digest.md.j2").render(**lead_context(digest, site_url))
    return re.sub(r"\n{3,}", "\n\n", page)


def atom_lead(digest: Digest, site_url: str | None = None) -> tuple[str, str]:
    """The lead of one digest for its feed entry, as (plain text, HTML): the email's lead
    (``lead.lead_items``: the 3 to 5 developments that matter most, each with its pair), and how
    many more pairs and stories the digest has. The HTML gives each lead story's "continuing"
    mark (linked to its thread page under ``site_url``), both sides, its quote and its key
    points with their outlets."""
    lines = [
        f"{item.dyad.names[0]} – {item.dyad.names[1]}: {item.story.headline}"
        for item in lead_items(digest)
    ]
    stories = sum(len(d.stories) for d in digest.dyads)
    pairs = len(digest.dyads) + digest.more_dyads
    rest = pairs - len(lines)
    tail = f"{stories} stories in {pairs} country pairs"
    tail += f" ({rest} more pairs in the digest)." if rest > 0 else "."
    text = "; ".join(lines) + (". " if lines else "") + tail
    html = _HTML.get_template("atom_entry.html.j2").render(
        **lead_context(digest, site_url), tail=tail
    )
    return text, html.strip()


def _entry_id(base: str | None, title: str, digest_id: str) -> str:
    """A digest's Atom id: under ``site_url`` when set, else a stable urn:uuid of (title, id)."""
    if base:
        return base + digest_id
    return uuid.uuid5(uuid.NAMESPACE_URL, f"dyad:{title}:{digest_id}").urn


def render_atom(
    digests: list[Digest], title: str, site_url: str | None, limit: int = ATOM_ENTRIES
) -> bytes:
    """An Atom feed of the newest ``limit`` digests that have stories (newest first). Each entry
    is the digest's lead (``atom_lead``) and a link to its page, not the whole email; its
    ``updated`` is the digest's ``generated_at``, which a rebuild with the same content keeps.
    Without ``site_url`` the links are relative to wherever the feed is served and ids are
    urn:uuid (``write_outputs`` warns about it)."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    base = site_url.rstrip("/") + "/" if site_url else None
    shown = [d for d in digests if d.dyads][:limit]
    ET.SubElement(feed, f"{{{ATOM}}}title").text = f"{title} digests"
    ET.SubElement(feed, f"{{{ATOM}}}id").text = _entry_id(base, title, "digests.atom")
    if base:
        ET.SubElement(feed, f"{{{ATOM}}}link", rel="self", href=base + "digests.atom")
    ET.SubElement(feed, f"{{{ATOM}}}link", rel="alternate", href=(base or "") + "index.html")
    updated = max((d.generated_at for d in shown), default=datetime(2026, 1, 1, tzinfo=UTC))
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = updated.isoformat()
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    ET.SubElement(author, f"{{{ATOM}}}name").text = title
    for digest in shown:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        text, html = atom_lead(digest, site_url)
        first = digest.dyads[0]
        more = f" and {len(digest.dyads) - 1} more" if len(digest.dyads) > 1 else ""
        ET.SubElement(
            entry, f"{{{ATOM}}}title"
        ).text = f"{title} · {digest.date.isoformat()} · {first.names[0]} – {first.names[1]}{more}"
        ET.SubElement(entry, f"{{{ATOM}}}id").text = _entry_id(base, title, digest.id)
        href = f"{base or ''}{digest.id}.html"
        ET.SubElement(entry, f"{{{ATOM}}}link", rel="alternate", type="text/html", href=href)
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = digest.generated_at.isoformat()
        ET.SubElement(entry, f"{{{ATOM}}}summary").text = text
        ET.SubElement(entry, f"{{{ATOM}}}content", type="html").text = (
            html + f'<p><a href="{escape(href)}">Read the whole digest</a></p>'
        )
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def write_site(digests: list[Digest], folder: Path, title: str, site_url: str | None) -> Path:
    """A static archive (``archive.write_archive``: index with search, a page per digest and
    per pair) and the feed; returns the index's path."""
    index = write_archive(_HTML, digests, folder, title)
    (folder / "digests.atom").write_bytes(render_atom(digests, title, site_url))
    return index
