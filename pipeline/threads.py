"""Story threads: which earlier story of the same pair a story continues.

A story continues an earlier story when

- both are stories of the same pair (never across pairs),
- the earlier story's last article came before the story's first article (strictly: a story
  never continues a later or an overlapping one), at most ``threads.days`` before it, and
- their content similarity is at least ``threads.similarity``: the mean exact content-word
  Jaccard (``pipeline.cluster.content_words``, the pair's names kept) over every pair of one
  article from each story: average link, the measure clustering uses, so a ten-article story
  and a one-article follow-up compare as articles do, not as one huge word set against a small
  one.

Of the earlier stories that qualify, the one last reported most recently is continued (the
thread's last story, which the new summary says what is new against); on a tie, the more
similar, then the smaller id. The thread's id is the id of its first story: a story that
continues another takes that story's thread id; any other story starts its own thread (its
thread id is its own id).

Why this measure and 0.10 (``scripts/thread_similarity.py`` prints the figures): on the labelled
real news (``tests/data/real_news.jsonl``), pairs of items of the same pair were marked by hand
from their headlines, 46 following one topic and 56 on different topics. Jaccard with the pair's
names kept told them apart with AUC 0.939 (0.908 without the names); at 0.10, 29 of the 46 same-
topic pairs and 3 of the 56 others qualify (0.08: 36 and 5; 0.12: 23 and 1). A wrong link is
worse than a missed one (the summary would then leave out what it takes as said before), so the
threshold sits above the clustering one (0.08). Those are one-paragraph agency items; on full
articles, the follow-ups drafted for the offline sample scored 0.13 to 0.19 against the stories
they continue, and another topic of the same pair (US-Mexico water after the security pact) 0.06
and 0.07.

Pure and deterministic: the store and the jobs bring the stories and keep the links.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pipeline.summary_record import ThreadLink


@dataclass(frozen=True)
class ThreadRule:
    """When a story continues an earlier one (the ``threads.*`` settings)."""

    days: float = 14.0
    similarity: float = 0.10

    @property
    def reach(self) -> timedelta:
        """How far back before a story's first article an earlier story may end."""
        return timedelta(days=self.days)


@dataclass(frozen=True)
class ThreadStory:
    """What linking needs to know about one story: its pair, its time span, each article's
    content words (``pipeline.cluster.content_words`` of its title and text), its headline and,
    when known, the thread it is in and the story it continues."""

    id: str
    dyad: str
    first_seen: datetime
    last_seen: datetime
    words: tuple[frozenset[str], ...]
    headline: str = ""
    thread_id: str | None = None
    continues: str | None = field(default=None, compare=False)


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    shared = len(a & b)
    return shared / (len(a) + len(b) - shared) if shared else 0.0


def story_similarity(a: ThreadStory, b: ThreadStory) -> float:
    """Mean content-word Jaccard over every pair of one article from each story (0.0 when
    either has no articles)."""
    if not a.words or not b.words:
        return 0.0
    total = sum(_jaccard(x, y) for x in a.words for y in b.words)
    return total / (len(a.words) * len(b.words))


def may_continue(story: ThreadStory, earlier: ThreadStory, rule: ThreadRule) -> bool:
    """True when ``earlier`` is of the same pair and ended before ``story`` began, within
    ``rule.days`` (similarity aside)."""
    return (
        earlier.id != story.id
        and earlier.dyad == story.dyad
        and story.first_seen - rule.reach <= earlier.last_seen < story.first_seen
    )


def choose_previous(
    story: ThreadStory, earlier: Iterable[ThreadStory], rule: ThreadRule
) -> ThreadLink | None:
    """The link to the earlier story ``story`` continues (see the module docstring), or None
    when it starts a thread."""
    best: tuple[datetime, float, str] | None = None
    chosen: ThreadStory | None = None
    for other in earlier:
        if not may_continue(story, other, rule):
            continue
        score = story_similarity(story, other)
        if score < rule.similarity:
            continue
        key = (other.last_seen, score, _negated(other.id))
        if best is None or key > best:
            best, chosen = key, other
    if chosen is None or best is None:
        return None
    return link_to(chosen, best[1])


def link_to(previous: ThreadStory, similarity: float) -> ThreadLink:
    """The link to ``previous``, in its thread (its own id when it starts one)."""
    return ThreadLink(
        thread_id=previous.thread_id or previous.id,
        previous_story_id=previous.id,
        previous_headline=previous.headline,
        previous_last_seen=previous.last_seen,
        similarity=round(min(1.0, similarity), 4),
    )


def _negated(text: str) -> str:
    """A key that sorts the smaller id higher (ties go to the smaller id)."""
    return "".join(chr(0x10FFFF - ord(c)) for c in text)


def link_stories(
    stories: Sequence[ThreadStory], stored: Sequence[ThreadStory], rule: ThreadRule
) -> dict[str, ThreadLink | None]:
    """The link of each of ``stories`` (None: it starts a thread), taken oldest first so that
    one may continue another of the same batch; ``stored`` are earlier stories known from
    before (a story in both is taken from ``stories``). A story that already ``continues``
    one keeps that link: it is not recomputed (its thread id follows its predecessor's)."""
    known = {s.id: s for s in stored}
    known.update({s.id: s for s in stories})
    links: dict[str, ThreadLink | None] = {}
    for story in sorted(stories, key=lambda s: (s.first_seen, s.id)):
        if story.continues and story.continues in known:
            previous = known[story.continues]
            link: ThreadLink | None = link_to(previous, story_similarity(story, previous))
        else:
            link = choose_previous(story, known.values(), rule)
        links[story.id] = link
        known[story.id] = _in_thread(story, link)
    return links


def _in_thread(story: ThreadStory, link: ThreadLink | None) -> ThreadStory:
    """The story with the thread id its link gives it (its own id when it starts one)."""
    return ThreadStory(
        story.id,
        story.dyad,
        story.first_seen,
        story.last_seen,
        story.words,
        story.headline,
        link.thread_id if link else story.id,
        link.previous_story_id if link else None,
    )
