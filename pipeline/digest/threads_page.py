"""The archive's thread pages: one living page per story thread (``thread-<id>.html``).

A thread is the stories of one pair linked by ``DigestStory.thread`` (the id is its first
story's, which itself has no link). Its page shows the latest story first, with a short running
summary on top (the latest story's summary and one line per earlier story: its day and
headline), and marks what the thread's newest digest added against its earlier digests: a story
that first appeared there, and on a story seen before, the key points that are new.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from pipeline.digest.model import Digest, DigestStory
from pipeline.digest.parts import thread_href


@dataclass
class ThreadPage:
    """One thread across the archive: each story once (its newest digest's version), the
    digests it appears in (newest first) and each digest's key points per story."""

    thread_id: str
    dyad: str
    names: tuple[str, str]
    stories: dict[str, DigestStory] = field(default_factory=dict)
    days: dict[str, date] = field(default_factory=dict)
    digests: list[Digest] = field(default_factory=list)
    points: dict[str, dict[str, set[str]]] = field(default_factory=dict)

    @property
    def href(self) -> str:
        return thread_href(self.thread_id)

    def add(self, digest: Digest, story: DigestStory) -> None:
        """Record ``story`` as ``digest`` shows it (digests are added oldest first)."""
        if not self.digests or self.digests[0].id != digest.id:
            self.digests.insert(0, digest)
        self.stories[story.story_id] = story
        self.days[story.story_id] = story.last_seen.astimezone(ZoneInfo(digest.timezone)).date()
        shown = self.points.setdefault(digest.id, {})
        shown[story.story_id] = {p.text for p in story.key_points}

    def ordered(self) -> list[DigestStory]:
        """The stories, latest first."""
        return sorted(self.stories.values(), key=lambda s: (s.last_seen, s.story_id), reverse=True)

    def _earlier(self) -> dict[str, set[str]]:
        """Story id -> every key point its earlier digests (all but the newest) showed."""
        seen: dict[str, set[str]] = {}
        for digest in self.digests[1:]:
            for story_id, texts in self.points.get(digest.id, {}).items():
                seen.setdefault(story_id, set()).update(texts)
        return seen

    def fresh_stories(self) -> set[str]:
        """The stories the newest digest added to the thread (none when it has one digest)."""
        if len(self.digests) < 2:
            return set()
        earlier = self._earlier()
        return {s for s in self.points.get(self.digests[0].id, {}) if s not in earlier}

    def fresh_points(self) -> dict[str, set[str]]:
        """On stories seen before, the key points the newest digest added."""
        earlier = self._earlier()
        newest = self.points.get(self.digests[0].id, {}) if len(self.digests) > 1 else {}
        return {s: texts - earlier[s] for s, texts in newest.items() if s in earlier}


def collect_threads(digests: list[Digest]) -> list[ThreadPage]:
    """Every thread in ``digests``, newest thread first."""
    starts = {s.thread.thread_id for d in digests for dy in d.dyads for s in dy.stories if s.thread}
    pages: dict[str, ThreadPage] = {}
    for digest in sorted(digests, key=lambda d: d.date):
        for dyad in digest.dyads:
            for story in dyad.stories:
                thread_id = story.thread.thread_id if story.thread else story.story_id
                if thread_id not in starts:
                    continue
                page = pages.setdefault(thread_id, ThreadPage(thread_id, dyad.dyad, dyad.names))
                page.add(digest, story)
    return sorted(pages.values(), key=lambda p: p.ordered()[0].last_seen, reverse=True)


def story_threads(pages: list[ThreadPage]) -> dict[str, str]:
    """Story id -> its thread page, for every story of every thread."""
    return {story_id: page.href for page in pages for story_id in page.stories}
