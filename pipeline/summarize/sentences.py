"""Sentences of an article that a reader can take on their own.

Segmentation is nupunkt's (a maintained, dependency-free Punkt implementation, MIT): it knows
abbreviations and initials, so "External Affairs Minister S. Jaishankar's two-day stay" stays
one sentence. One rule is added on top: a piece that starts with a lower-case letter continues
the previous one ("the A.F.C. championship"), since no English sentence starts that way.

A sentence that only makes sense after the one before it ("Beijing's statement used almost the
same words.", "It was the first ...", "The statement said ...") follows that sentence
(``passages``): it is shown joined to it where the two fit the words allowed (``Passage.within``:
80 in a summary, 40 in a key point), and dropped otherwise, never shown alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nupunkt import sent_tokenize

MIN_CHARS = 30  # shorter pieces are datelines, bylines and captions, not sentences

# First words that point back to something said before.
_POINTING = frozenset(
    "it its this that these those they their them he she his her such another".split()
)
# "The <noun>" openings that refer to an event named in an earlier sentence.
_EVENT_NOUNS = frozenset(
    "statement move decision announcement agreement accord deal meeting talks visit comments "
    "remarks step call measure measures plan proposal report incident case letter protest "
    "ministry minister spokesperson spokesman spokeswoman".split()
)
_SAME = re.compile(r"\bthe same\b(?![^.]*\b(?:as|that)\b)", re.I)
_WORD = re.compile(r"[A-Za-z]+")


def split_sentences(text: str, title: str = "") -> list[str]:
    """The sentences of ``text``, paragraph by paragraph (paragraphs are lines), without the
    title line extraction often keeps and without pieces under ``MIN_CHARS`` characters."""
    out: list[str] = []
    for raw in text.split("\n"):
        paragraph = " ".join(raw.split())
        if not paragraph or paragraph == " ".join(title.split()):
            continue
        pieces: list[str] = []
        for found in sent_tokenize(paragraph):
            piece = found.strip() if isinstance(found, str) else ""  # str unless asked for scores
            if pieces and piece[:1].islower():
                pieces[-1] = f"{pieces[-1]} {piece}"
            elif piece:
                pieces.append(piece)
        out += [p for p in pieces if len(p) >= MIN_CHARS]
    return out


def needs_antecedent(sentence: str) -> bool:
    """True when the sentence opens by pointing back ("It", "This", "They", "The statement",
    "In the same statement") or compares with something unnamed ("the same words")."""
    words = [w.lower() for w in _WORD.findall(sentence[:80])]
    if not words:
        return False
    if words[0] in _POINTING:
        return True
    opening = words[:4]
    if "the" in opening:
        after = opening[opening.index("the") + 1 :]
        if after and (after[0] in _EVENT_NOUNS or after[0] == "same"):
            return True
    return bool(_SAME.search(sentence))


@dataclass(frozen=True)
class Passage:
    """A sentence that stands on its own, with the sentences after it that lean on it."""

    sentence: str
    followers: tuple[str, ...] = ()

    @property
    def full(self) -> str:
        """The sentence and all its followers."""
        return " ".join((self.sentence, *self.followers))

    def within(self, limit: int) -> str:
        """The sentence joined with as many of its followers as keep it within ``limit`` words
        (the others are dropped; the sentence itself is never cut here)."""
        text = self.sentence
        for follower in self.followers:
            joined = f"{text} {follower}"
            if len(joined.split()) > limit:
                break
            text = joined
        return text


def passages(sentences: list[str]) -> list[Passage]:
    """``sentences`` as passages: each one that needs its antecedent (``needs_antecedent``)
    follows the sentence before it, and is dropped when nothing comes before it."""
    out: list[Passage] = []
    for sentence in sentences:
        if not needs_antecedent(sentence):
            out.append(Passage(sentence))
        elif out:
            out[-1] = Passage(out[-1].sentence, (*out[-1].followers, sentence))
    return out
