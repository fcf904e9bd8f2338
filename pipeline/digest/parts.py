"""How a story's two sides, its quote, its cited points and its thread read in every format
(HTML email, plain text, Markdown, archive, Atom). The words are here once; the templates only
lay them out.

A side reads "India says: <position> — <speaker>: "<quote>" (Outlet A, Outlet B)" when the
government spoke, "Press in India: ..." when only its press did, and "Russia: no statement in
the sources" when neither did (never filled in). A story continuing an earlier one of its pair
is marked "continuing since 24 Nov" and, where an archive exists, linked to its thread page
(``thread-<first story's id>.html``); a story new in the window is marked "new".
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from pipeline.digest.model import DigestPosition, DigestQuote, DigestStory
from pipeline.summary_record import Voice

NO_STATEMENT = "no statement in the sources"
_UNSAFE = re.compile(r"[^A-Za-z0-9-]")


def _flat(text: str) -> str:
    return " ".join(text.replace('"', " ").lower().split())


def side_label(position: DigestPosition) -> str:
    """Who speaks for the side: "India says", "Press in India", or "India" (voice none)."""
    if position.voice is Voice.GOVERNMENT:
        return f"{position.name} says"
    if position.voice is Voice.PRESS:
        return f"Press in {position.name}"
    return position.name


def side_text(position: DigestPosition) -> str:
    """The side after its label, plain text: "<position> — <speaker>: "<quote>"", or
    ``NO_STATEMENT`` (outlets are laid out by each format); a quote the position already
    contains word for word is not repeated."""
    if position.voice is Voice.NONE:
        return NO_STATEMENT
    words = position.position
    quote = position.quote
    if quote and _flat(quote) in _flat(words):
        quote = None  # the position already quotes it word for word
    if position.speaker and quote:
        words += f' — {position.speaker}: "{quote}"'
    elif position.speaker:
        words += f" — {position.speaker}"
    elif quote:
        words += f' — "{quote}"'
    return words


def story_quote(story: DigestStory) -> DigestQuote | None:
    """The representative quote when no side already shows it (then it is shown there)."""
    quote = story.quote
    if quote is None or any(p.quote == quote.text for p in story.positions):
        return None
    return quote


def day_month(value: datetime, zone: str) -> str:
    """ "24 Nov" in the digest's time zone."""
    local = value.astimezone(ZoneInfo(zone))
    return f"{local.day} {local.strftime('%b')}"


_SINCE = re.compile(r"^\s*since \d{1,2} [A-Za-z]+(?: \d{4})?\s*[:,\-–—]\s*", re.I)


def whats_new(story: DigestStory) -> str:
    """What a continuing story adds, without its own "Since 24 November:" (each format puts
    the date in front), when it says more than its summary already does."""
    if story.thread is None or not story.whats_new:
        return ""
    text = _SINCE.sub("", story.whats_new, count=1)
    text = text[:1].upper() + text[1:]
    return "" if not text or text in story.summary else text


def thread_href(thread_id: str) -> str:
    """The thread page's file name in the archive (the id kept to letters, digits, dashes)."""
    return f"thread-{_UNSAFE.sub('_', thread_id)}.html"


def thread_links(stories: Iterable[DigestStory], base: str | None) -> dict[str, str]:
    """Story id -> its thread page under ``base`` (the archive's URL with a trailing slash, or
    "" for links inside the archive), for every story that continues a thread; none without
    ``base`` (no archive to link to)."""
    if base is None:
        return {}
    return {s.story_id: base + thread_href(s.thread.thread_id) for s in stories if s.thread}


def outlets_note(outlets: Iterable[str]) -> str:
    """ "(World Desk, Asia Ledger)", or "" when none."""
    names = list(outlets)
    return f"({', '.join(names)})" if names else ""


PART_FILTERS = {
    "side_label": side_label,
    "side_text": side_text,
    "story_quote": story_quote,
    "day_month": day_month,
    "whats_new": whats_new,
    "outlets_note": outlets_note,
}
