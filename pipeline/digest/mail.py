"""The HTML email: lead first, then a table of contents, then the pairs, within a size budget.

Gmail clips an HTML part past about 102 KB and hides the rest (the ledger included), so the
email is kept under ``EMAIL_MAX_BYTES`` *as sent* (quoted-printable, the larger of the encodings
the mail package picks between). By design it is small: one text trend row per pair (a
sparkline with dates and counts, not 30 styled cells), short class names whose rules css-inline
inlines once and then drops from the style block (``remove_inlined_selectors``; only the
``@media`` rules for dark mode, narrow screens and the two sides in columns stay). When a day
is too big even so, the pairs are shown at the first detail level that fits (``LEVELS``: fewer
stories in full, the others brief (summary and both sides), key points only for the most
important pairs, the number of key points left out said at the top, then the rest as linked
headlines, then counted), and what is left out is linked to the web version
(``digest.site_url``) or counted. ``max_bytes=None`` renders everything (the archive's page).
"""

from __future__ import annotations

import logging
import quopri
import re
from dataclasses import dataclass

import css_inline
from jinja2 import Environment

from pipeline.digest.lead import clip, lead_items, movers, pair_name, preheader
from pipeline.digest.model import Digest, DigestDyad, DigestStory, MailFooter
from pipeline.digest.parts import thread_links
from pipeline.digest.signals import (
    EVENT_WORDS,
    SCALE,
    TrendRow,
    direction,
    event_words,
    score_kind,
    score_label,
    trend_row,
)

EMAIL_MAX_BYTES = 84_000  # leaves room under 90 KB for a footer added at delivery
EMAIL_POINTS = 3  # key points per story in the email; the web version has all (up to 5)
EMAIL_SIDE_CHARS = 240  # a side's words in the email, cut at a word; whole in the web version
log = logging.getLogger("dyad.digest")
_BLANKS = re.compile(r"\n\s+")  # the templates' indentation and empty lines: bytes, no meaning
_INLINER = css_inline.CSSInliner(
    keep_style_tags=True, remove_inlined_selectors=True, minify_css=True
)


@dataclass(frozen=True)
class Detail:
    """How much of each pair the email shows: the first ``full`` stories whole (summary, key
    points, reactions, sources), the next ``brief`` without key points and reactions, the next
    ``lines`` as a linked headline; the rest are counted and linked to the web version. Full and
    brief stories both show each side's position and the story's quote. Only the first ``pairs``
    pairs (the most important) have stories in full; the others show those brief."""

    full: int
    brief: int
    lines: int
    pairs: int = 1000  # ALL


ALL = 1000
LEVELS = (
    Detail(ALL, 0, 0),
    Detail(1, ALL, 0),
    *(Detail(1, ALL, 0, pairs=n) for n in range(20, 0, -2)),
    Detail(1, 0, ALL),
    Detail(1, 0, 3),
    Detail(0, 1, 3),
    Detail(0, 1, 1),
    Detail(0, 0, 3),
    Detail(0, 0, 2),
    Detail(0, 0, 1),
)


@dataclass(frozen=True)
class Section:
    dyad: DigestDyad
    full: list[DigestStory]
    brief: list[DigestStory]
    lines: list[DigestStory]
    hidden: int
    trend: TrendRow | None


def sections(digest: Digest, detail: Detail) -> list[Section]:
    """Each pair's stories split by ``detail`` (hidden counts the pair's ``more_stories`` too)."""
    out = []
    for rank, d in enumerate(digest.dyads):
        a, b = detail.full, detail.full + detail.brief
        a = a if rank < detail.pairs else 0
        c = b + detail.lines
        stories = d.stories
        out.append(
            Section(
                d,
                stories[:a],
                stories[a:b],
                stories[b:c],
                max(0, len(stories) - c) + d.more_stories,
                trend_row(d.trend),
            )
        )
    return out


def sent_size(html: str) -> int:
    """Bytes of ``html`` as a quoted-printable MIME body (what the mail package sends at most)."""
    return len(quopri.encodestring(html.encode("utf-8")))


def render_email(
    env: Environment,
    digest: Digest,
    site_url: str | None = None,
    max_bytes: int | None = EMAIL_MAX_BYTES,
    footer: MailFooter | None = None,
) -> str:
    """The HTML email of ``digest``, CSS inlined, at the richest detail level that fits
    ``max_bytes`` as sent (the last level when none does, logged); everything when None. The
    recipient's ``footer``, when given, is inside the budget."""
    html = ""
    compact = max_bytes is not None
    for detail in LEVELS if compact else LEVELS[:1]:
        html = _render(env, digest, detail, site_url, footer, compact)
        if max_bytes is None or sent_size(html) <= max_bytes:
            return html
    log.warning("%s: the email is %d bytes even at its shortest", digest.id, sent_size(html))
    return html


def lead_context(digest: Digest, site_url: str | None = None) -> dict[str, object]:
    """What the top of every format shows: the lead, the movers, the legend's words; and each
    continuing story's thread page under ``site_url`` (none without it)."""
    heating, cooling = movers(digest)
    stories = [s for d in digest.dyads for s in d.stories]
    base = site_url.rstrip("/") + "/" if site_url else None
    kinds = {s.event_type for s in stories if s.event_type}
    return {
        "digest": digest,
        "lead": lead_items(digest),
        "heating": heating,
        "cooling": cooling,
        "events": sorted(((k, EVENT_WORDS[k]) for k in kinds), key=lambda kw: kw[1]),
        "scale": SCALE,
        "preheader": preheader(digest),
        # "new" tells nothing when every story is new and none continues a thread
        "mark_new": not all(s.new and s.thread is None for s in stories),
        "threads": thread_links(stories, base),
        "extractive": any(s.status in ("local", "failed") for s in stories),
        # when every summary is extractive the legend says so once, not a badge per story
        "all_extractive": bool(stories) and all(s.status in ("local", "failed") for s in stories),
    }


def _render(
    env: Environment,
    digest: Digest,
    detail: Detail,
    site_url: str | None,
    footer: MailFooter | None,
    compact: bool = True,
) -> str:
    web = f"{site_url.rstrip('/')}/{digest.id}.html" if site_url else None
    shown = sections(digest, detail)
    points = EMAIL_POINTS if compact else ALL
    elsewhere = sum(len(s.key_points) for sec in shown for s in sec.brief) + sum(
        max(0, len(s.key_points) - points) for sec in shown for s in sec.full
    )
    page = env.get_template("email.html.j2").render(
        **lead_context(digest, site_url),
        sections=shown,
        points_elsewhere=elsewhere,
        POINTS=points,
        SIDE_CHARS=EMAIL_SIDE_CHARS if compact else 100_000,
        web=web,
        footer=footer,
    )
    return _BLANKS.sub("\n", _INLINER.inline(page))


FILTERS = {
    "pair_name": pair_name,
    "clip": clip,
    "score_label": score_label,
    "score_kind": score_kind,
    "event_words": event_words,
    "direction": direction,
    "trend_row": trend_row,
}
