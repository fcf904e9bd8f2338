"""Stories: the bilateral articles about one development, from however many outlets.

Articles are taken pair by pair in the order they were first seen (ties by id). Each article
joins the most similar story of its pair that already has a member within
``cluster.window_hours`` before it, when

- its similarity to that story, the mean exact Jaccard similarity of content-word sets between
  the article and each of the story's members inside the window (average link), is at least
  ``cluster.similarity``, and
- the story holds fewer than ``cluster.max_story_articles`` articles;

otherwise it starts a new story. Average link, not single link: a chain A~B~C where A and C
share nothing is not one story unless C is close enough to A and B together, and a busy pair's
weakly related articles do not fuse into one giant story. A burst of near-identical articles
fills stories of at most ``max_story_articles``, one after the other.

Which stories an article is compared with (the candidates): when at most
``cluster.exact_neighbours`` earlier articles of its pair lie in the window, all of them; beyond
that, only those a MinHash LSH index over the window returns (datasketch: maintained, numpy
based). The index uses ``num_perm / lsh_rows`` bands of ``lsh_rows`` rows, chosen explicitly:
with the defaults (300 bands of 3 rows) a pair of articles at Jaccard ``s`` is a candidate with
probability ``1 - (1 - s**3)**300``: 0.001 at 0.015 (typical of unrelated news), 0.04 at 0.05,
0.26 at 0.1, 0.64 at 0.15, 0.91 at 0.2, 0.99 at 0.25. Unrelated articles of a busy pair rarely
meet, so the candidates grow with the similar articles rather than with the square of the
pair's articles, and a story of several outlets is found through any of its members. Each
candidate is then checked exactly on the content-word sets; the MinHash estimate never decides.
Articles leave the index when they leave the window.

Permutations use a fixed seed, so the same articles always give the same stories, and a
story's id is derived from its pair and its earliest article, so re-running on the same data
keeps every id. An article whose text changes is re-clustered with its new text.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from datasketch import MinHash, MinHashLSH

from pipeline.errors import ConfigError
from pipeline.records import Story

_WORD = re.compile(r"[^\W\d_]{3,}|\d[\d.,]*")
STOPWORDS = frozenset(
    """
    about above after again against also among and another any are around because been
    before being between both but can could did does down during each either even ever every
    few for from further had has have having her here hers him his how however into its
    itself just last later least less made make many may might more most much must near
    neither new next nor not now off once one only onto other others our out over own per
    said same says she should since some still such than that the their them then there
    these they this those though three through thus too two under until upon very was were
    what when where which while who whom whose why will with within without would year years
    yet you your
    """.split()
)


@dataclass(frozen=True)
class ClusterInput:
    """What clustering needs to know about one bilateral article."""

    article_id: int
    dyad: str
    seen_at: datetime
    text: str
    outlet: str
    canonical_url: str
    actor: str | None = None
    target: str | None = None


@dataclass(frozen=True)
class ClusterRule:
    """How articles are grouped (the ``cluster.*`` settings, see the module docstring)."""

    window: timedelta
    similarity: float
    num_perm: int = 900
    lsh_rows: int = 3
    exact_neighbours: int = 20
    max_story_articles: int = 50

    def __post_init__(self) -> None:
        if self.lsh_rows < 1 or self.num_perm % self.lsh_rows:
            raise ConfigError("cluster.num_perm must be a multiple of cluster.lsh_rows")
        if self.max_story_articles < 1 or self.exact_neighbours < 0:
            raise ConfigError("cluster.max_story_articles must be >= 1, exact_neighbours >= 0")

    @property
    def bands(self) -> int:
        """Number of LSH bands (``num_perm / lsh_rows``)."""
        return self.num_perm // self.lsh_rows


def candidate_probability(similarity: float, bands: int, rows: int) -> float:
    """Probability that LSH with ``bands`` bands of ``rows`` rows returns a pair at Jaccard
    ``similarity`` (the S-curve ``1 - (1 - s**rows)**bands``)."""
    return float(1.0 - (1.0 - similarity**rows) ** bands)


@dataclass
class ClusterStats:
    """What clustering cost: article pairs offered as candidates and exact comparisons made."""

    articles: int = 0
    candidates: int = 0
    comparisons: int = 0
    lsh_articles: int = 0
    largest: int = 0
    stories: int = 0


def content_words(text: str) -> set[str]:
    """Lower-cased content words (3+ letters, no stopwords) and numbers of ``text``."""
    return {w for w in (m.lower() for m in _WORD.findall(text)) if w not in STOPWORDS}


def jaccard(a: set[str], b: set[str]) -> float:
    """Exact Jaccard similarity of two sets (0.0 when both are empty)."""
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared) if shared else 0.0


def _minhashes(word_sets: Iterable[set[str]], num_perm: int) -> list[MinHash]:
    """MinHash signatures (fixed seed), the permutations drawn once and shared."""
    template = MinHash(num_perm=num_perm, seed=7)
    signatures = []
    for words in word_sets:
        signature = MinHash(
            num_perm=num_perm, seed=7, permutations=template.permutations, scheme=template.scheme
        )
        signature.update_batch([w.encode("utf-8") for w in sorted(words)])
        signatures.append(signature)
    return signatures


def story_id(dyad: str, first: ClusterInput) -> str:
    """A stable id: the pair and the canonical URL of the story's earliest article."""
    digest = hashlib.sha256(f"{dyad}|{first.canonical_url}".encode()).hexdigest()[:16]
    return f"{dyad}-{digest}"


def _content_hash(members: Sequence[ClusterInput]) -> str:
    digest = hashlib.sha256()
    for item in sorted(members, key=lambda m: m.article_id):
        digest.update(str(item.article_id).encode())
        digest.update(hashlib.sha256(item.text.encode("utf-8")).digest())
    return digest.hexdigest()[:32]


@dataclass
class _Pair:
    """The stories of one pair being built, article by article in time order."""

    items: list[ClusterInput]
    rule: ClusterRule
    stats: ClusterStats
    words: list[set[str]] = field(default_factory=list)
    story_of: list[int] = field(default_factory=list)
    stories: list[list[int]] = field(default_factory=list)
    start: int = 0

    def run(self) -> list[list[int]]:
        """Assign every article; returns the stories as lists of article indexes."""
        self.words = [content_words(item.text) for item in self.items]
        lsh = self._index()
        for i in range(len(self.items)):
            self._advance(i, lsh)
            self._assign(i, self._neighbours(i, lsh))
        return self.stories

    def _index(self) -> tuple[MinHashLSH, list[MinHash]] | None:
        # A pair whose articles all fit in the exact regime never needs signatures.
        if len(self.items) <= self.rule.exact_neighbours + 1:
            return None
        rule = self.rule
        self.stats.lsh_articles += len(self.items)
        index = MinHashLSH(num_perm=rule.num_perm, params=(rule.bands, rule.lsh_rows))
        return index, _minhashes(self.words, rule.num_perm)

    def _advance(self, i: int, lsh: tuple[MinHashLSH, list[MinHash]] | None) -> None:
        oldest = self.items[i].seen_at - self.rule.window
        while self.start < i and self.items[self.start].seen_at < oldest:
            if lsh is not None:
                lsh[0].remove(str(self.start))
            self.start += 1

    def _neighbours(self, i: int, lsh: tuple[MinHashLSH, list[MinHash]] | None) -> list[int]:
        if i - self.start <= self.rule.exact_neighbours or lsh is None:
            found = list(range(self.start, i))
        else:
            found = [int(key) for key in lsh[0].query(lsh[1][i])]
        if lsh is not None:
            lsh[0].insert(str(i), lsh[1][i])
        self.stats.candidates += len(found)
        return found

    def _assign(self, i: int, neighbours: list[int]) -> None:
        best, best_score = -1, self.rule.similarity
        for s in sorted({self.story_of[j] for j in neighbours}):
            members = self.stories[s]
            if len(members) >= self.rule.max_story_articles:
                continue
            score = self._average(i, [m for m in members if m >= self.start])
            if score > best_score or (best < 0 and score >= best_score):
                best, best_score = s, score
        if best < 0:
            best = len(self.stories)
            self.stories.append([])
        self.stories[best].append(i)
        self.story_of.append(best)

    def _average(self, i: int, members: list[int]) -> float:
        self.stats.comparisons += len(members)
        mine = self.words[i]
        return sum(jaccard(mine, self.words[m]) for m in members) / len(members)


def _story(dyad: str, members: list[ClusterInput]) -> Story:
    first = members[0]
    actors = {(m.actor, m.target) for m in members if m.actor and m.target}
    actor, target = next(iter(actors)) if len(actors) == 1 else (None, None)
    return Story(
        id=story_id(dyad, first),
        dyad=dyad,
        article_ids=tuple(m.article_id for m in members),
        outlets=tuple(sorted({m.outlet for m in members})),
        first_seen=first.seen_at,
        last_seen=members[-1].seen_at,
        content_hash=_content_hash(members),
        actor=actor,
        target=target,
    )


def cluster_with_stats(
    articles: Sequence[ClusterInput], rule: ClusterRule
) -> tuple[list[Story], ClusterStats]:
    """Group bilateral articles into stories by ``rule`` and say what it cost. Pure and
    deterministic (input order ignored); stories newest first, members oldest first."""
    by_dyad: dict[str, list[ClusterInput]] = defaultdict(list)
    for item in articles:
        by_dyad[item.dyad].append(item)
    stats = ClusterStats(articles=len(articles))
    stories: list[Story] = []
    for dyad, items in sorted(by_dyad.items()):
        items.sort(key=lambda a: (a.seen_at, a.article_id))
        for indexes in _Pair(items, rule, stats).run():
            stories.append(_story(dyad, [items[i] for i in indexes]))
    stories.sort(key=lambda s: (s.last_seen, s.id), reverse=True)
    stats.stories = len(stories)
    stats.largest = max((len(s.article_ids) for s in stories), default=0)
    return stories, stats


def cluster_stories(
    articles: Sequence[ClusterInput],
    *,
    window: timedelta,
    similarity: float,
    num_perm: int = 900,
    lsh_rows: int = 3,
    exact_neighbours: int = 20,
    max_story_articles: int = 50,
) -> list[Story]:
    """Group bilateral articles into stories (see the module docstring for the rule).

    Stories are returned newest first; members of a story share the pair, and each joined the
    story within ``window`` of one of its members with an average content-word Jaccard of at
    least ``similarity`` to the story's members in that window.
    """
    rule = ClusterRule(
        window=window,
        similarity=similarity,
        num_perm=num_perm,
        lsh_rows=lsh_rows,
        exact_neighbours=exact_neighbours,
        max_story_articles=max_story_articles,
    )
    return cluster_with_stats(articles, rule)[0]
