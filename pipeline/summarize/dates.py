"""Relative days made absolute from the article's own publication date.

A digest covers up to 30 days, so "on Monday" alone no longer says which Monday. Each weekday,
"today", "yesterday" and "tomorrow" in a sentence gets its date in brackets, computed from the
publication date of the article the sentence comes from: "on Monday (23 November)".

Which Monday: "last Monday" is the one before the publication day, "next Monday" the one after;
a bare weekday is the publication day itself when they match, the coming one when the nearest
verb cue before it speaks of the future ("will meet on Monday", "is due to ... on Monday"), else
the one before ("said on Monday that ... will": news mostly reports what happened).

The publication day is the calendar day in the timezone the date was stored with (UTC in Dyad's
store), so an article published late in the evening in the Americas, or early in the morning in
Asia, can be dated one day off.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_RELATIVE = re.compile(
    r"(?<!Black )(?<!Good )(?<!Super )(?<!Bloody )(?<!Easter )(?<!Palm )(?<!Ash )"  # named days
    r"\b(?:(last|next|this)\s+)?(" + "|".join(_WEEKDAYS) + r"|today|yesterday|tomorrow)\b"
    r"(?!['’]s\b)"  # "Monday's talks": no bracket inside the phrase
    r"(?!\s+(?:Times|Telegraph|Post|Mirror|Express|Herald|Independent)\b)"  # newspapers
    r"(?!\s*\()",  # already dated
    re.I,
)
_FUTURE = re.compile(
    r"\b(?:will|shall|(?:due|expected|scheduled|set|plans?|planning|going) to|to be"
    r"|(?:due|scheduled|set|planned) (?:for|on))\b",
    re.I,
)
_PAST = re.compile(r"\b(?:said|told|was|were|had|did|met|held|made|took|gave|began|\w+ed)\b", re.I)
_SHIFT = {"today": 0, "yesterday": -1, "tomorrow": 1}


def day_month(when: datetime) -> str:
    """ "24 November": how the prompt and what's new name the earlier story's day (the day in
    ``when``'s own time zone)."""
    return f"{when.day} {when:%B}"


def _day(word: str, qualifier: str, published: date, future: bool) -> date:
    """The date a relative day word means in an article published on ``published``."""
    lowered = word.lower()
    if lowered in _SHIFT:
        return published + timedelta(days=_SHIFT[lowered])
    ahead = (_WEEKDAYS.index(word.capitalize()) - published.weekday()) % 7
    if qualifier == "next" or (qualifier != "last" and future and ahead):
        return published + timedelta(days=ahead or 7)
    return published - timedelta(days=(7 - ahead) % 7 or (7 if qualifier == "last" else 0))


def _speaks_of_future(before: str) -> bool:
    """True when the verb cue nearest the end of ``before`` is a future one."""
    future = max((m.end() for m in _FUTURE.finditer(before)), default=-1)
    past = max((m.end() for m in _PAST.finditer(before)), default=-1)
    return future > past


def days_named(sentence: str, published: datetime | None) -> frozenset[date]:
    """The calendar days a sentence's relative day words mean (empty without a date)."""
    if published is None:
        return frozenset()
    day = published.date()
    return frozenset(
        _day(m.group(2), (m.group(1) or "").lower(), day, _speaks_of_future(sentence[: m.start()]))
        for m in _RELATIVE.finditer(sentence)
    )


def absolute_dates(sentence: str, published: datetime | None) -> str:
    """``sentence`` with each relative day followed by its date ("on Monday (23 November)");
    unchanged when the publication date is unknown."""
    if published is None:
        return sentence
    day = published.date()

    def dated(match: re.Match[str]) -> str:
        qualifier = (match.group(1) or "").lower()
        when = _day(match.group(2), qualifier, day, _speaks_of_future(sentence[: match.start()]))
        return f"{match.group(0)} ({when.day} {when:%B})"

    return _RELATIVE.sub(dated, sentence)
