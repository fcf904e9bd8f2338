"""The bundled offline sample: our own stories turned into feeds, pages and a WARC recording.

``build_sample(source_dir, warc_path)`` reads ``outlets.yaml`` and ``stories.yaml`` and writes,
without touching the network, the exchanges a crawler would have recorded: one feed per outlet
(RSS 2.0 or Atom, some links with tracking parameters, one feed carrying full content), one HTML
page per story with the navigation and footer a real site has, and each host's robots.txt. The
same WARC path that ``dyad ingest --record`` writes is used, so ``--replay`` treats the sample
exactly like a recording of the live web. The WARC is rebuilt only when the sources change.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape as xml_escape

import yaml

from pipeline.http.exchange import Exchange
from pipeline.http.warc import RecordingExchanger

SAMPLE_FETCHED_AT = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
LAST_MODIFIED = format_datetime(SAMPLE_FETCHED_AT, usegmt=True)


class _StaticExchanger:
    """Serves prepared answers; used only to write them through the WARC recorder."""

    network = False

    def __init__(self, answers: dict[str, Exchange]) -> None:
        self.answers = answers

    def exchange(self, url: str, headers: dict[str, str], max_bytes: int) -> Exchange:
        return self.answers[url]

    def close(self) -> None:
        """Nothing to release."""


def load_sample(source_dir: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The sample's outlets and stories as plain dicts (the labels included)."""
    outlets = yaml.safe_load((source_dir / "outlets.yaml").read_text(encoding="utf-8"))["outlets"]
    stories = yaml.safe_load((source_dir / "stories.yaml").read_text(encoding="utf-8"))["stories"]
    return outlets, stories


def story_url(outlet: dict[str, Any], story: dict[str, Any]) -> str:
    """The canonical page URL of a sample story."""
    return f"https://{outlet['host']}{story['slug']}"


def _published(story: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(story["published"]).replace("Z", "+00:00"))


def render_page(outlet: dict[str, Any], story: dict[str, Any]) -> str:
    """The HTML article page of a story, with site chrome around the article."""
    published = _published(story)
    paragraphs = "\n".join(f"      <p>{escape(p)}</p>" for p in story["body"])
    nav = " ".join(
        f'<a href="/{s}/">{s.title()}</a>'
        for s in ("world", "politics", "business", "opinion", "sport")
    )
    return f"""<!DOCTYPE html>
<html lang="{outlet["language"]}">
<head>
  <meta charset="utf-8">
  <title>{escape(story["title"])} | {escape(outlet["name"])}</title>
  <meta name="author" content="{escape(story["author"])}">
  <meta property="og:title" content="{escape(story["title"])}">
  <meta property="og:site_name" content="{escape(outlet["name"])}">
  <meta property="article:published_time" content="{published.isoformat()}">
  <link rel="canonical" href="{escape(story_url(outlet, story))}">
</head>
<body>
  <header><a href="/">{escape(outlet["name"])}</a><nav>{nav}</nav>
    <form action="/search"><input name="q" placeholder="Search"></form></header>
  <main>
    <article>
      <h1>{escape(story["title"])}</h1>
      <p class="byline">By {escape(story["author"])} · <time datetime="{published.isoformat()}">{published:%d %B %Y}</time></p>
{paragraphs}
    </article>
    <aside><h2>Most read</h2><ul><li><a href="/world/">Latest world news</a></li>
      <li><a href="/newsletters/">Sign up for our morning briefing</a></li></ul></aside>
  </main>
  <footer><p>© 2026 {escape(outlet["name"])}. All rights reserved.</p>
    <p><a href="/about/">About us</a> · <a href="/privacy/">Privacy</a></p></footer>
</body>
</html>
"""  # noqa: E501


Item = tuple[dict[str, Any], dict[str, Any]]
"""(the outlet that published the story, the story): feeds also carry stories of other outlets."""


def _rss(outlet: dict[str, Any], items_in: list[Item]) -> str:
    items = []
    for origin, story in items_in:
        link = story_url(origin, story) + origin.get("tracking", "")
        content = ""
        if outlet.get("full_content"):
            html = "".join(f"<p>{escape(p)}</p>" for p in story["body"])
            content = f"\n      <content:encoded><![CDATA[{html}]]></content:encoded>"
        items.append(f"""    <item>
      <title>{xml_escape(story["title"])}</title>
      <link>{xml_escape(link)}</link>
      <guid isPermaLink="false">{outlet["key"]}:{xml_escape(story["slug"])}</guid>
      <pubDate>{format_datetime(_published(story), usegmt=True)}</pubDate>
      <dc:creator>{xml_escape(story["author"])}</dc:creator>
      <description>{xml_escape(story["summary"])}</description>{content}
    </item>""")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:content="http://purl.org/rss/1.0/modules/content/">
  <channel>
    <title>{xml_escape(outlet["name"])}</title>
    <link>https://{outlet["host"]}/</link>
    <description>{xml_escape(outlet["name"])}: latest international news</description>
    <language>{outlet["language"]}</language>
{chr(10).join(items)}
  </channel>
</rss>
"""


def _atom(outlet: dict[str, Any], items_in: list[Item]) -> str:
    entries = []
    for origin, story in items_in:
        link = story_url(origin, story) + origin.get("tracking", "")
        when = _published(story).isoformat().replace("+00:00", "Z")
        entries.append(f"""  <entry>
    <title>{xml_escape(story["title"])}</title>
    <link rel="alternate" href="{xml_escape(link)}"/>
    <id>tag:{outlet["host"]},2026:{xml_escape(story["slug"])}</id>
    <published>{when}</published>
    <updated>{when}</updated>
    <author><name>{xml_escape(story["author"])}</name></author>
    <summary>{xml_escape(story["summary"])}</summary>
  </entry>""")
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{outlet["language"]}">
  <title>{xml_escape(outlet["name"])}</title>
  <id>https://{outlet["host"]}/</id>
  <link rel="self" href="https://{outlet["host"]}{outlet["feed_path"]}"/>
  <updated>{SAMPLE_FETCHED_AT.isoformat().replace("+00:00", "Z")}</updated>
{chr(10).join(entries)}
</feed>
"""


def sample_answers(source_dir: Path) -> dict[str, Exchange]:
    """Every URL of the sample and the answer a server would give for it."""
    outlets, stories = load_sample(source_dir)
    by_key = {o["key"]: o for o in outlets}
    by_outlet: dict[str, list[Item]] = {o["key"]: [] for o in outlets}
    for story in stories:
        origin = by_key[story["outlet"]]
        for key in [story["outlet"], *story.get("also_in", [])]:
            by_outlet[key].append((origin, story))
    answers: dict[str, Exchange] = {}
    for outlet in outlets:
        host = f"https://{outlet['host']}"
        mine = sorted(by_outlet[outlet["key"]], key=lambda item: _published(item[1]), reverse=True)
        body = (_atom if outlet["format"] == "atom" else _rss)(outlet, mine).encode("utf-8")
        ctype = "application/atom+xml" if outlet["format"] == "atom" else "application/rss+xml"
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        answers[host + outlet["feed_path"]] = Exchange(
            host + outlet["feed_path"],
            200,
            (
                ("content-type", f"{ctype}; charset=utf-8"),
                ("etag", etag),
                ("last-modified", LAST_MODIFIED),
            ),
            body,
        )
        robots = (outlet.get("robots") or "").encode("utf-8")
        answers[host + "/robots.txt"] = (
            Exchange(host + "/robots.txt", 200, (("content-type", "text/plain"),), robots)
            if robots
            else Exchange(host + "/robots.txt", 404, (("content-type", "text/plain"),), b"")
        )
        for origin, story in mine:
            if origin is not outlet:
                continue
            url = story_url(outlet, story)
            answers[url] = Exchange(
                url,
                200,
                (("content-type", "text/html; charset=utf-8"),),
                render_page(outlet, story).encode("utf-8"),
            )
    return answers


def sample_feed_list(source_dir: Path) -> str:
    """The feed list (YAML) of the sample's outlets."""
    outlets, _ = load_sample(source_dir)
    feeds = [
        {
            "name": o["name"],
            "url": f"https://{o['host']}{o['feed_path']}",
            "tags": o["tags"],
            "language": o["language"],
            "why": "offline sample outlet (invented)",
        }
        for o in outlets
    ]
    return yaml.safe_dump({"feeds": feeds}, sort_keys=False)


def _sources_digest(source_dir: Path) -> str:
    digest = hashlib.sha256()
    for name in ("outlets.yaml", "stories.yaml"):
        digest.update((source_dir / name).read_bytes())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()


def build_sample(source_dir: Path, warc_path: Path) -> Path:
    """Write the sample WARC (and ``feeds.yaml`` beside it) unless they are already current."""
    stamp = warc_path.with_suffix(".sha256")
    digest = _sources_digest(source_dir)
    feeds_path = warc_path.parent / "feeds.yaml"
    if (
        warc_path.exists()
        and feeds_path.exists()
        and stamp.exists()
        and stamp.read_text() == digest
    ):
        return warc_path
    warc_path.parent.mkdir(parents=True, exist_ok=True)
    answers = sample_answers(source_dir)
    tmp = warc_path.with_name(warc_path.name + ".tmp")
    recorder = RecordingExchanger(_StaticExchanger(answers), tmp)
    try:
        for url in sorted(answers):
            recorder.exchange(url, {"User-Agent": "Dyad sample builder"}, 2**31)
    finally:
        recorder.close()
    tmp.replace(warc_path)
    feeds_path.write_text(sample_feed_list(source_dir), encoding="utf-8")
    stamp.write_text(digest)
    return warc_path
