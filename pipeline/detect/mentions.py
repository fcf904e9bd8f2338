"""Country mentions: one pass of the gazetteer's n-gram matcher over title, lead and body.

Longest match first, so "Papua New Guinea", "South Sudan", "New Mexico" and "Indian Ocean" are
read whole. Ambiguous forms (Georgia, Jordan, Chad, Niger, Congo, Washington, American, ...)
follow the rules in ``countries.yaml``. People who stand for states (heads of state and
government, foreign ministers) count for their state at the article's date: a surname shared by
office holders of different states resolves to the one in office that day, and is left out when
the article has no date or nobody with that name was in office.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from itertools import chain, compress
from typing import Any

from pipeline.detect.gazetteer import Gazetteer, Sense, load_gazetteer, tokenize

KIND_WEIGHT = {"name": 1.0, "adjective": 0.8, "capital": 0.8, "metonym": 1.0, "leader": 1.0}
WHERE_WEIGHT = {"title": 3.0, "lead": 2.0, "body": 1.0}
OUT_OF_OFFICE_WEIGHT = 0.6  # a leader named outside their dates in office (a past holder)
_SENTENCE_END = frozenset('.!?:"“”;')

Sections = list[tuple[str, list[str]]]


@dataclass(frozen=True, slots=True)
class Mention:
    """One place where a country is named (or stood for), after disambiguation."""

    country: str
    kind: str  # name, adjective, capital, metonym, leader
    text: str
    where: str  # title, lead, body
    index: int  # token index of the first token in its section
    end_index: int  # token index after the last token
    weight: float
    in_office: bool = True  # leaders only: in office at the article's date (or no date known)


def split_sections(title: str, text: str) -> list[tuple[str, str]]:
    """(section, text): the title, the lead (first two sentences or 400 characters), the body."""
    text = text.strip()
    sentences = re.split(r"(?<=[.!?])\s+", text[:1500], maxsplit=2)
    lead = " ".join(sentences[:2])
    if len(lead) > 600:
        lead = text[:400]
    return [("title", title), ("lead", lead), ("body", text[len(lead) :])]


class _Doc:
    """Presence tests for rule words over the whole article."""

    def __init__(self, full_text: str, words: set[str]) -> None:
        self.full_text = full_text
        self.words = words

    def has(self, phrase: str) -> bool:
        if " " in phrase or "-" in phrase:
            return phrase in self.full_text
        return phrase in self.words


def _looks_like_person(
    tokens: list[str], i: int, j: int, gaz: Gazetteer
) -> bool:  # "Michael Jordan", "Chad Smith"
    for k in (i - 1, j):
        if 0 <= k < len(tokens):
            word = tokens[k]
            sentence_start = k == i - 1 and (k == 0 or tokens[k - 1] in _SENTENCE_END)
            if (
                word[:1].isupper()
                and len(word) > 1
                and word not in gaz.not_names
                and (word,) not in gaz.forms
                and not sentence_start
            ):
                return True
    return False


def _rule_drops(
    rule: dict[str, Any], tokens: list[str], i: int, j: int, doc: _Doc, gaz: Gazetteer
) -> bool:
    if any(doc.has(word) for word in rule.get("keep_if_any", [])):
        return False
    prev = tokens[i - 1] if i > 0 else ""
    prev2 = f"{tokens[i - 2]} {prev}" if i > 1 else prev
    nxt = tokens[j] if j < len(tokens) else ""
    if prev in rule.get("drop_if_prev", []) or prev2 in rule.get("drop_if_prev", []):
        return True
    if nxt in rule.get("drop_if_next", []):
        return True
    if any(doc.has(word) for word in rule.get("drop_if_any", [])):
        return True
    return bool(rule.get("person")) and _looks_like_person(tokens, i, j, gaz)


def in_office(sense: Sense, when: date | None) -> bool:
    """Whether the office holder ``sense`` held office on ``when`` (True when no date)."""
    if when is None:
        return True
    return any(start <= when and (end is None or when <= end) for start, end in sense.tenures)


def _resolve_leader(senses: tuple[Sense, ...], when: date | None) -> Sense | None:
    """The one holder a shared surname means at ``when``, or None when it stays ambiguous."""
    if when is None:
        return senses[0] if len({s.country for s in senses}) == 1 else None
    current = [s for s in senses if in_office(s, when)]
    if len({s.country for s in current}) == 1:
        return current[0]
    return None


def find_mentions(
    title: str, text: str, published: datetime | None = None, gaz: Gazetteer | None = None
) -> tuple[list[Mention], Sections]:
    """Every country mention in the title, lead and body, after disambiguation."""
    gaz = gaz or load_gazetteer()
    return find_mentions_in(split_sections(title, text), f"{title}\n{text}", published, gaz)


def find_mentions_in(
    parts: list[tuple[str, str]], full_text: str, published: datetime | None, gaz: Gazetteer
) -> tuple[list[Mention], Sections]:
    """``find_mentions`` over sections already split (``split_sections``)."""
    when = published.date() if published else None
    sections: Sections = [(where, tokenize(part)) for where, part in parts]
    doc = _Doc(full_text, set(chain.from_iterable(tokens for _, tokens in sections)))
    mentions: list[Mention] = []
    for where, tokens in sections:
        mentions += _section_mentions(where, tokens, when, doc, gaz)
    return mentions, sections


def _section_mentions(
    where: str, tokens: list[str], when: date | None, doc: _Doc, gaz: Gazetteer
) -> list[Mention]:
    """The mentions of one section: at each token, the longest form that starts there, and no
    form starting inside a matched one."""
    starts, forms, seconds = gaz.starts, gaz.forms, gaz.seconds
    n = len(tokens)
    found: list[Mention] = []
    # the positions where a form may start, found in C (compress over a membership map)
    candidates = compress(range(n), map(starts.__contains__, tokens))
    skip_to = 0
    for i in candidates:
        if i < skip_to:
            continue
        word, lengths = starts[tokens[i]]
        # a longer form needs its second token next ("the" mostly starts none)
        follows = i + 1 < n and tokens[i + 1] in seconds[word]
        for length in lengths:
            if length > 1 and not (follows and i + length <= n):
                continue
            key = (word, *tokens[i + 1 : i + length]) if length > 1 else (word,)
            sense = forms.get(key)
            if sense is None:
                continue
            skip_to = i + length
            mention = _mention_of(key, sense, where, tokens, i, when, doc, gaz)
            if mention is not None:
                found.append(mention)
            break
    return found


def _mention_of(
    key: tuple[str, ...],
    sense: Sense,
    where: str,
    tokens: list[str],
    i: int,
    when: date | None,
    doc: _Doc,
    gaz: Gazetteer,
) -> Mention | None:
    """The mention the form ``key`` (its sense ``sense``) at ``tokens[i]`` makes, after shared
    leader names, rules and dates; None when it stands for no country there."""
    j = i + len(key)
    if key in gaz.shared_leader_forms:
        sense = _resolve_leader(gaz.shared_leader_forms[key], when) or Sense(
            None, "blocker", key[0]
        )
    rule = gaz.rules.get(sense.surface)
    if sense.country is None or (rule and _rule_drops(rule, tokens, i, j, doc, gaz)):
        return None
    country = _switched_country(sense.country, rule, doc) if rule else sense.country
    weight = KIND_WEIGHT.get(sense.kind, 1.0) * WHERE_WEIGHT[where]
    holding = sense.kind != "leader" or in_office(sense, when)
    if not holding:
        weight *= OUT_OF_OFFICE_WEIGHT
    return Mention(country, sense.kind, " ".join(tokens[i:j]), where, i, j, weight, holding)


def _switched_country(country: str, rule: dict[str, Any], doc: _Doc) -> str:
    """The country a rule's ``switch_if_any`` gives the form when the article has one of its
    words (the last such), else ``country``."""
    for other, words in rule.get("switch_if_any", {}).items():
        if any(doc.has(w) for w in words):
            country = other
    return country
