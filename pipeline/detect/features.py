"""What the decision weighs: one feature vector per candidate pair of an article.

Pure functions of the mentions (``mentions.find_mentions``) and the article's tokens. An
article's candidates are the pairs among its most-weighted countries and every country of the
headline; each candidate gets the same named features (``FEATURES``), which the learned model
(``model.py``, weights in ``pipeline/data/detect_model.json``) turns into a probability. Nothing
here is tuned by hand: the weights are learned from the labelled real-news set.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime

from pipeline.detect.gazetteer import Gazetteer
from pipeline.detect.mentions import Mention, Sections, find_mentions_in, split_sections

PAIR_SEPARATORS = frozenset({"-", "–", "—", "/", "‑"})
MAX_RANKED = 4  # countries by weight that may form a candidate pair (plus all headline countries)
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
_DOMESTIC = SIGNAL_GROUPS.index("domestic")
_ELECTION = SIGNAL_GROUPS.index("election")

# Features of the pair (computed per candidate) ...
PAIR_FEATURES: tuple[str, ...] = (
    "share_first",
    "share_second",
    "share_pair",
    "balance",
    "weight_first",
    "weight_second",
    "rank_second",
    "top_two",
    "third_strong",
    "third_ratio",
    "title_both",
    "title_one",
    "title_others",
    "title_only_pair",
    "head_both",
    "head_one",
    "lead_both",
    "pattern_separator",
    "pattern_and",
    "pattern_between",
    "pattern_verb",
    "pattern_counterpart",
    "pattern_title",
    "direction_title",
    "leaders_pair",
    "leaders_title",
    "leaders_past",
    "metonyms_pair",
    "adjective_only_pair",
    "names_title_pair",
    "state_nouns_first",
    "state_nouns_second",
    "private_nouns_pair",
    "non_state_nouns_pair",
    "locative_first",
    "locative_second",
    "title_opens_with_pair",
    "rule_israel_palestine",
    "rule_israel_palestine_force",
    "non_state_head_other",
    "non_state_body_other",
    "rule_israel_palestine_domestic",
)
# ... and of the article (computed once, the same for every candidate).
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
FEATURES: tuple[str, ...] = PAIR_FEATURES + ARTICLE_FEATURES


@dataclass(frozen=True)
class Candidate:
    """One possible pair of an article: ``first`` weighs at least as much as ``second``."""

    first: str
    second: str
    features: tuple[float, ...]  # in ``FEATURES`` order
    direction: tuple[str, str] | None = None  # (actor, target) when the headline says who acted

    @property
    def pair(self) -> tuple[str, str]:
        """The pair as sorted ISO codes."""
        return (self.first, self.second) if self.first < self.second else (self.second, self.first)


@dataclass
class _Patterns:
    separator: float = 0.0
    conjunction: float = 0.0
    between: float = 0.0
    verb: float = 0.0
    counterpart: float = 0.0
    title: float = 0.0


def _pair_key(a: str, b: str) -> tuple[str, str]:
    return (a, b) if a < b else (b, a)


_PASSIVE = frozenset("was were been be being is are".split())


def _verb_between(gap: list[str], gaz: Gazetteer) -> bool:
    """An action verb acting from the first country on the second: within 8 tokens, not passive
    ("was warned")."""
    if len(gap) > 8:
        return False
    return any(
        t in gaz.action_verbs and not (k and gap[k - 1] in _PASSIVE) for k, t in enumerate(gap)
    )


def pair_patterns(
    mentions: list[Mention], sections: Sections, gaz: Gazetteer
) -> dict[tuple[str, str], _Patterns]:
    """Explicit pair patterns between neighbouring mentions of two countries: "India-Russia",
    "India and Russia", "between X and Y", "X accuses Y", "X's counterpart in Y"."""
    found: dict[tuple[str, str], _Patterns] = defaultdict(_Patterns)
    by_where: dict[str, list[Mention]] = defaultdict(list)
    for m in mentions:
        by_where[m.where].append(m)
    token_map = dict(sections)
    for where, ms in by_where.items():
        tokens = token_map[where]
        for a, b in itertools.pairwise(ms):
            if a.country == b.country:
                continue
            p = found[_pair_key(a.country, b.country)]
            gap = [t.lower() for t in tokens[a.end_index : b.index]]
            hit = True
            if len(gap) == 1 and gap[0] in PAIR_SEPARATORS:
                p.separator += 1
            elif gap in (["and"], ["and", "the"], [","], ["&"]):
                before = [t.lower() for t in tokens[max(0, a.index - 4) : a.index]]
                if "between" in before:
                    p.between += 1
                else:
                    p.conjunction += 1
            elif _verb_between(gap, gaz):
                p.verb += 1
            elif "counterpart" in gap or "counterparts" in gap:
                p.counterpart += 1
            else:
                hit = False
            if hit and where == "title":
                p.title += 1
    return found


def _directional_title(
    mentions: list[Mention], sections: Sections, a: str, b: str, gaz: Gazetteer
) -> tuple[str, str] | None:
    """(actor, target) when the headline reads "A <action verb> ... B"."""
    tokens = dict(sections)["title"]
    ms = sorted(
        (m for m in mentions if m.where == "title" and m.country in (a, b)), key=lambda m: m.index
    )
    if len(ms) < 2 or ms[0].country == ms[-1].country:
        return None
    first = ms[0]
    second = next(m for m in ms if m.country != first.country)
    if any(t.lower() in gaz.action_verbs for t in tokens[first.end_index : second.index]):
        return first.country, second.country
    return None


@dataclass(frozen=True)
class _PhraseList:
    """A word list split once into single words (set lookups) and phrases (substring tests)."""

    words: frozenset[str]
    phrases: tuple[str, ...]

    def count(self, present_words: set[str], text: str) -> int:
        """How many entries of the list occur: words among ``present_words``, phrases in text."""
        return len(self.words & present_words) + sum(1 for p in self.phrases if p in text)


_PHRASE_LISTS: dict[str, dict[str, _PhraseList]] = {}


def _phrase_lists(gaz: Gazetteer) -> dict[str, _PhraseList]:
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
        self.scores: dict[str, float] = defaultdict(float)
        for m in mentions:
            self.scores[m.country] += m.weight
        self.ranked = sorted(self.scores, key=lambda c: (-self.scores[c], c))
        self.total = sum(self.scores.values())
        self.title = {m.country for m in mentions if m.where == "title"}
        self.lead = {m.country for m in mentions if m.where == "lead"}
        self.head = self.title | self.lead
        token_lists = dict(sections)
        everything = Counter(itertools.chain.from_iterable(token_lists.values()))
        lowered: Counter[str] = Counter()
        for token, count in everything.items():
            lowered[token.lower()] += count
        head_counts = Counter(token_lists["title"] + token_lists["lead"])
        head_words = set(head_counts)
        all_words = set(everything)
        self.tokens = sum(everything.values())
        self.cue_words = sorted(c for c in gaz.cues if c in lowered)
        self.cues_head = sum(gaz.cues.get(t.lower(), 0.0) * n for t, n in head_counts.items())
        cues_all = sum(gaz.cues[c] * lowered[c] for c in self.cue_words)
        self.cues_body = max(0.0, cues_all - self.cues_head)
        lists = _phrase_lists(gaz)
        self.multilateral = lists["multilateral"].count(head_words, head_text)
        self.organisations_head = lists["organisations"].count(head_words, head_text)
        self.organisations_body = lists["organisations"].count(all_words, full_text)
        self.non_state_head = lists["non_state"].count(head_words, head_text)
        self.non_state_body = lists["non_state"].count(all_words, full_text)
        self.domain = sum(lowered[t] for t in gaz.domain_cues if t in lowered)
        self.state = sum(lowered[t] for t in gaz.state_cues if t in lowered)
        # the headline's and lead's words (not country names), for the model's word weights
        # (every token of a matched form is left out: "States" of "United States", "Strip" of
        # "Gaza Strip", a leader's given names)
        covered = {
            (m.where, k) for m in mentions if m.where in _HEAD for k in range(m.index, m.end_index)
        }
        self.words = frozenset(
            t.lower()
            for where in _HEAD
            for k, t in enumerate(token_lists[where])
            if t[:1].isalpha() and t not in gaz.first_tokens and (where, k) not in covered
        )
        # the headline's words once more, marked: a word weighs differently in the headline
        self.words |= frozenset(
            "t:" + t.lower()
            for k, t in enumerate(token_lists["title"])
            if t[:1].isalpha() and t not in gaz.first_tokens and ("title", k) not in covered
        )
        head_lowered: Counter[str] = Counter()
        for token, count in head_counts.items():
            head_lowered[token.lower()] += count
        self.signals_head = []
        self.signals_all = []
        for group in SIGNAL_GROUPS:
            words = gaz.signal_words.get(group, frozenset())
            self.signals_head.append(sum(head_lowered[w] for w in words if w in head_lowered))
            self.signals_all.append(sum(lowered[w] for w in words if w in lowered))
        token_map = token_lists
        self.state_nouns: Counter[str] = Counter()
        self.private_nouns: Counter[str] = Counter()
        self.non_state_nouns: Counter[str] = Counter()
        self.locative: Counter[str] = Counter()
        self.mention_count: Counter[str] = Counter()
        for m in mentions:
            tokens = token_map[m.where]
            nxt = tokens[m.end_index].lower() if m.end_index < len(tokens) else ""
            nxt2 = tokens[m.end_index + 1].lower() if m.end_index + 1 < len(tokens) else ""
            prev = tokens[m.index - 1].lower() if m.index > 0 else ""
            self.mention_count[m.country] += 1
            if m.kind == "leader" or nxt in STATE_NOUNS or nxt2 in STATE_NOUNS:
                self.state_nouns[m.country] += 1
            if nxt in PRIVATE_NOUNS:
                self.private_nouns[m.country] += 1
            if nxt in NON_STATE_NOUNS or nxt2 in NON_STATE_NOUNS:
                self.non_state_nouns[m.country] += 1
            if prev in LOCATIVES:
                self.locative[m.country] += 1
        self.title_opener = next(
            (m.country for m in mentions if m.where == "title" and m.index <= 1), None
        )
        self.article_features = (
            _log(self.tokens),
            float(self.tokens < 80),
            _log(len(self.ranked)),
            _log(self.cues_head),
            _log(self.cues_body),
            _log(self.multilateral),
            _log(self.organisations_head),
            _log(self.organisations_body),
            _log(self.non_state_head),
            _log(self.non_state_body),
            _log(self.domain),
            _log(self.state),
            *(_log(v) for v in self.signals_head),
            *(_log(v) for v in self.signals_all),
        )
        self.kinds: dict[str, Counter[str]] = defaultdict(Counter)
        self.title_names: dict[str, int] = Counter()
        self.leaders_title: set[str] = set()
        self.leaders_past: set[str] = set()
        for m in mentions:
            self.kinds[m.country][m.kind] += 1
            if m.where == "title" and m.kind in ("name", "adjective"):
                self.title_names[m.country] += 1
            if m.kind == "leader":
                if m.where == "title":
                    self.leaders_title.add(m.country)
                if not m.in_office:
                    self.leaders_past.add(m.country)


def candidate_pairs(signals: ArticleSignals) -> list[tuple[str, str]]:
    """(first, second) pairs worth scoring: among the top countries and the headline's."""
    pool = list(signals.ranked[:MAX_RANKED])
    pool += [c for c in signals.ranked[MAX_RANKED:] if c in signals.title]
    return [(a, b) for i, a in enumerate(pool) for b in pool[i + 1 :]]


def _log(value: float) -> float:
    return math.log1p(max(0.0, value))


def pair_features(
    signals: ArticleSignals,
    patterns: _Patterns,
    a: str,
    b: str,
    directional: bool,
) -> tuple[float, ...]:
    """The feature vector of the pair (a, b) in ``FEATURES`` order."""
    s = signals
    sa, sb = s.scores[a], s.scores[b]
    others = [s.scores[c] for c in s.ranked if c not in (a, b)]
    third = max(others, default=0.0)
    pair = (a, b)
    in_title = sum(1 for c in pair if c in s.title)
    in_head = sum(1 for c in pair if c in s.head)
    kinds = (s.kinds[a], s.kinds[b])
    il_ps = {a, b} == {"IL", "PS"}  # the labelling rules' one named pair: Israeli operations
    values = (
        sa / s.total,
        sb / s.total,
        (sa + sb) / s.total,
        sb / sa,
        _log(sa),
        _log(sb),
        float(min(s.ranked.index(b), 6)),
        float(s.ranked.index(a) + s.ranked.index(b) == 1),
        float(sum(1 for w in others if w >= 0.6 * sb)),
        min(2.0, third / sb),
        float(in_title == 2),
        float(in_title == 1),
        float(min(3, len(s.title - set(pair)))),
        float(in_title == 2 and len(s.title) == 2),
        float(in_head == 2),
        float(in_head == 1),
        float(a in s.lead and b in s.lead),
        _log(patterns.separator),
        _log(patterns.conjunction),
        _log(patterns.between),
        _log(patterns.verb),
        _log(patterns.counterpart),
        _log(patterns.title),
        float(directional),
        float(sum(1 for k in kinds if k["leader"])),
        float(sum(1 for c in pair if c in s.leaders_title)),
        float(sum(1 for c in pair if c in s.leaders_past)),
        float(sum(1 for k in kinds if k["capital"] or k["metonym"])),
        float(sum(1 for k in kinds if k["adjective"] and not (k["name"] or k["leader"]))),
        float(sum(1 for c in pair if s.title_names[c])),
        _log(s.state_nouns[a]),
        _log(s.state_nouns[b]),
        _log(s.private_nouns[a] + s.private_nouns[b]),
        _log(s.non_state_nouns[a] + s.non_state_nouns[b]),
        s.locative[a] / s.mention_count[a],
        s.locative[b] / s.mention_count[b],
        float(s.title_opener in pair),
        float(il_ps),
        float(il_ps) * _log(s.signals_all[SIGNAL_GROUPS.index("military")]),
        # non-state groups outside the one pair where armed groups stand for a party (IL-PS)
        float(not il_ps) * _log(s.non_state_head),
        float(not il_ps) * _log(s.non_state_body),
        # Israeli or Palestinian internal politics (Knesset votes, cabinet rows) that name the other
        float(il_ps) * _log(s.signals_all[_DOMESTIC] + s.signals_all[_ELECTION]),
    )
    return values + s.article_features


def article_candidates(
    mentions: list[Mention],
    sections: Sections,
    head_text: str,
    full_text: str,
    gaz: Gazetteer,
) -> tuple[ArticleSignals, list[Candidate]]:
    """The article's signals and every candidate pair with its features."""
    signals = ArticleSignals(mentions, sections, head_text, full_text, gaz)
    if len(signals.ranked) < 2:
        return signals, []
    patterns = pair_patterns(mentions, sections, gaz)
    out = []
    for a, b in candidate_pairs(signals):
        found = _directional_title(mentions, sections, a, b, gaz)
        features = pair_features(signals, patterns[_pair_key(a, b)], a, b, found is not None)
        out.append(Candidate(a, b, features, found))
    return signals, out


@dataclass(frozen=True)
class ReadArticle:
    """An article read once: its mentions, token sections, signals and candidate pairs."""

    mentions: list[Mention]
    sections: Sections
    signals: ArticleSignals
    candidates: list[Candidate]


def read_article(title: str, text: str, published: datetime | None, gaz: Gazetteer) -> ReadArticle:
    """Everything detection and training need from one article, each step done once."""
    parts = split_sections(title, text)
    mentions, sections = find_mentions_in(parts, f"{title}\n{text}", published, gaz)
    head_text = f"{title} {parts[1][1]}"
    signals, candidates = article_candidates(mentions, sections, head_text, f"{title}\n{text}", gaz)
    return ReadArticle(mentions, sections, signals, candidates)
