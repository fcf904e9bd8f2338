"""What an article says whatever the pair: country weights, cue words, word lists and groups.

``ArticleSignals`` reads the mentions (``mentions.find_mentions``) and the article's tokens once;
``features.py`` builds every candidate pair's vector from it, ending with the article's own
features (``ARTICLE_FEATURES``, the same for every candidate).
"""

from __future__ import annotations

import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from pipeline.detect.gazetteer import Gazetteer
from pipeline.detect.mentions import Mention, Sections

_HEAD = ("title", "lead")
# Words after a country that show the state acting ("Israeli troops", "India's foreign minister")
# or private people and firms ("Australian man", "Chinese company"); words before it that make it
# a place ("in Iraq", "near the border with Chad").
STATE_NOUNS = frozenset(
    "government governments minister ministers ministry president premier prime foreign defence "
    "defense troops forces army military navy officials official embassy ambassador diplomat "
    "diplomats envoy leader leaders authorities administration king cabinet parliament "
    "spokesman delegation warplanes jets soldiers police state".split()
)
PRIVATE_NOUNS = frozenset(
    "man woman men women boy girl tourist tourists worker workers hostage hostages journalist "
    "journalists company companies firm firms businessman national nationals citizen citizens "
    "student students fans team player players driver family families couple engineer "
    "engineers contractor contractors aid-worker shares stocks bank banks airline group".split()
)
NON_STATE_NOUNS = frozenset(
    "rebels rebel militants militant insurgents insurgent gunmen guerrillas guerrilla "
    "separatists separatist kidnappers extremists extremist terrorists terrorist captors "
    "fighters bombers hostage-takers".split()
)
LOCATIVES = frozenset("in near inside across throughout at into around outside".split())

# The signal word groups of countries.yaml, in a fixed order (one feature per group and place).
SIGNAL_GROUPS = (
    "kidnap",
    "violence",
    "election",
    "domestic",
    "economy",
    "sport",
    "talks",
    "tour",
    "military",
    "relations",
    "reaction",
)

# The features of the article (computed once, the same for every candidate), in the order of
# ``ArticleSignals.article_features``.
ARTICLE_FEATURES: tuple[str, ...] = (
    "text_tokens",
    "short_text",
    "countries",
    "cues_head",
    "cues_body",
    "multilateral_head",
    "organisations_head",
    "organisations_body",
    "non_state_head",
    "non_state_body",
    "domain",
    "state",
    *(f"signal_{g}_head" for g in SIGNAL_GROUPS),
    *(f"signal_{g}_all" for g in SIGNAL_GROUPS),
)


def log_scale(value: float) -> float:
    """``log(1 + value)``, a negative value read as 0: how counts and weights enter the model."""
    return math.log1p(value) if value > 0 else 0.0


@dataclass(frozen=True)
class _PhraseList:
    """A word list split once into single words (set lookups) and phrases (substring tests)."""

    words: frozenset[str]
    phrases: tuple[str, ...]

    def count(self, present_words: AbstractSet[str], text: str) -> int:
        """How many entries of the list occur: words among ``present_words``, phrases in text."""
        return len(self.words & present_words) + sum(map(text.__contains__, self.phrases))


_PHRASE_LISTS: dict[str, dict[str, _PhraseList]] = {}


def _phrase_lists(gaz: Gazetteer) -> dict[str, _PhraseList]:
    """The gazetteer's multilateral, organisation and non-state lists, split once per version."""
    found = _PHRASE_LISTS.get(gaz.version)
    if found is None:
        found = {}
        for name, entries in (
            ("multilateral", gaz.multilateral),
            ("organisations", gaz.organisations),
            ("non_state", gaz.non_state),
        ):
            phrases = tuple(sorted(e for e in entries if " " in e or "-" in e))
            found[name] = _PhraseList(frozenset(entries) - set(phrases), phrases)
        _PHRASE_LISTS[gaz.version] = found
    return found


_COUNTED: dict[str, frozenset[str]] = {}


def _counted_words(gaz: Gazetteer) -> frozenset[str]:
    """Every lowercased word the signals count (cues, domain and state cues, signal groups), once
    per gazetteer version: the only words whose lowercased counts are looked up."""
    found = _COUNTED.get(gaz.version)
    if found is None:
        found = frozenset(gaz.cues).union(
            gaz.domain_cues, gaz.state_cues, *gaz.signal_words.values()
        )
        _COUNTED[gaz.version] = found
    return found


def lowercased(token_lists: dict[str, list[str]]) -> dict[str, list[str]]:
    """Each section's tokens lowercased (in C: a map of str.lower), computed once per article."""
    return {where: list(map(str.lower, tokens)) for where, tokens in token_lists.items()}


@dataclass(frozen=True)
class _TokenCounts:
    """The article's distinct tokens and how many; how often each counted word (``_counted_words``)
    occurs lowercased in the whole article; how often each token occurs as written and lowercased
    in its head (title and lead)."""

    distinct: frozenset[str]
    total: int
    lowered: Counter[str]
    head: Counter[str]
    head_lowered: Counter[str]

    @classmethod
    def of(
        cls,
        token_lists: dict[str, list[str]],
        lowered: dict[str, list[str]],
        counted: frozenset[str],
    ) -> _TokenCounts:
        """The counts of the sections' tokens (``lowered``: the same lists lowercased)."""
        tokens = list(itertools.chain.from_iterable(token_lists.values()))
        head = token_lists["title"] + token_lists["lead"]
        # Counter over an iterable counts in C; tokens differing only in case add up when lowered.
        return cls(
            frozenset(tokens),
            len(tokens),
            Counter(filter(counted.__contains__, itertools.chain.from_iterable(lowered.values()))),
            Counter(head),
            Counter(lowered["title"] + lowered["lead"]),
        )


def _occurrences(counts: Counter[str], words: frozenset[str]) -> int:
    """How many times the words of ``words`` occur, by ``counts``."""
    return sum(map(counts.__getitem__, filter(counts.__contains__, words)))


def _country_weights(mentions: list[Mention]) -> defaultdict[str, float]:
    """Each country's summed mention weight."""
    scores: defaultdict[str, float] = defaultdict(float)
    for m in mentions:
        scores[m.country] += m.weight
    return scores


def _cue_counts(counts: _TokenCounts, gaz: Gazetteer) -> tuple[list[str], float, float]:
    """The relation cue words present (sorted), their weight in the head and in the rest."""
    cue_words = sorted(counts.lowered.keys() & gaz.cues.keys())
    cues_head = sum(gaz.cues.get(t.lower(), 0.0) * n for t, n in counts.head.items())
    cues_all = sum(gaz.cues[c] * counts.lowered[c] for c in cue_words)
    return cue_words, cues_head, max(0.0, cues_all - cues_head)


def _head_words(
    mentions: list[Mention], token_lists: dict[str, list[str]], gaz: Gazetteer
) -> frozenset[str]:
    """The headline's and lead's words (lowercased), then the headline's again marked "t:".

    For the model's word weights: a word weighs differently in the headline. Every token of a
    matched form is left out ("States" of "United States", "Strip" of "Gaza Strip", a leader's
    given names), and so is every token that may start a form.
    """
    covered = {
        (m.where, k) for m in mentions if m.where in _HEAD for k in range(m.index, m.end_index)
    }
    words = frozenset(
        t.lower()
        for where in _HEAD
        for k, t in enumerate(token_lists[where])
        if t[:1].isalpha() and t not in gaz.first_tokens and (where, k) not in covered
    )
    words |= frozenset(
        "t:" + t.lower()
        for k, t in enumerate(token_lists["title"])
        if t[:1].isalpha() and t not in gaz.first_tokens and ("title", k) not in covered
    )
    return words


def _signal_counts(counts: Counter[str], gaz: Gazetteer) -> list[int]:
    """How often each signal word group (``SIGNAL_GROUPS`` order) occurs, by ``counts``."""
    return [
        _occurrences(counts, gaz.signal_words.get(group, frozenset())) for group in SIGNAL_GROUPS
    ]


@dataclass(frozen=True)
class _NeighbourCounts:
    """Per country: its mentions, and how many are followed by state, private or non-state nouns
    or preceded by a locative."""

    state_nouns: Counter[str]
    private_nouns: Counter[str]
    non_state_nouns: Counter[str]
    locative: Counter[str]
    mention_count: Counter[str]


def _neighbour_counts(mentions: list[Mention], lowered: dict[str, list[str]]) -> _NeighbourCounts:
    """The words around each mention (``lowered``: each section's tokens lowercased), counted
    per country (a leader counts as a state noun)."""
    found = _NeighbourCounts(Counter(), Counter(), Counter(), Counter(), Counter())
    for m in mentions:
        tokens = lowered[m.where]
        nxt = tokens[m.end_index] if m.end_index < len(tokens) else ""
        nxt2 = tokens[m.end_index + 1] if m.end_index + 1 < len(tokens) else ""
        prev = tokens[m.index - 1] if m.index > 0 else ""
        found.mention_count[m.country] += 1
        if m.kind == "leader" or nxt in STATE_NOUNS or nxt2 in STATE_NOUNS:
            found.state_nouns[m.country] += 1
        if nxt in PRIVATE_NOUNS:
            found.private_nouns[m.country] += 1
        if nxt in NON_STATE_NOUNS or nxt2 in NON_STATE_NOUNS:
            found.non_state_nouns[m.country] += 1
        if prev in LOCATIVES:
            found.locative[m.country] += 1
    return found


@dataclass(frozen=True)
class _KindCounts:
    """Per country: its mentions by kind, its headline names, and where its leaders appear."""

    kinds: defaultdict[str, Counter[str]]
    title_names: Counter[str]
    leaders_title: set[str]
    leaders_past: set[str]


def _kind_counts(mentions: list[Mention]) -> _KindCounts:
    """How each country is mentioned: kinds, names in the headline, leaders (headline, past)."""
    found = _KindCounts(defaultdict(Counter), Counter(), set(), set())
    for m in mentions:
        found.kinds[m.country][m.kind] += 1
        if m.where == "title" and m.kind in ("name", "adjective"):
            found.title_names[m.country] += 1
        if m.kind == "leader":
            if m.where == "title":
                found.leaders_title.add(m.country)
            if not m.in_office:
                found.leaders_past.add(m.country)
    return found


class ArticleSignals:
    """Everything about an article that does not depend on the pair, computed once."""

    def __init__(
        self,
        mentions: list[Mention],
        sections: Sections,
        head_text: str,
        full_text: str,
        gaz: Gazetteer,
    ) -> None:
        self.scores = _country_weights(mentions)
        self.ranked = sorted(self.scores, key=lambda c: (-self.scores[c], c))
        self.total = sum(self.scores.values())
        self.title = {m.country for m in mentions if m.where == "title"}
        self.lead = {m.country for m in mentions if m.where == "lead"}
        self.head = self.title | self.lead
        token_lists = dict(sections)
        self.lowered = lowercased(token_lists)
        counts = _TokenCounts.of(token_lists, self.lowered, _counted_words(gaz))
        head_words, all_words = set(counts.head), counts.distinct
        self.tokens = counts.total
        self.cue_words, self.cues_head, self.cues_body = _cue_counts(counts, gaz)
        lists = _phrase_lists(gaz)
        self.multilateral = lists["multilateral"].count(head_words, head_text)
        self.organisations_head = lists["organisations"].count(head_words, head_text)
        self.organisations_body = lists["organisations"].count(all_words, full_text)
        self.non_state_head = lists["non_state"].count(head_words, head_text)
        self.non_state_body = lists["non_state"].count(all_words, full_text)
        self.domain = _occurrences(counts.lowered, gaz.domain_cues)
        self.state = _occurrences(counts.lowered, gaz.state_cues)
        self.words = _head_words(mentions, token_lists, gaz)
        self.signals_head = _signal_counts(counts.head_lowered, gaz)
        self.signals_all = _signal_counts(counts.lowered, gaz)
        neighbours = _neighbour_counts(mentions, self.lowered)
        self.state_nouns = neighbours.state_nouns
        self.private_nouns = neighbours.private_nouns
        self.non_state_nouns = neighbours.non_state_nouns
        self.locative = neighbours.locative
        self.mention_count = neighbours.mention_count
        self.title_opener = next(
            (m.country for m in mentions if m.where == "title" and m.index <= 1), None
        )
        self.article_features = self._article_features()
        kinds = _kind_counts(mentions)
        self.kinds = kinds.kinds
        self.title_names = kinds.title_names
        self.leaders_title = kinds.leaders_title
        self.leaders_past = kinds.leaders_past

    def _article_features(self) -> tuple[float, ...]:
        """The article's features, in ``ARTICLE_FEATURES`` order."""
        return (
            log_scale(self.tokens),
            float(self.tokens < 80),
            log_scale(len(self.ranked)),
            log_scale(self.cues_head),
            log_scale(self.cues_body),
            log_scale(self.multilateral),
            log_scale(self.organisations_head),
            log_scale(self.organisations_body),
            log_scale(self.non_state_head),
            log_scale(self.non_state_body),
            log_scale(self.domain),
            log_scale(self.state),
            *(log_scale(v) for v in self.signals_head),
            *(log_scale(v) for v in self.signals_all),
        )
