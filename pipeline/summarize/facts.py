"""The facts a sentence states, and when two outlets' sentences state the same one.

A sentence's facts are its numbers and its names (``facts_of``):

- numbers: figures in digits ("150", "1.5 million", "11.7%") and in words ("three hundred",
  read by text2num), without years and days of the month, which date a fact rather than state
  it. In a two-country story "each released 150" also counts as 300: the two sides together.
- names: runs of capitalised words, each keyed by its last word ("Foreign Minister Sergey
  Lavrov" and "Lavrov" are one name), leaving out sentence openers, weekdays and months, and
  the pair's own names (every sentence of the story names the two countries, so they tell
  nothing apart).

Content words are the lower-case words of three letters or more that are not function words,
number words, months or weekdays, with a plural "s" cut. Two sentences from different articles
state the same fact (``same_fact``) when
  1. they share a number above 10 and at least one content word or name ("each released 150
     prisoners ... exchange" and "Three hundred soldiers ... prisoner exchange"), or
  2. they name the same day (read from each article's publication date: "on Monday" in one,
     "yesterday" in the next day's) and share a content word and one more content word or name
     ("restart exploratory talks ... on Friday" and "said on Friday they would hold a new round
     of exploratory talks"; "gas from Argentina's Vaca Muerta ... on Wednesday" and "agreed on
     Wednesday to supply natural gas ... from the Vaca Muerta field"), or
  3. they share at least two names and a quarter of the content words of the shorter one, or
  4. half the content words of the shorter one, and at least three, are in the other (wire
     copy lightly rewritten).
Sentences that both name days, none of them the same, never state the same fact.
Of two such sentences the one with more facts is kept (``fact_count``: numbers plus names,
the pair's names included), the earlier one on a tie.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from text_to_num import alpha2digit

from pipeline.summarize.dates import days_named

_MONTHS = (
    "january february march april may june july august september october november december"
).split()
_WEEKDAYS = "monday tuesday wednesday thursday friday saturday sunday".split()
_OPENERS = frozenset(
    "the a an in on at for of to by from with but and or as after before when while since "
    "under despite earlier later meanwhile it its this that these those they their he she his "
    "her we our i mr mrs ms dr".split()
)
_NUMBER_WORDS: frozenset[str] = frozenset(
    "one two three four five six seven eight nine ten eleven twelve twenty thirty forty fifty "
    "sixty seventy eighty ninety hundred thousand million billion dozen".split()
)
_STOP: frozenset[str] = frozenset(
    "about above after again against also among been before being between both could does "
    "during each every from further have having here into itself just last more most much "
    "next only other over same said says should some such than that their them then there "
    "these they this those through under until very were what when where which while whom "
    "will with would year years your the and for was has its are but not who had his her "
    "say new per via out off all any can did may our own too yet now how why than also".split()
)
_AGENCIES = frozenset("reuters afp ap upi xinhua xinhuanet pti ians ani bloomberg".split())
_IGNORED_NAMES = _OPENERS | _NUMBER_WORDS | _AGENCIES | set(_MONTHS) | set(_WEEKDAYS)
_SCALES = {"thousand": 1e3, "million": 1e6, "m": 1e6, "billion": 1e9, "bn": 1e9, "trillion": 1e12}
_FIGURE = re.compile(
    r"(?<![\w.#])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?:\s*(thousand|million|billion|trillion|bn|m)\b)?",
    re.I,
)
_VAGUE = re.compile(
    r"\b(?:tens|hundreds|thousands|millions|billions|dozens)(?: of (?:thousands|millions))?\b"
)
_DAY_OF_MONTH = re.compile(
    rf"\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{'|'.join(_MONTHS)})\b|\b(?:{'|'.join(_MONTHS)})\s+\d{{1,2}}\b",
    re.I,
)
_EACH = re.compile(r"\beach\b(?:\s+\w+){0,3}?\s+(\d[\d,.]*)|(\d[\d,.]*)\s+\w+\s+each\b", re.I)
_NAME_WORD = r"[A-Z](?:[\w-]|\.(?=[A-Z]))*(?:['’]s)?"  # "Lavrov", "Lavrov's", "U.S"
_NAME_RUN = re.compile(rf"\b{_NAME_WORD}(?:\s+{_NAME_WORD})*")
_CONTENT = re.compile(r"(?<![\w-])[a-z]{3,}\b")  # lower-case words: names are counted apart


@dataclass(frozen=True)
class Facts:
    """What one sentence states: its numbers, its names and its content words (stemmed)."""

    numbers: frozenset[float]
    names: frozenset[str]
    pair_names: frozenset[str]
    words: frozenset[str]
    days: frozenset[date] = frozenset()


def _value(digits: str, scale: str | None) -> float:
    return float(digits.replace(",", "")) * _SCALES.get((scale or "").lower(), 1.0)


def _is_year(digits: str, value: float) -> bool:
    return len(digits) == 4 and digits.isdigit() and 1900 <= value <= 2100


def numbers_of(sentence: str) -> frozenset[float]:
    """The figures a sentence states (digits or words), without years and days of the month;
    a figure that each of the two sides has ("each released 150") also counts doubled."""
    text = _DAY_OF_MONTH.sub(" ", _VAGUE.sub("many", sentence))
    found: set[float] = set()
    for source in (text, alpha2digit(_FIGURE.sub(" ", text), "en")):
        for digits, scale in _FIGURE.findall(source):
            value = _value(digits, scale)
            if not _is_year(digits, value):
                found.add(value)
    for match in _EACH.finditer(text):
        digits = (match.group(1) or match.group(2)).rstrip(".,")
        if digits.replace(",", "").replace(".", "").isdigit():
            found.add(_value(digits, None) * 2)
    return frozenset(found)


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _name_keys(sentence: str, skip: set[str]) -> tuple[set[str], set[str]]:
    """The names in ``sentence`` (each run of capitalised words, keyed by its last word, so
    "Foreign Minister Sergey Lavrov" and "Sergey Lavrov" are one name) and, apart, the pair's."""
    names: set[str] = set()
    pair: set[str] = set()
    for run in _NAME_RUN.findall(sentence):
        words = [re.sub(r"['’]s$", "", w).lower() for w in run.split()]
        words = [w for w in words if w not in _IGNORED_NAMES]
        pair.update(w for w in words if w in skip)
        words = [w for w in words if w not in skip]
        if words:
            names.add(words[-1])
    return names, pair


def facts_of(
    sentence: str, pair_terms: tuple[str, ...] = (), published: datetime | None = None
) -> Facts:
    """The numbers, names, content words and days of ``sentence``; ``pair_terms`` are the words
    naming the story's two countries (kept apart in ``pair_names``), ``published`` the date of
    its article (to read "on Monday" as a day)."""
    pair_words = {w.lower() for term in pair_terms for w in term.split()}
    names, pair = _name_keys(sentence, pair_words)
    skip = _STOP | _NUMBER_WORDS | pair_words | set(_MONTHS + _WEEKDAYS)
    words = {_stem(w) for w in _CONTENT.findall(sentence) if w not in skip}
    return Facts(
        numbers_of(sentence),
        frozenset(names),
        frozenset(pair),
        frozenset(words),
        days_named(sentence, published),
    )


def fact_count(facts: Facts) -> int:
    """How many facts a sentence carries: its numbers and names, the pair's names included."""
    return len(facts.numbers) + len(facts.names) + len(facts.pair_names)


def same_fact(a: Facts, b: Facts) -> bool:
    """True when two sentences state the same fact by the module's four rules (never when
    both name days and no day is the same: the same words on another day are another event)."""
    if a.days and b.days and not a.days & b.days:
        return False
    shared_words = a.words & b.words
    shared_names = a.names & b.names
    if {n for n in a.numbers & b.numbers if n > 10} and (shared_words or shared_names):
        return True
    if a.days & b.days and shared_words and len(shared_words) + len(shared_names) >= 2:
        return True
    overlap = len(shared_words) / max(1, min(len(a.words), len(b.words)))
    if len(shared_names) >= 2 and overlap >= 0.25:
        return True
    return len(shared_words) >= 3 and overlap >= 0.5
