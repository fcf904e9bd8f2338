"""Bilateral-relations detection: is this article about the relations between two countries?

What counts (the same rules label the development set, ``tests/data/detect_dev.yaml``):

- **Bilateral**: the main subject is an interaction or relationship between exactly two
  countries acting as states: visits and talks, agreements, trade deals and disputes, aid,
  sanctions, threats and accusations, border clashes, territorial disputes, extradition,
  espionage, expulsion of diplomats. Taiwan and Palestine count as parties.
- **Not bilateral**: one country's domestic affairs that merely mention another; multilateral
  events with no dominant pair (summits, blocs); a country versus an international
  organisation; a state versus a non-state group; purely commercial or private cross-border
  matters; third-party commentary.
- The pair is unordered for grouping (IN-RU = RU-IN); ``actor``/``target`` keep who acted toward
  whom when the headline says so.

How: one matcher over the text (a dictionary of token n-grams built by ``gazetteer.py`` from
``pipeline/data/gazetteer/``: names, demonyms and adjectival forms, capitals and seats of
government used as metonyms, heads of state and government and foreign ministers with their
dates in office), longest match first, so "Papua New Guinea", "South Sudan", "New Mexico" and
"Indian Ocean" are read whole. Ambiguous forms (Georgia, Jordan, Chad, Niger, Congo, Washington,
American, ...) follow the rules in ``countries.yaml``. The decision weighs where the countries
appear (title and lead weigh most), explicit pair patterns ("India-Russia", "between X and Y",
"X and Y"), relation cue words, the share of mentions the top two countries hold, and signs of
a multilateral story. No network, no model.

The gazetteer's base names come from pycountry (ISO 3166-1) and capitals/demonyms from
countryinfo, generated once by ``scripts/build_gazetteer_base.py``; the rest is curated by hand.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pipeline.detect.gazetteer import Gazetteer, Sense, load_gazetteer, tokenize
from pipeline.records import DyadDetection, Evidence

THRESHOLD = 0.5
_PAIR_SEPARATORS = frozenset({"-", "–", "—", "/", "‑"})
KIND_WEIGHT = {"name": 1.0, "adjective": 0.8, "capital": 0.8, "metonym": 1.0, "leader": 1.0}
WHERE_WEIGHT = {"title": 3.0, "lead": 2.0, "body": 1.0}


@dataclass
class Mention:
    country: str
    kind: str
    text: str
    where: str
    index: int  # token index of the first token in its section
    end_index: int  # token index after the last token
    weight: float


_SENTENCE_END = frozenset('.!?:"“”;')


def _split_sections(title: str, text: str) -> list[tuple[str, str]]:
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
    if rule.get("person"):
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


def _in_office(sense: Sense, when: date | None) -> bool:
    if when is None:
        return True
    return any(start <= when and (end is None or when <= end) for start, end in sense.tenures)


Sections = list[tuple[str, list[str]]]


def find_mentions(
    title: str, text: str, published: datetime | None = None, gaz: Gazetteer | None = None
) -> tuple[list[Mention], Sections]:
    """Every country mention in the title, lead and body, after disambiguation."""
    gaz = gaz or load_gazetteer()
    when = published.date() if published else None
    sections: Sections = [(where, tokenize(part)) for where, part in _split_sections(title, text)]
    doc = _Doc(f"{title}\n{text}", {t for _, tokens in sections for t in tokens})
    first, forms = gaz.first_tokens, gaz.forms
    shouted = gaz.shouted
    mentions: list[Mention] = []
    for where, tokens in sections:
        n = len(tokens)
        candidates = [i for i, t in enumerate(tokens) if t in first or t in shouted]
        skip_to = 0
        for i in candidates:
            if i < skip_to:
                continue
            word = tokens[i] if tokens[i] in first else shouted[tokens[i]]
            for length in gaz.lengths[word]:
                if i + length > n:
                    continue
                key = (word, *tokens[i + 1 : i + length]) if length > 1 else (word,)
                sense = forms.get(key)
                if sense is None:
                    continue
                j = i + length
                skip_to = j
                rule = gaz.rules.get(sense.surface)
                if sense.country is None or (rule and _rule_drops(rule, tokens, i, j, doc, gaz)):
                    break
                country = sense.country
                if rule and "switch_if_any" in rule:
                    for other, words in rule["switch_if_any"].items():
                        if any(doc.has(w) for w in words):
                            country = other
                weight = KIND_WEIGHT.get(sense.kind, 1.0) * WHERE_WEIGHT[where]
                if sense.kind == "leader" and not _in_office(sense, when):
                    weight *= 0.6
                mentions.append(
                    Mention(country, sense.kind, " ".join(tokens[i:j]), where, i, j, weight)
                )
                break
    return mentions, sections


def _pair_bonus(
    mentions: list[Mention], sections: Sections, gaz: Gazetteer
) -> dict[tuple[str, str], float]:
    bonus: dict[tuple[str, str], float] = defaultdict(float)
    by_where: dict[str, list[Mention]] = defaultdict(list)
    for m in mentions:
        by_where[m.where].append(m)
    token_map = dict(sections)
    for where, ms in by_where.items():
        tokens = token_map[where]
        scale = 1.5 if where == "title" else 1.0
        for a, b in itertools.pairwise(ms):
            if a.country == b.country:
                continue
            pair = (a.country, b.country) if a.country < b.country else (b.country, a.country)
            gap = tokens[a.end_index : b.index]
            if len(gap) == 1 and gap[0] in _PAIR_SEPARATORS:
                bonus[pair] += 3.0 * scale  # "India-Russia", "US/China"
            elif gap in (["and"], ["and", "the"], [","], ["&"]):
                before = [t.lower() for t in tokens[max(0, a.index - 4) : a.index]]
                bonus[pair] += (2.5 if "between" in before else 1.5) * scale
            elif len(gap) <= 8 and any(t in gaz.action_verbs for t in gap):
                bonus[pair] += 1.2 * scale  # "X accuses Y", "X expels Y's diplomat"
            elif "counterpart" in gap or "counterparts" in gap:
                bonus[pair] += 1.5 * scale
    return bonus


def detect_dyads(
    title: str, text: str, published: datetime | None = None, *, gaz: Gazetteer | None = None
) -> DyadDetection:
    """Decide whether the article's main subject is the relationship between two countries.

    Pure and deterministic: the same title, text and date give the same answer. The pair is
    sorted ISO 3166-1 alpha-2 codes; ``score`` in [0, 1] is above ``THRESHOLD`` exactly when
    ``bilateral`` is true. Evidence lists what resolved to which country and where.
    """
    gaz = gaz or load_gazetteer()
    mentions, sections = find_mentions(title, text, published, gaz)
    texts = dict(_split_sections(title, text))
    scores: dict[str, float] = defaultdict(float)
    head: set[str] = set()
    for m in mentions:
        scores[m.country] += m.weight
        if m.where in ("title", "lead"):
            head.add(m.country)
    ranked = sorted(scores, key=lambda c: (-scores[c], c))
    counts = {where: Counter(tokens) for where, tokens in sections}
    everything: Counter[str] = Counter()
    for counter in counts.values():
        everything.update(counter)
    lowered: Counter[str] = Counter()
    for token, count in everything.items():
        lowered[token.lower()] += count
    cue_hits: dict[str, float] = {}
    cue_score = 0.0
    for where, counter in counts.items():
        factor = 2.0 if where in ("title", "lead") else 1.0
        for token, count in counter.items():
            weight = gaz.cues.get(token.lower())
            if weight:
                cue_hits[token.lower()] = weight
                cue_score += weight * factor * count
    head_text = f"{title} {texts['lead']}"
    head_words = set(counts["title"]) | set(counts["lead"])

    def present(phrase: str, words: set[str], text: str) -> bool:
        return phrase in text if (" " in phrase or "-" in phrase) else phrase in words

    multilateral = sum(1 for c in gaz.multilateral if present(c, head_words, head_text))
    organisations = sum(1 for c in gaz.organisations if present(c, head_words, head_text))
    non_state = sum(1 for c in gaz.non_state if present(c, head_words, head_text))
    domain = sum(everything[t] for t in gaz.domain_cues if t in everything)
    state = sum(lowered[t] for t in gaz.state_cues if t in lowered)
    state += sum(1 for m in mentions if m.kind in ("leader", "metonym"))
    evidence = tuple(
        Evidence(text=m.text, country=m.country, kind=m.kind, where=m.where) for m in mentions[:60]
    )
    if len(ranked) < 2:
        return DyadDetection(
            bilateral=False,
            countries=(),
            score=0.0,
            cues=tuple(sorted(cue_hits)),
            evidence=evidence,
            third_countries=tuple(ranked),
            gazetteer_version=gaz.version,
        )
    bonus = _pair_bonus(mentions, sections, gaz)
    # The pair: the top two by weight, unless an explicit pattern names another pair among the
    # top three.
    a, b = ranked[0], ranked[1]
    best_pattern = max(bonus.items(), key=lambda kv: kv[1], default=None)
    if best_pattern and best_pattern[1] >= 2.5:
        pa, pb = best_pattern[0]
        if pa in ranked[:3] and pb in ranked[:3]:
            a, b = sorted((pa, pb), key=lambda c: -scores[c])
    sa, sb = scores[a], scores[b]
    total = sum(scores.values())
    share = (sa + sb) / total
    balance = sb / sa
    pair = tuple(sorted((a, b)))
    pattern = bonus.get(pair, 0.0)  # type: ignore[arg-type]
    strong_third = [c for c in ranked if c not in (a, b) and scores[c] >= 0.6 * sb]
    title_countries = {m.country for m in mentions if m.where == "title"}
    explicit = pattern >= 2.5
    score = 0.0
    if a in title_countries and b in title_countries:
        score += 0.25
    elif a in head and b in head:
        score += 0.12
    elif a in head or b in head:
        score += 0.04
    score += min(0.25, pattern * 0.07)
    score += 0.15 * min(1.0, balance / 0.45)
    score += 0.1 * max(0.0, min(1.0, (share - 0.45) / 0.4))
    score += 0.2 * min(1.0, cue_score / 6.0)
    score += 0.05 if state >= 2 else 0.0
    third_penalty = 0.12 * len(strong_third)
    score -= min(0.36, third_penalty / (2 if explicit else 1))
    if multilateral and strong_third and not explicit:
        score -= 0.15
    if organisations and not explicit:
        score -= 0.15
    if non_state and not explicit and not (a in title_countries and b in title_countries):
        score -= 0.25
    if domain >= 2 and domain >= state:
        score -= 0.3
    if title_countries and not (a in title_countries and b in title_countries) and not explicit:
        score -= 0.1
    score = round(max(0.0, min(1.0, score)), 3)
    bilateral = score >= THRESHOLD
    actor, target = _direction(mentions, sections, a, b, gaz) if bilateral else (None, None)
    return DyadDetection(
        bilateral=bilateral,
        countries=pair if bilateral else (),
        score=score,
        actor=actor,
        target=target,
        third_countries=tuple(c for c in ranked if not bilateral or c not in (a, b)),
        cues=tuple(sorted(cue_hits)),
        evidence=evidence,
        gazetteer_version=gaz.version,
    )


def _direction(
    mentions: list[Mention], sections: Sections, a: str, b: str, gaz: Gazetteer
) -> tuple[str | None, str | None]:
    """(actor, target) when the title reads "A <action verb> ... B"; else (None, None)."""
    tokens = dict(sections)["title"]
    ms = sorted(
        (m for m in mentions if m.where == "title" and m.country in (a, b)), key=lambda m: m.index
    )
    if len(ms) < 2 or ms[0].country == ms[-1].country:
        return None, None
    first = ms[0]
    second = next(m for m in ms if m.country != first.country)
    gap = tokens[first.end_index : second.index]
    if any(t in gaz.action_verbs for t in gap):
        return first.country, second.country
    return None, None
