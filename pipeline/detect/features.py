"""What the decision weighs: one feature vector per candidate pair of an article.

Pure functions of the mentions (``mentions.find_mentions``) and the article's tokens. An
article's candidates are the pairs among its most-weighted countries and every country of the
headline; each candidate gets the same named features (``FEATURES``), which the learned model
(``model.py``, weights in ``pipeline/data/detect_model.json``) turns into a probability. Nothing
here is tuned by hand: the weights are learned from the labelled real-news set. What does not
depend on the pair is read once per article (``signals.py``).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from pipeline.detect.gazetteer import Gazetteer
from pipeline.detect.mentions import Mention, Sections, find_mentions_in, split_sections
from pipeline.detect.signals import ARTICLE_FEATURES, SIGNAL_GROUPS, ArticleSignals, log_scale

PAIR_SEPARATORS = frozenset({"-", "–", "—", "/", "‑"})
# The gaps between two mentions that join them ("India and Russia", "India, Russia").
CONJUNCTIONS = (["and"], ["and", "the"], [","], ["&"])
MAX_RANKED = 4  # countries by weight that may form a candidate pair (plus all headline countries)
_DOMESTIC = SIGNAL_GROUPS.index("domestic")
_ELECTION = SIGNAL_GROUPS.index("election")
_MILITARY = SIGNAL_GROUPS.index("military")

# Features of the pair (computed per candidate), followed by those of the article
# (``signals.ARTICLE_FEATURES``, computed once, the same for every candidate).
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


def _count_pattern(
    patterns: _Patterns, gap: list[str], lowered: list[str], start: int, gaz: Gazetteer
) -> bool:
    """Count in ``patterns`` the pattern ``gap`` (lowercased tokens between two mentions, the
    first starting at ``lowered[start]``, the section's tokens lowercased) makes; False when it
    makes none."""
    if len(gap) == 1 and gap[0] in PAIR_SEPARATORS:
        patterns.separator += 1
    elif gap in CONJUNCTIONS:
        if "between" in lowered[max(0, start - 4) : start]:
            patterns.between += 1
        else:
            patterns.conjunction += 1
    elif _verb_between(gap, gaz):
        patterns.verb += 1
    elif "counterpart" in gap or "counterparts" in gap:
        patterns.counterpart += 1
    else:
        return False
    return True


def _mentions_by_section(mentions: list[Mention]) -> dict[str, list[Mention]]:
    """The mentions of each section, in the order found."""
    by_where: dict[str, list[Mention]] = defaultdict(list)
    for m in mentions:
        by_where[m.where].append(m)
    return by_where


def pair_patterns(
    mentions: list[Mention], lowered: dict[str, list[str]], gaz: Gazetteer
) -> dict[tuple[str, str], _Patterns]:
    """Explicit pair patterns between neighbouring mentions of two countries: "India-Russia",
    "India and Russia", "between X and Y", "X accuses Y", "X's counterpart in Y" (``lowered``:
    each section's tokens lowercased, ``signals.lowercased``)."""
    found: dict[tuple[str, str], _Patterns] = defaultdict(_Patterns)
    for where, ms in _mentions_by_section(mentions).items():
        tokens = lowered[where]
        for a, b in itertools.pairwise(ms):
            if a.country == b.country:
                continue
            p = found[_pair_key(a.country, b.country)]
            gap = tokens[a.end_index : b.index]
            if _count_pattern(p, gap, tokens, a.index, gaz) and where == "title":
                p.title += 1
    return found


def _directional_title(
    mentions: list[Mention], title_lowered: list[str], a: str, b: str, gaz: Gazetteer
) -> tuple[str, str] | None:
    """(actor, target) when the headline (``title_lowered``: its tokens lowercased) reads
    "A <action verb> ... B"."""
    tokens = title_lowered
    ms = sorted(
        (m for m in mentions if m.where == "title" and m.country in (a, b)), key=lambda m: m.index
    )
    if len(ms) < 2 or ms[0].country == ms[-1].country:
        return None
    first = ms[0]
    second = next(m for m in ms if m.country != first.country)
    if any(t in gaz.action_verbs for t in tokens[first.end_index : second.index]):
        return first.country, second.country
    return None


def candidate_pairs(signals: ArticleSignals) -> list[tuple[str, str]]:
    """(first, second) pairs worth scoring: among the top countries and the headline's."""
    pool = list(signals.ranked[:MAX_RANKED])
    pool += [c for c in signals.ranked[MAX_RANKED:] if c in signals.title]
    return [(a, b) for i, a in enumerate(pool) for b in pool[i + 1 :]]


def _weight_features(s: ArticleSignals, a: str, b: str) -> tuple[float, ...]:
    """The pair's weights: shares, balance, ranks and how strong the third country is."""
    sa, sb = s.scores[a], s.scores[b]
    others = [s.scores[c] for c in s.ranked if c not in (a, b)]
    third = max(others, default=0.0)
    return (
        sa / s.total,
        sb / s.total,
        (sa + sb) / s.total,
        sb / sa,
        log_scale(sa),
        log_scale(sb),
        float(min(s.ranked.index(b), 6)),
        float(s.ranked.index(a) + s.ranked.index(b) == 1),
        float(sum(1 for w in others if w >= 0.6 * sb)),
        min(2.0, third / sb),
    )


def _head_features(s: ArticleSignals, a: str, b: str) -> tuple[float, ...]:
    """Whether the pair appears in the headline and the lead, and with how many others."""
    pair = (a, b)
    in_title = sum(1 for c in pair if c in s.title)
    in_head = sum(1 for c in pair if c in s.head)
    return (
        float(in_title == 2),
        float(in_title == 1),
        float(min(3, len(s.title - set(pair)))),
        float(in_title == 2 and len(s.title) == 2),
        float(in_head == 2),
        float(in_head == 1),
        float(a in s.lead and b in s.lead),
    )


def _pattern_features(patterns: _Patterns, directional: bool) -> tuple[float, ...]:
    """The pair's explicit patterns and whether the headline says who acted."""
    return (
        log_scale(patterns.separator),
        log_scale(patterns.conjunction),
        log_scale(patterns.between),
        log_scale(patterns.verb),
        log_scale(patterns.counterpart),
        log_scale(patterns.title),
        float(directional),
    )


def _kind_features(s: ArticleSignals, a: str, b: str) -> tuple[float, ...]:
    """How the pair is named: leaders (headline, past), metonyms, adjectives, headline names."""
    pair = (a, b)
    kinds = (s.kinds[a], s.kinds[b])
    return (
        float(sum(1 for k in kinds if k["leader"])),
        float(sum(1 for c in pair if c in s.leaders_title)),
        float(sum(1 for c in pair if c in s.leaders_past)),
        float(sum(1 for k in kinds if k["capital"] or k["metonym"])),
        float(sum(1 for k in kinds if k["adjective"] and not (k["name"] or k["leader"]))),
        float(sum(1 for c in pair if s.title_names[c])),
    )


def _neighbour_features(s: ArticleSignals, a: str, b: str) -> tuple[float, ...]:
    """The words around the pair's mentions (state, private, non-state, locative) and whether
    the headline opens with one of the two."""
    return (
        log_scale(s.state_nouns[a]),
        log_scale(s.state_nouns[b]),
        log_scale(s.private_nouns[a] + s.private_nouns[b]),
        log_scale(s.non_state_nouns[a] + s.non_state_nouns[b]),
        s.locative[a] / s.mention_count[a],
        s.locative[b] / s.mention_count[b],
        float(s.title_opener in (a, b)),
    )


def _rule_features(s: ArticleSignals, a: str, b: str) -> tuple[float, ...]:
    """The labelling rules' one named pair (Israeli operations: IL-PS) and non-state groups
    outside it."""
    il_ps = {a, b} == {"IL", "PS"}
    return (
        float(il_ps),
        float(il_ps) * log_scale(s.signals_all[_MILITARY]),
        # non-state groups outside the one pair where armed groups stand for a party (IL-PS)
        float(not il_ps) * log_scale(s.non_state_head),
        float(not il_ps) * log_scale(s.non_state_body),
        # Israeli or Palestinian internal politics (Knesset votes, cabinet rows) that name the other
        float(il_ps) * log_scale(s.signals_all[_DOMESTIC] + s.signals_all[_ELECTION]),
    )


def pair_features(
    signals: ArticleSignals,
    patterns: _Patterns,
    a: str,
    b: str,
    directional: bool,
) -> tuple[float, ...]:
    """The feature vector of the pair (a, b) in ``FEATURES`` order."""
    return (
        _weight_features(signals, a, b)
        + _head_features(signals, a, b)
        + _pattern_features(patterns, directional)
        + _kind_features(signals, a, b)
        + _neighbour_features(signals, a, b)
        + _rule_features(signals, a, b)
        + signals.article_features
    )


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
    patterns = pair_patterns(mentions, signals.lowered, gaz)
    out = []
    for a, b in candidate_pairs(signals):
        found = _directional_title(mentions, signals.lowered["title"], a, b, gaz)
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
