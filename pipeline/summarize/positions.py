"""Each side's position, read from the articles: what its government (or else its press) said.

For each country of the pair, in pair order, the statements attributed to it (``voices``) are
collected from every sentence of every article. The one shown is the government's when there is
one, else the press's; among those, one that says something about the relationship (the other
country, a figure, a substantive word: ``quotes.substance``) and carries a quotation, then the
earliest. It is shown as

- position: the sentence itself, cut to 300 characters on a word;
- speaker: the subject phrase ("Russian Foreign Ministry spokeswoman Maria Zakharova"), or for
  an office-holder named by surname alone the fullest phrase the story gives them ("President
  Vladimir Putin" for "Putin");
- quote: the quoted words of that sentence nearest its verb, else of the next or previous
  sentence when that one is the same speaker's (by name, or "he said"); verbatim, or None;
- cites: the numbers of the articles (1-based, in the story's source order) with the sentence.

A side with no such statement has voice "none", an empty position and nothing else: nothing is
made up for it, and "did not respond to requests for comment" is no statement.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from pipeline.records import StoryArticle
from pipeline.summarize.quotes import quotations, representative, substance
from pipeline.summarize.sentences import split_sentences
from pipeline.summarize.speakers import JOINT
from pipeline.summarize.voices import SILENT, Attribution, Speakers, attributions
from pipeline.summary_record import MAX_CITES, Position, Quote, Voice
from pipeline.textclean import clip

MAX_POSITION = 300
_CLAUSE = re.compile(r",? (?:while|whereas|but|after) |; ")
_JOINT = re.compile(
    r"\b(?P<who>officials (?:on|from) both sides|both (?:sides|governments|countries)|the two "
    r"(?:governments|sides|countries['’] [a-z ]{0,30}?(?:ministers|officials|leaders|presidents))"
    r"|(?:a|the) joint statement)\b[^.;\"“]{0,40}?\b(?:said|says|called|described|stated)\b",
    re.I,
)
_PRONOUN_SPEECH = re.compile(r"\b(?:he|she|they)\s+(?:\w+\s+)?(?:said|added|told|says)\b", re.I)


@dataclass(frozen=True)
class Statement:
    """A sentence attributed to one country, where it stands in which article."""

    attribution: Attribution
    sentence: str
    article: int  # index into the story's articles (source order)
    index: int  # the sentence's place in its article
    neighbours: tuple[str, str]  # the sentences before and after it ("" at an edge)


def _norm(text: str) -> str:
    return " ".join(text.split())


def statements(articles: Sequence[StoryArticle], speakers: Speakers) -> list[Statement]:
    """Every attributed speech verb of every sentence of ``articles``, in article order."""
    out: list[Statement] = []
    for number, article in enumerate(articles):
        sentences = split_sentences(article.text, article.title)
        day = article.published_at.date() if article.published_at else None
        known = speakers.aliased(article.text, day)
        for index, sentence in enumerate(sentences):
            before = sentences[index - 1] if index else ""
            after = sentences[index + 1] if index + 1 < len(sentences) else ""
            for found in attributions(sentence, known, day):
                out.append(Statement(found, sentence, number, index, (before, after)))
    return out


_DATELINE = re.compile(
    r"^\s*(?:[A-Z][A-Z .'-]{1,40}(?:,\s*[A-Z][\w .'-]{1,30})?\s*)?"
    r"(?:\((?:AP|AFP|Reuters|CP|AFX|DPA|dpa|Xinhua)\)|\b(?:AP|AFP|Reuters))?\s*[-–—:]{1,2}\s+"
)


def trim(text: str, limit: int) -> str:
    """``text`` without an agency dateline ("TOKYO (Reuters) - ", "AP - "), cut on a word
    boundary to at most ``limit`` characters (an ellipsis marks a cut)."""
    text = _DATELINE.sub("", text, count=1)
    return clip(text[:1].upper() + text[1:], limit)


def quote_of(statement: Statement) -> str | None:
    """The statement's quoted words (nearest its verb), or those of the next or previous
    sentence when that one is the same speaker's (it names the office-holder's surname or the
    office's whole phrase, or is the next one and says "he said"); None when there are none."""
    own = quotations(statement.sentence)
    if own:
        verb = statement.attribution.verb
        return min(own, key=lambda q: abs(q[1] - verb))[0]
    holder, speaker = statement.attribution.holder, statement.attribution.speaker
    name = holder.split()[-1] if holder else speaker  # a surname, or the office's whole phrase
    before, after = statement.neighbours
    for other, follows in ((after, True), (before, False)):
        found = quotations(other)
        same = re.search(rf"\b{re.escape(name)}\b", other) is not None
        if found and (same or (follows and _PRONOUN_SPEECH.search(other))):
            return found[0][0]
    return None


def cites_of(text: str, articles: Sequence[StoryArticle], read_in: int | None = None) -> list[int]:
    """The 1-based numbers of the articles whose text contains ``text`` (spacing aside), in story
    order and at most ``MAX_CITES`` of them (an agency story reprinted by many outlets), always
    keeping ``read_in``, the article the words were read from, when it is one of them."""
    wanted = _norm(text)
    found = [n for n, a in enumerate(articles, start=1) if wanted in _norm(a.text)]
    if len(found) <= MAX_CITES:
        return found
    kept = [n for n in found if n != read_in][: MAX_CITES - (read_in in found)]
    return sorted([*kept, read_in] if read_in in found else kept)


def full_speaker(statement: Statement, every: Sequence[Statement]) -> str:
    """The statement's speaker; for an office-holder, the longest phrase the story uses for the
    same person with their full name ("President Vladimir Putin" rather than "Putin"), else
    their full name."""
    mine = statement.attribution
    if not mine.holder:
        return mine.speaker
    same = [s.attribution.speaker for s in every if s.attribution.holder == mine.holder]
    named = [phrase for phrase in same if mine.holder in phrase]
    return max(named, key=len, default=mine.holder)


def _shared(statement: Statement, found: Sequence[Statement]) -> bool:
    """True when the statement's sentence also attributes words to another country."""
    country = statement.attribution.country
    return any(
        s.sentence == statement.sentence
        and s.article == statement.article
        and s.attribution.country != country
        for s in found
    )


def clause_of(statement: Statement) -> str:
    """The part of the sentence with the statement's own subject and verb, when the sentence
    joins two sides' statements ("A said X, while B said Y"): cut at "while", "whereas",
    "but", "after" and semicolons."""
    sentence, verb = statement.sentence, statement.attribution.verb
    cuts = [0, *(m.end() for m in _CLAUSE.finditer(sentence)), len(sentence)]
    ends = [m.start() for m in _CLAUSE.finditer(sentence)] + [len(sentence)]
    start = max(c for c in cuts[:-1] if c <= min(verb, statement.attribution.start))
    end = min(e for e in ends if e > verb)
    part = sentence[start:end].strip().rstrip(",.;")
    return f"{part[:1].upper()}{part[1:]}." if part else sentence


def _rank(
    statement: Statement, found: Sequence[Statement], other_terms: Sequence[str]
) -> tuple[int, ...]:
    voice = 0 if statement.attribution.voice is Voice.GOVERNMENT else 1
    shared = 1 if _shared(statement, found) else 0
    quoted = 0 if quote_of(statement) else 1
    about = 0 if substance(statement.sentence, other_terms) > 0 else 1
    return (voice, shared, about, quoted, statement.article, statement.index)


def position_of(
    country: str,
    found: Sequence[Statement],
    articles: Sequence[StoryArticle],
    other_terms: Sequence[str],
) -> Position:
    """``country``'s position from the statements found (the module's rules)."""
    own = [s for s in found if s.attribution.country == country]
    if not own:
        return Position.unheard(country)
    best = min(own, key=lambda s: _rank(s, found, other_terms))
    cites = cites_of(best.sentence, articles, best.article + 1) or [best.article + 1]
    text = clause_of(best) if _shared(best, found) else best.sentence
    return Position(
        country=country,
        voice=best.attribution.voice,
        position=trim(text, MAX_POSITION),
        speaker=trim(full_speaker(best, found), 160),
        quote=_verbatim(quote_of(best), articles[best.article]),
        cites=cites,
    )


def _verbatim(quote: str | None, article: StoryArticle) -> str | None:
    """``quote`` when it is in the article's text word for word, else None."""
    return quote if quote and quote in article.text else None


def story_quote(
    pair: tuple[str, str],
    found: Sequence[Statement],
    articles: Sequence[StoryArticle],
    terms: dict[str, tuple[str, ...]],
) -> Quote | None:
    """The story's representative quotation (``quotes.representative``) among the quoted words
    of both sides' statements, attributed to the statement's speaker and country."""
    candidates: list[tuple[Quote, Voice]] = []
    for statement in found:
        country = statement.attribution.country
        text = _verbatim(quote_of(statement), articles[statement.article])
        if country not in pair or text is None:
            continue
        speaker = trim(full_speaker(statement, found), 160)
        quote = Quote(
            text=text,
            speaker=speaker,
            country=country,
            cites=cites_of(text, articles, statement.article + 1),
        )
        candidates.append((quote, statement.attribution.voice))
    return representative(candidates, terms)


def silent(
    pair: tuple[str, str], articles: Sequence[StoryArticle], terms: dict[str, tuple[str, ...]]
) -> set[str]:
    """The countries of the pair an article says did not comment ("Ethiopia's foreign ministry
    did not respond to requests for comment"): the sentence names the country before the
    silence. Such a side keeps only statements with their own quoted words."""
    quiet: set[str] = set()
    for article in articles:
        for sentence in split_sentences(article.text, article.title):
            stop = SILENT.search(sentence)
            if stop is None:
                continue
            head = sentence[: stop.start()]
            quiet.update(
                c for c in pair if any(re.search(rf"\b{re.escape(t)}\b", head) for t in terms[c])
            )
    return quiet


def joint_position(country: str, articles: Sequence[StoryArticle]) -> Position | None:
    """The first sentence that attributes words to both governments together, as ``country``'s
    government position with that phrase as speaker; None when there is none, or when an
    article says a side did not comment (its silence is not filled in)."""
    if any(SILENT.search(a.text) for a in articles):
        return None
    for number, article in enumerate(articles, start=1):
        for sentence in split_sentences(article.text, article.title):
            found = _JOINT.search(sentence)
            if found is None:
                continue
            who = found.group("who")
            return Position(
                country=country,
                voice=Voice.GOVERNMENT,
                position=trim(sentence, MAX_POSITION),
                speaker=f"{who[:1].upper()}{who[1:]}{JOINT}",
                quote=None,
                cites=cites_of(sentence, articles, number),
            )
    return None


def sides_of(
    pair: tuple[str, str], articles: Sequence[StoryArticle], speakers: Speakers
) -> tuple[list[Position], Quote | None]:
    """Both sides' positions in pair order, and the story's representative quotation."""
    first, second = pair
    terms = {first: speakers.terms(first), second: speakers.terms(second)}
    quiet = silent(pair, articles, terms)
    found = [
        s
        for s in statements(articles, speakers)
        if s.attribution.country not in quiet or quote_of(s)
    ]
    positions = [
        position_of(first, found, articles, terms[second]),
        position_of(second, found, articles, terms[first]),
    ]
    positions = [
        (joint_position(p.country, articles) or p) if p.voice is Voice.NONE else p
        for p in positions
    ]
    return positions, story_quote(pair, found, articles, terms)
