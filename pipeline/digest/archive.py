"""The static archive: an index by date and by pair, a page per digest and per pair, search.

Styled like the email: the digest pages are the email's template whole (every story), with a
way back to the archive and from each pair to its page; the index and the pair pages use the
email's class names and colours from ``archive.css``, written next to them. A pair page shows
the pair's cooperation-conflict line over time as inline SVG (``chart``; no script) and all its
stories with both sides, key points with their outlets and sources, and lists the digests it
appears in; each story of a thread links to its thread page (``threads_page``). Pairs are sorted by
their countries' names, written in alphabetical order ("Ireland – United Kingdom").

Search runs in the browser over every story's headline and summary, from ``search-index.js``:
a JSON index assigned to one global, loaded by a ``<script>`` element, so it works from
``file://`` (a ``fetch`` of a ``.json`` file does not) and needs no server. Pagefind was tried
and not chosen: it indexes whole pages, needs a 10 MB binary at build time and its UI fetches
WebAssembly and index chunks, which a browser refuses from ``file://``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from importlib.resources import files
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment

from pipeline.digest.chart import Chart, long_day, score_chart
from pipeline.digest.mail import LEVELS, lead_context, sections
from pipeline.digest.model import Digest, DigestStory
from pipeline.digest.threads_page import collect_threads, story_threads

STATIC = ("archive.css", "search.js")
SEARCH_INDEX = "search-index.js"
SEARCH_GLOBAL = "window.dyadSearch = "


def plural(count: int, word: str, many: str | None = None) -> str:
    """ "1 story", "2 stories", "0 pairs" (``many`` defaults to ``word`` + "s")."""
    return f"{count} {word if count == 1 else (many or word + 's')}"


def pair_title(names: tuple[str, str]) -> str:
    """The pair in its countries' alphabetical order: "Ireland – United Kingdom"."""
    return " – ".join(sorted(names, key=str.casefold))


def story_anchor(story: DigestStory) -> str:
    """The id of a story's section on its pair page."""
    return f"s-{story.story_id}"


@dataclass
class PairPage:
    """One pair across the archive: its stories (each once, the newest digest's version,
    newest first), the digests it appears in (newest first) and its chart."""

    dyad: str
    names: tuple[str, str]
    stories: dict[str, DigestStory] = field(default_factory=dict)
    days: dict[str, date] = field(default_factory=dict)
    digests: list[Digest] = field(default_factory=list)

    @property
    def title(self) -> str:
        return pair_title(self.names)

    @property
    def href(self) -> str:
        return f"dyad-{self.dyad}.html"

    def ordered(self) -> list[DigestStory]:
        """The stories, newest first."""
        return sorted(self.stories.values(), key=lambda s: (s.last_seen, s.story_id), reverse=True)

    def chart(self) -> Chart | None:
        """The pair's score per day with stories."""
        by_day: dict[date, list[int | None]] = defaultdict(list)
        for story_id, story in self.stories.items():
            by_day[self.days[story_id]].append(story.cooperation_score)
        return score_chart(by_day)


def collect_pairs(digests: list[Digest]) -> list[PairPage]:
    """Every pair in ``digests`` (given newest first), sorted by its countries' names."""
    pairs: dict[str, PairPage] = {}
    for digest in sorted(digests, key=lambda d: d.date, reverse=True):
        zone = ZoneInfo(digest.timezone)
        for dyad in digest.dyads:
            page = pairs.setdefault(dyad.dyad, PairPage(dyad.dyad, dyad.names))
            page.digests.append(digest)
            for story in dyad.stories:
                if story.story_id not in page.stories:
                    page.stories[story.story_id] = story
                    page.days[story.story_id] = story.last_seen.astimezone(zone).date()
    return sorted(pairs.values(), key=lambda p: (p.title.casefold(), p.dyad))


def search_index(pairs: list[PairPage]) -> dict[str, object]:
    """The search index: for every story its headline, summary, pair, day and link."""
    stories = [
        {
            "headline": story.headline,
            "summary": story.summary,
            "pair": page.title,
            "day": page.days[story.story_id].isoformat(),
            "url": f"{page.href}#{story_anchor(story)}",
        }
        for page in pairs
        for story in page.ordered()
    ]
    return {"version": 1, "stories": stories}


def read_search_index(text: str) -> dict[str, object]:
    """The index back from the text of ``search-index.js`` (for checks and tools)."""
    body = text.removeprefix(SEARCH_GLOBAL).rstrip().removesuffix(";")
    loaded: dict[str, object] = json.loads(body)
    return loaded


def write_archive(env: Environment, digests: list[Digest], folder: Path, title: str) -> Path:
    """Write the archive of ``digests`` into ``folder``: ``index.html``, a page per digest,
    per pair and per story thread (``threads_page``), the stylesheet, the search script and
    index. Returns the index's path."""
    folder.mkdir(parents=True, exist_ok=True)
    digests = sorted(digests, key=lambda d: d.date, reverse=True)
    pairs = collect_pairs(digests)
    threads = collect_threads(digests)
    links = story_threads(threads)
    hrefs = {p.dyad: p.href for p in pairs}
    for digest in digests:
        page = env.get_template("site_digest.html.j2").render(
            **{**lead_context(digest), "threads": links},
            sections=sections(digest, LEVELS[0]),
            web=None,
            footer=None,  # a recipient's footer belongs to a mailed copy, not the archive
            pair_pages=hrefs,
            archive_title=title,
        )
        (folder / f"{digest.id}.html").write_text(page, encoding="utf-8")
    for pair in pairs:
        page = env.get_template("site_dyad.html.j2").render(
            title=title, pair=pair, stories=pair.ordered(), chart=pair.chart(), threads=links
        )
        (folder / pair.href).write_text(page, encoding="utf-8")
    for thread in threads:
        page = env.get_template("site_thread.html.j2").render(
            title=title,
            thread=thread,
            stories=thread.ordered(),
            fresh_stories=thread.fresh_stories(),
            fresh_points=thread.fresh_points(),
        )
        (folder / thread.href).write_text(page, encoding="utf-8")
    index = env.get_template("site_index.html.j2").render(title=title, digests=digests, pairs=pairs)
    (folder / "index.html").write_text(index, encoding="utf-8")
    for name in STATIC:
        (folder / name).write_text(_static(name), encoding="utf-8")
    payload = json.dumps(search_index(pairs), ensure_ascii=False, separators=(",", ":"))
    (folder / SEARCH_INDEX).write_text(f"{SEARCH_GLOBAL}{payload};\n", encoding="utf-8")
    return folder / "index.html"


def _static(name: str) -> str:
    return files("pipeline.digest").joinpath("static", name).read_text(encoding="utf-8")


ARCHIVE_FILTERS = {
    "plural": plural,
    "pair_title": pair_title,
    "story_anchor": story_anchor,
    "long_day": long_day,
}
