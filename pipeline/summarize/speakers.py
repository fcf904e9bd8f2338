"""Who said it, and for which country: the speaker checks of the grounding check.

A speaker as the model writes it ("Sergey Lavrov, Russian foreign minister", "Indian officials")
is read for its *name words*: its capitalised words, without role words (President, Minister,
Foreign, Spokesperson, ...) and without a possessive "'s". Every name word must be in an article
the position or quote cites.

The speaker's *country* must be the one the cited text ties them to. The anchor is the last name
word of the speaker's first part (before a comma: usually the surname), or, for a speaker with no
name word, the quotation. In every sentence of a cited article that holds the anchor, the
gazetteer's country mentions (names, adjectives, capitals, metonyms and office holders, read as
``pipeline.detect.mentions`` reads them; the jobs layer hands them over as a ``CountryReader``,
since the summarise stage does not import the detect stage) give the speaker's country:
  1. a mention that covers the anchor itself (an office holder such as "Lavrov", or an adjective
     used as the speaker, as in "Indian officials said");
  2. else the nearest mention before the anchor ("Russian Foreign Minister Sergey Lavrov");
  3. else the nearest mention after it ('... Jaishankar told Indian reporters').
The country is tied when one of those sentences gives it. Without a reader (a caller with no
gazetteer) the name words are still checked, the country is not.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from pipeline.summarize.sentences import split_sentences


class CountryMention(Protocol):
    """A country mention in a sentence: its token span and country."""

    @property
    def index(self) -> int: ...

    @property
    def end_index(self) -> int: ...

    @property
    def country(self) -> str | None: ...


class CountryReader(Protocol):
    """Reads a sentence as the gazetteer does (``pipeline.jobs.speakers.GazetteerReader``)."""

    def tokens(self, text: str) -> list[str]:
        """The sentence's tokens, as the mentions index them."""
        ...

    def mentions(self, sentence: str, published: datetime | None) -> Sequence[CountryMention]:
        """Every country mention of ``sentence``."""
        ...


ROLE_WORDS = frozenset(
    """
    The A An And Of For To In At On Mr Mrs Ms Dr Sir Madam President Vice Prime Minister
    Ministers Deputy Foreign External Affairs Secretary General State Chief Head Senior Official
    Officials Spokesperson Spokesman Spokeswoman Ambassador Envoy Special Representative
    Chancellor Premier King Queen Emperor Crown Prince Sheikh Emir Leader Chairman Chair
    Director Commissioner Defence Defense Trade Commerce Finance Economy Energy Interior Home
    Ministry Department Office Government Spokesperson's Press Secretary's Supreme Commander
    Army Navy Air Force Minister's President's Former Acting Top Lead Chief's Negotiator
    Negotiators Diplomat Diplomats Deputies Adviser Advisor National Security Council
    """.split()
)
_WORD = re.compile(r"[A-Z][\w'’.-]*")
_POSSESSIVE = re.compile(r"['’]s$")


def name_words(speaker: str) -> list[str]:
    """The capitalised words of ``speaker`` that name someone (role words and possessives
    left out), in order."""
    words = (_POSSESSIVE.sub("", w).strip(".-'’") for w in _WORD.findall(speaker))
    return [w for w in words if w and w not in ROLE_WORDS]


def _anchor(speaker: str) -> str | None:
    """The speaker's surname (the last name word before the first comma), if any."""
    first = name_words(speaker.split(",", 1)[0]) or name_words(speaker)
    return first[-1] if first else None


def _norm(text: str) -> str:
    return " ".join(text.replace("’", "'").split()).lower()


def speaker_country(
    sentence: str, anchor: str, published: datetime | None, reader: CountryReader
) -> str | None:
    """The country ``sentence`` ties the words at ``anchor`` to, by the module's three rules
    (None when the sentence names no country)."""
    tokens = reader.tokens(sentence)
    wanted = reader.tokens(anchor)
    at = next(
        (
            i
            for i in range(len(tokens))
            if [t.lower() for t in tokens[i : i + len(wanted)]] == [w.lower() for w in wanted]
        ),
        None,
    )
    if at is None or not wanted:
        return None
    mentions = reader.mentions(sentence, published)
    covering = [m for m in mentions if m.index <= at < m.end_index]
    before = sorted((m for m in mentions if m.end_index <= at), key=lambda m: -m.end_index)
    after = sorted((m for m in mentions if m.index > at), key=lambda m: m.index)
    chosen = covering or before or after
    return chosen[0].country if chosen else None


JOINT = " (joint)"  # marks a speaker phrase for both governments together ("the two ministers")


def speaker_problems(
    field: str,
    speaker: str,
    country: str | None,
    quote: str | None,
    cited: Sequence[tuple[str, datetime | None]],
    reader: CountryReader | None = None,
) -> list[str]:
    """Problems with a speaker ``field`` names, against the ``cited`` articles (text and
    publication date): name words missing from them, or a ``country`` the text does not tie
    the speaker to. A joint speaker ("The two countries' trade ministers (joint)") speaks for
    both sides: its phrase must be in a cited article."""
    texts = [_norm(text) for text, _ in cited]
    if speaker.endswith(JOINT):  # words of both governments together speak for either side
        phrase = _norm(speaker.removesuffix(JOINT))
        if any(phrase in text for text in texts):
            return []
        return [f"{field}: the joint speaker {speaker!r} is not in the cited articles"]
    problems = [
        f"{field}: speaker's name {word!r} is not in the cited articles"
        for word in name_words(speaker)
        if not any(_norm(word) in text for text in texts)
    ]
    if problems or country is None or reader is None:
        return problems
    anchor = _anchor(speaker) or " ".join((quote or "").split()[:4])
    if not anchor:
        return []
    for text, published in cited:
        for sentence in split_sentences(text):
            if _norm(anchor) in _norm(sentence) and (
                speaker_country(sentence, anchor, published, reader) == country
            ):
                return []
    return [f"{field}: the cited articles do not tie {speaker!r} to {country}"]
