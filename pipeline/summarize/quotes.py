"""Quotations in a sentence, and the one quotation that says most about the relationship.

``quotations`` finds the words between double quotes (straight or curly), without the marks
and without the comma or full stop that closes the quoted sentence, so the text is verbatim.

``representative`` picks the story's quotation among those attributed to either side of the
pair: it must have 6 to 60 words and not be ceremonial (thanks, a warm welcome, honour,
congratulations, greetings, "historic friendship") unless it also has a substantive word. Of
the rest, one that is not ceremonial wins, then the one with most substance (``substance``: it
names the other country or the relationship, a figure, a word such as agreement, sanctions,
border, trade or talks), then the government's, then the earliest. None when no quotation
qualifies.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pipeline.summary_record import Quote, Voice

MIN_WORDS = 6
MAX_WORDS = 60
MAX_CHARS = 400
_QUOTED = re.compile(r"\"([^\"]{2,}?)\"|“([^”]{2,}?)”")
_RELATION = re.compile(
    r"\b(?:relations?|relationship|ties|partnership|cooperation|bilateral|both countries|"
    r"two countries|our countries|neighbou?rs?)\b",
    re.I,
)
_SUBSTANTIVE = re.compile(
    r"\b(?:agree\w*|deal|treaty|accord|sanctions?|border|trade|tariffs?|talks|negotiat\w+|"
    r"oil|gas|energy|nuclear|reactors?|troops?|military|defen[cs]e|security|ceasefire|"
    r"investment|loans?|debt|payments?|currenc\w+|visas?|territor\w+|sovereignty|dispute|"
    r"war|attack\w*|prisoners?|exports?|imports?|aid|protest\w*|interference|violat\w+|dialogue)\b"
    r"|\d",
    re.I,
)
_CEREMONIAL = re.compile(
    r"\b(?:thanks?|thankful|grateful|gratitude|warm(?:est)? welcome|hospitality|honou?red|"
    r"congratulat\w+|pleasure|pleased|delighted|greetings?|best wishes|"
    r"(?:historic|time-tested|age-old|eternal|special) friendship)\b",
    re.I,
)


def quotations(sentence: str) -> list[tuple[str, int]]:
    """The quoted passages of ``sentence`` with their offsets, verbatim, marks removed, each at
    most ``MAX_CHARS`` characters."""
    out: list[tuple[str, int]] = []
    for match in _QUOTED.finditer(sentence):
        group = 1 if match.group(1) is not None else 2
        text = match.group(group).strip().rstrip(",")
        if text and len(text) <= MAX_CHARS:
            out.append((text, match.start(group)))
    return out


def substance(text: str, other_terms: Sequence[str]) -> int:
    """How much ``text`` says about the relationship: 2 when it names the other country (by
    one of ``other_terms``) or the relationship, plus one per substantive word or figure (up
    to 3)."""
    score = 0
    if _RELATION.search(text) or any(
        re.search(rf"\b{re.escape(t)}\b", text) for t in other_terms if t
    ):
        score += 2
    return score + min(3, len(_SUBSTANTIVE.findall(text)))


def acceptable(text: str) -> bool:
    """True when ``text`` could be the story's quotation: 6 to 60 words, and ceremonial only
    when it also has a substantive word (naming the other side is not enough: "we thank our
    Russian friends")."""
    words = len(text.split())
    if words < MIN_WORDS or words > MAX_WORDS:
        return False
    return not _CEREMONIAL.search(text) or _SUBSTANTIVE.search(text) is not None


def representative(
    candidates: Sequence[tuple[Quote, Voice]], terms: dict[str, tuple[str, ...]]
) -> Quote | None:
    """The story's quotation among ``candidates`` (each with its speaker's voice, in article
    order), by the module's rules; ``terms`` are the words naming each country of the pair."""

    def others(quote: Quote) -> tuple[str, ...]:
        return tuple(t for code, ts in terms.items() if code != quote.country for t in ts)

    usable = [(q, v) for q, v in candidates if acceptable(q.text)]
    if not usable:
        return None
    ranked = sorted(
        enumerate(usable),
        key=lambda item: (
            _CEREMONIAL.search(item[1][0].text) is not None,
            -substance(item[1][0].text, others(item[1][0])),
            item[1][1] is not Voice.GOVERNMENT,
            item[0],
        ),
    )
    return ranked[0][1][0]
