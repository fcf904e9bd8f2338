"""Stories: the bilateral articles about one development, from however many outlets.

Two articles belong to the same story when they are about the same pair of countries, were
first seen within ``cluster.window_hours`` of each other, and share enough of their content
words (Jaccard similarity of the sets of content words, estimated with MinHash). Headlines of
the same event from different outlets often share few words, so the whole text is compared.
Linking is single-link (a chain of similar articles is one story).

MinHash and the LSH index come from datasketch (maintained, pure Python + numpy): the index
finds candidate pairs without comparing every article with every other, which matters when a
busy pair (US-CN) has hundreds of articles in a window; the estimate is then checked against
the threshold. Permutations use a fixed seed, so the same articles always give the same
stories, and a story's id is derived from its pair and its earliest article, so re-running on
the same data keeps every id. An article whose text changes is re-clustered with its new text.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from datasketch import MinHash, MinHashLSH

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


def content_words(text: str) -> set[str]:
    """Lower-cased content words (3+ letters, no stopwords) and numbers of ``text``."""
    return {w for w in (m.lower() for m in _WORD.findall(text)) if w not in STOPWORDS}


def _minhash(words: Iterable[str], num_perm: int) -> MinHash:
    signature = MinHash(num_perm=num_perm, seed=7)
    signature.update_batch([w.encode("utf-8") for w in sorted(words)])
    return signature


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


def _root(parent: list[int], i: int) -> int:
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


def cluster_stories(
    articles: Sequence[ClusterInput], *, window: timedelta, similarity: float, num_perm: int = 128
) -> list[Story]:
    """Group bilateral articles into stories. Pure and deterministic (order of input ignored).

    Stories are returned newest first; members of a story share the pair, lie within ``window``
    of a linked member, and have an estimated content-word Jaccard of at least ``similarity``.
    """
    by_dyad: dict[str, list[ClusterInput]] = defaultdict(list)
    for item in articles:
        by_dyad[item.dyad].append(item)
    stories: list[Story] = []
    for dyad, items in sorted(by_dyad.items()):
        items.sort(key=lambda a: (a.seen_at, a.article_id))
        signatures = [_minhash(content_words(a.text), num_perm) for a in items]
        lsh = MinHashLSH(threshold=max(similarity, 0.01), num_perm=num_perm)
        for index, signature in enumerate(signatures):
            lsh.insert(str(index), signature)
        parent = list(range(len(items)))

        for i, signature in enumerate(signatures):
            for key in lsh.query(signature):
                j = int(key)
                if j <= i or abs(items[j].seen_at - items[i].seen_at) > window:
                    continue
                if signature.jaccard(signatures[j]) >= similarity:
                    parent[_root(parent, j)] = _root(parent, i)
        groups: dict[int, list[ClusterInput]] = defaultdict(list)
        for index, item in enumerate(items):
            groups[_root(parent, index)].append(item)
        for members in groups.values():
            members.sort(key=lambda a: (a.seen_at, a.article_id))
            first = members[0]
            actors = {(m.actor, m.target) for m in members if m.actor and m.target}
            actor, target = next(iter(actors)) if len(actors) == 1 else (None, None)
            stories.append(
                Story(
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
            )
    stories.sort(key=lambda s: (s.last_seen, s.id), reverse=True)
    return stories
