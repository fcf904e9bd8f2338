"""The grounding check: every number, name and quotation in a summary must come from its sources.

It reads the model's text the way a careful editor would check a wire summary: numbers (with
their thousands separators normalised) must occur in the articles, except the day in a date
("23 November", "November 23") within a week of an article's publication date, which is how a
relative day in the article ("on Monday") is told to a reader of a 30-day digest; capitalised
names (people, organisations, places, countries) must occur in them, case-insensitively and as
a substring, so "Russia" is supported by "Russian"; text inside quotation marks must appear
verbatim (up to whitespace, case, apostrophe style and the punctuation at its ends; an ellipsis
splits it into parts that must each appear); and the text must be plain, with no HTML and no
links of the model's own.

Quotations are found in every common form: "double", “curly”, 'single', ‘curly single’,
„German/Polish“ („…”), ‚low single‘, «guillemets» and »Danish« ones. A quotation counts from
``MIN_QUOTE_WORDS`` (2) words: a two-word quote ("red line") is as easily invented as a long
one, while a single quoted word is usually a term or scare quotes ('reset'), not a claim that
someone said it. An apostrophe inside a word (won't, Russia's) or after one (the ministers'
talks) neither opens nor closes a single-quoted quotation.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from pipeline.summarize.schema import LLMSummary
from pipeline.summarize.speakers import CountryReader

_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_MONTHS = (
    "January February March April May June July August September October November December"
).split()
_DATE = re.compile(
    rf"\b(?:(?P<day>\d{{1,2}}) (?P<month>{'|'.join(_MONTHS)})"
    rf"|(?P<month2>{'|'.join(_MONTHS)}) (?P<day2>\d{{1,2}}))\b"
)
DATE_WINDOW = timedelta(days=7)
_NAME = re.compile(r"\b[A-Z][\w'’.-]*(?:\s+(?:of|the|de|al|bin|van|von)?\s*[A-Z][\w'’.-]*)*")
MIN_QUOTE_WORDS = 2
# Consumed in this order, each match blanked before the next pattern runs, so the “ that closes
# a „German“ quotation never opens an English one. One line at most per quotation.
_QUOTES = (
    re.compile(r"„([^„“”\n]+)[“”]"),
    re.compile(r"‚([^‚‘’\n]+)[‘’]"),
    re.compile(r"«([^«»\n]+)»"),
    re.compile(r"»([^«»\n]+)«"),
    re.compile(r"[\"“]([^\"“”\n]+)[\"”]"),
    # 'single' and ‘curly single’: opened after no letter and before a non-space, closed after a
    # non-space and before no letter; a letter-apostrophe-letter inside is part of the quote.
    re.compile(r"(?<![\w'’])['‘](?=\S)((?:[^'‘’\n]|(?<=\w)['’](?=\w))+?)(?<!\s)['’](?![\w'’])"),
)
_ELLIPSIS = re.compile(r"\.\.\.|…|\[\.\.\.\]|\[…\]")
MARKUP = re.compile(r"<\s*[a-zA-Z/!]|https?://|www\.|\]\(|!\[|javascript:", re.I)
# Capitalised words that are not names (sentence openers, days, generic titles).
_COMMON = frozenset(
    """
    The A An And But Or In On At By For From To With Of As After Before When While Since
    This That These Those It Its Both Their There Talks Officials Official President Prime
    Minister Foreign Ministry Government Monday Tuesday Wednesday Thursday Friday Saturday
    Sunday January February March April May June July August September October November
    December He She They We Meanwhile Also However Earlier Later Next Last New First Second
    Third Several Some Many No Not Under Over During Despite Amid Following Both Each
    Neither Either Analysts Experts Observers Diplomats Negotiators Leaders Ministers Trade
    Relations Ties Tensions Critics Authorities Troops Forces Military Security Energy Oil
    Defence Defense Economic Bilateral Further Additionally Separately Elsewhere Agreement
    Deal Plans Progress Negotiations Discussions Delegations Both Two Three Four Five
    Officers Residents Companies Exports Imports
    """.split()
)


_SAME = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "“": '"', "”": '"', "‐": "-", "‑": "-"})


def normalise(text: str) -> str:
    """``text`` as the checks compare it: one quote and dash style, single spaces, lower case."""
    return re.sub(r"\s+", " ", text.translate(_SAME)).lower()


def _number_forms(number: str) -> set[str]:
    bare = number.replace(",", "")
    return {number, bare, f"{int(float(bare)):,}" if bare.replace(".", "", 1).isdigit() else bare}


def _fields(summary: LLMSummary) -> Iterable[tuple[str, str]]:
    """The fields checked against the whole story (key points, positions and the quote are
    checked against the articles they cite: ``pipeline.summarize.citations``)."""
    yield "headline", summary.headline
    yield "summary", summary.summary
    yield "what's new", summary.whats_new
    yield "background", summary.background
    for agreement in summary.agreements:
        yield "agreement", agreement
    for actor in summary.actors:
        yield "actor", actor.name
    for reaction in summary.third_party_reactions:
        yield "reaction", reaction.evidence


@dataclass(frozen=True)
class SourceText:
    """Article text as the checks read it: normalised, and again without thousands commas."""

    text: str
    digits: str
    days: tuple[date, ...]

    @classmethod
    def of(cls, texts: Sequence[str], published: Sequence[datetime | None] = ()) -> SourceText:
        """The texts of one or more articles (``published``: their dates) read as one."""
        text = normalise("\n".join(texts))
        return cls(text, text.replace(",", ""), tuple(d.date() for d in published if d))


def check_grounding(
    summary: LLMSummary,
    sources: str | Sequence[str],
    published: Sequence[datetime | None] = (),
    reader: CountryReader | None = None,
) -> list[str]:
    """Problems that keep ``summary`` from being verified against ``sources`` (empty =
    grounded): the articles' texts in source order (one string: the story as one article);
    ``published``: their publication dates, which ground the days of dates near them. Headline,
    summary and the other prose are checked against the whole story; key points, positions and
    the quote against the articles they cite (``citations.cited_problems``; with ``reader``,
    the gazetteer's reading, each speaker's country too)."""
    from pipeline.summarize.citations import cited_problems  # it reads text with this module

    articles = [sources] if isinstance(sources, str) else list(sources)
    whole = SourceText.of(articles, published)
    found = [
        problem for field, text in _fields(summary) for problem in text_problems(field, text, whole)
    ]
    found += cited_problems(summary, articles, published, reader)
    return list(dict.fromkeys(found))  # each problem once, in the order found


def text_problems(field: str, text: str, source: SourceText) -> Iterator[str]:
    """Every problem in one field's ``text``: markup, then numbers, names and quotations."""
    if MARKUP.search(text):
        yield f"{field} contains HTML or a link"
    for kind, value in missing_facts(text, source):
        yield f"{kind} {value!r} is not {'verbatim ' if kind == 'quotation' else ''}in the sources"


def missing_facts(text: str, source: SourceText) -> Iterator[tuple[str, str]]:
    """The facts of ``text`` that ``source`` lacks, as (kind, value): numbers, names,
    quotations (cut to 60 characters)."""
    for number in _missing_numbers(text, source.text, source.digits, source.days):
        yield "number", number
    for name in _missing_names(text, source.text):
        yield "name", name
    for quote in _missing_quotations(text, source.text):
        yield "quotation", quote[:60]


def _near(day: int, month: str, days: tuple[date, ...]) -> bool:
    """True when ``day month`` falls within ``DATE_WINDOW`` of one of ``days``."""
    for near in days:
        for year in (near.year - 1, near.year, near.year + 1):
            try:
                when = date(year, _MONTHS.index(month) + 1, day)
            except ValueError:
                continue
            if abs(when - near) <= DATE_WINDOW:
                return True
    return False


def _dated_days(text: str, days: tuple[date, ...]) -> set[int]:
    """Where the days of dates near a publication date start in ``text``."""
    starts: set[int] = set()
    for match in _DATE.finditer(text):
        group = "day" if match.group("day") else "day2"
        month = match.group("month") or match.group("month2")
        if _near(int(match.group(group)), month, days):
            starts.add(match.start(group))
    return starts


def _missing_numbers(
    text: str, source: str, source_digits: str, days: tuple[date, ...] = ()
) -> Iterator[str]:
    """Numbers in ``text`` that occur in no written form in the sources (the days of dates
    near a publication date aside)."""
    dated = _dated_days(text, days)
    for match in _NUMBER.finditer(text):
        number = match.group()
        if match.start() in dated:
            continue
        if not any(
            form.lower() in source or form.replace(",", "") in source_digits
            for form in _number_forms(number)
        ):
            yield number


def _missing_names(text: str, source: str) -> Iterator[str]:
    """Capitalised names in ``text`` (common words aside) that the sources do not contain."""
    for match in _NAME.finditer(text):
        name = match.group().strip(" .-'’")
        words = [w for w in name.split() if w not in _COMMON]
        if not words:
            continue
        if normalise(" ".join(words)) not in source and not all(
            normalise(w) in source for w in words
        ):
            yield name


def quotations(text: str) -> list[str]:
    """The quoted spans of ``text`` of at least ``MIN_QUOTE_WORDS`` words, in any quote style."""
    found: list[str] = []
    for pattern in _QUOTES:
        found += [m.group(1) for m in pattern.finditer(text)]
        text = pattern.sub(" ", text)
    return [quote for quote in found if len(quote.split()) >= MIN_QUOTE_WORDS]


def _missing_quotations(text: str, source: str) -> Iterator[str]:
    """Quotations in ``text`` that are not verbatim in the sources (each part around an
    ellipsis checked on its own)."""
    for quote in quotations(text):
        if not verbatim_in(quote, source):
            yield quote


def verbatim_in(quote: str, source: str) -> bool:
    """True when ``quote`` (written without quotation marks) is verbatim in the normalised
    ``source``, up to whitespace, case, quote-mark style and the punctuation at its ends (an
    ellipsis splits it into parts that must each be there)."""
    parts = (normalise(p).strip(" .,;:!?'\"") for p in _ELLIPSIS.split(quote))
    return all(not part or part in source for part in parts)
