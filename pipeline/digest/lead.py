"""The top of the digest: the lead stories, the pairs that moved, the subject and preheader.

Pure functions of a (possibly per-recipient) ``Digest``, so each reader's lead comes from the
pairs they follow.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipeline.digest.model import Digest, DigestDyad, DigestStory
from pipeline.textclean import clip

LEAD_MOST = 5
LEAD_LEAST = 3
MOVE_MIN = 2.0  # a pair "moved" when its recent mean score is this far from before
SUBJECT_MAX = 110


@dataclass(frozen=True)
class LeadItem:
    dyad: DigestDyad
    story: DigestStory


def lead_items(digest: Digest) -> list[LeadItem]:
    """The developments that matter most: each pair's top story, most important first; 3 to 5
    of them (the 4th and 5th only when at least half as important as the first)."""
    tops = [
        LeadItem(d, max(d.stories, key=lambda s: s.importance)) for d in digest.dyads if d.stories
    ]
    tops.sort(key=lambda item: (-item.story.importance, item.dyad.dyad))
    if not tops:
        return []
    floor = tops[0].story.importance / 2
    return [
        item
        for rank, item in enumerate(tops[:LEAD_MOST])
        if rank < LEAD_LEAST or item.story.importance >= floor
    ]


def movers(digest: Digest, most: int = 3) -> tuple[list[DigestDyad], list[DigestDyad]]:
    """(heating up, cooling down): the pairs whose score moved most toward conflict, and toward
    cooperation (``DigestDyad.movement`` at least ``MOVE_MIN``), biggest move first."""
    moved = [(d.movement, d) for d in digest.dyads if d.movement is not None]
    big = [(m, d) for m, d in moved if abs(m) >= MOVE_MIN]
    heating = [d for m, d in sorted(big, key=lambda md: (md[0], md[1].dyad)) if m < 0]
    cooling = [d for m, d in sorted(big, key=lambda md: (-md[0], md[1].dyad)) if m > 0]
    return heating[:most], cooling[:most]


def pair_name(dyad: DigestDyad) -> str:
    """ "India-Russia": the pair by country names."""
    return f"{dyad.names[0]}-{dyad.names[1]}"


def render_subject(digest: Digest) -> str:
    """ "India-Russia: Putin receives Jaishankar; 22 more pairs": the lead pair by country names,
    its top headline, how many more pairs ("Dyad 2026-11-25: nothing new" when empty)."""
    lead = lead_items(digest)
    if not lead:
        return f"{digest.title} {digest.date.isoformat()}: nothing new"
    first = lead[0]
    others = len(digest.dyads) - 1
    tail = f"; {others} more pair{'' if others == 1 else 's'}" if others else ""
    head = f"{pair_name(first.dyad)}: "
    room = SUBJECT_MAX - len(head) - len(tail)
    return f"{head}{clip(first.story.headline, room)}{tail}"


def preheader(digest: Digest) -> str:
    """The inbox preview line: the next lead headlines, else the date and pair count."""
    lead = lead_items(digest)
    also = "; ".join(f"{pair_name(i.dyad)}: {i.story.headline}" for i in lead[1:3])
    day = digest.date.strftime("%d %B %Y").lstrip("0")
    pairs = f"{len(digest.dyads)} country pair{'' if len(digest.dyads) == 1 else 's'}"
    return clip(f"Also: {also} · {pairs}, {day}" if also else f"{pairs}, {day}", 200)
