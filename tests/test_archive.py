"""The static archive the digest job writes: index by date and by pair, pair pages with their
score over time, digest pages linked both ways, and search in the browser."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from markupsafe import escape

from pipeline import jobs
from pipeline.digest.archive import read_search_index
from pipeline.digest.model import Digest, DigestPoint
from pipeline.digest.render import write_site
from tests.browser import dump_dom, needs_chromium
from tests.test_digest import (  # noqa: F401 (sample_db is a fixture)
    DAY,
    NOW,
    sample_db,
    settings_with_store,
)


@pytest.fixture(scope="module")
def digests(sample_db: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Digest]:  # noqa: F811
    """The digests of 24 and 25 Nov of the summarised sample, newest first."""
    settings = settings_with_store(tmp_path_factory.mktemp("archive"), sample_db)
    older = jobs.build_digest(settings, date(2026, 11, 24), days=30, clock=lambda: NOW)
    return [jobs.build_digest(settings, DAY, days=30, clock=lambda: NOW), older]


@pytest.fixture(scope="module")
def site(digests: list[Digest], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The archive of ``digests``, as the digest job writes it."""
    folder = tmp_path_factory.mktemp("site")
    write_site(digests, folder, "Dyad", None)
    return folder


def section(html: str, anchor: str) -> str:
    return html.split(f'id="{anchor}"', 1)[1].split("</section>", 1)[0]


def test_the_index_lists_digests_by_date_and_pairs_by_country_name(site: Path) -> None:
    index = (site / "index.html").read_text()
    dates = re.findall(r'href="(digest-[\d-]+)\.html"', index)
    assert dates == ["digest-2026-11-25", "digest-2026-11-24"]
    pairs = re.findall(r'href="dyad-[A-Z-]+\.html">([^<]+)</a>', index)
    assert len(pairs) == 23 and pairs == sorted(pairs, key=str.casefold)
    assert pairs[:3] == ["Afghanistan – Pakistan", "Algeria – France", "Argentina – Brazil"]
    assert "23 pairs, 28 stories" in index and "22 pairs, 26 stories" in index
    assert "· 1 story," in index and not re.search(r"\b1 (stories|pairs|digests)", index)
    assert '<link rel="stylesheet" href="archive.css">' in index
    css = (site / "archive.css").read_text()
    assert "prefers-color-scheme: dark" in css and "@media (max-width: 480px)" in css


def test_a_pair_page_draws_its_score_per_day_and_shows_every_story(
    digests: list[Digest], tmp_path: Path
) -> None:
    """A later digest adds a conflict story to India – Russia on another day: the pair page has
    one point per day with stories (blue above zero, orange below), every story's key points
    and sources, and the digests it appears in."""
    latest = digests[0]
    pair = next(d for d in latest.dyads if d.dyad == "IN-RU")
    oil, first = sorted(pair.stories, key=lambda s: s.last_seen)  # 18 Nov payments, 24 Nov visit
    later = first.model_copy(
        update={
            "story_id": "IN-RU-later",
            "headline": "Russia halts reactor parts shipment to India",
            "cooperation_score": -4,
            "key_points": [DigestPoint(text="Moscow cited unpaid invoices.")],
            "last_seen": first.last_seen + timedelta(days=3),
        }
    )
    day3 = latest.model_copy(
        update={
            "id": "digest-2026-11-28",
            "date": date(2026, 11, 28),
            "dyads": [pair.model_copy(update={"stories": [later]})],
        }
    )
    write_site([day3, *digests], tmp_path, "Dyad", None)
    page = (tmp_path / "dyad-IN-RU.html").read_text()
    assert "<svg" in page
    svg = page.split("<svg", 1)[1].split("</svg>", 1)[0]
    points = re.findall(r'<circle class="pt p(\w+)"[^>]*><title>([^<]+)</title>', svg)
    assert points == [
        ("coop", "18 Nov 2026: 1 story, +5 ▲ cooperation"),
        ("coop", "24 Nov 2026: 1 story, +2 ▲ cooperation"),
        ("conf", "27 Nov 2026: 1 story, -4 ▼ conflict"),
    ]
    assert "<polyline" in svg and "<desc" in svg
    for story in (oil, first, later):
        assert escape(story.headline) in page
        for point in story.key_points:  # each with the outlets it cites
            cited = f" <small>({', '.join(point.outlets)})</small>" if point.outlets else ""
            assert f"<li>{escape(point.text)}{cited}</li>" in page
        for src in story.sources:
            assert f'<a href="{src.url}">{src.outlet}</a>' in page
    digests_section = section(page, "digests")
    assert 'href="digest-2026-11-28.html#IN-RU"' in digests_section
    assert 'href="digest-2026-11-25.html#IN-RU"' in digests_section
    assert "3 stories in 3 digests" in page


def test_digest_pages_link_to_pair_pages_and_back(site: Path, digests: list[Digest]) -> None:
    for digest in digests:
        page = (site / f"{digest.id}.html").read_text()
        assert 'href="index.html"' in page
        for dyad in digest.dyads:
            pair_page = site / f"dyad-{dyad.dyad}.html"
            assert f'href="{pair_page.name}"' in page
            back = section(pair_page.read_text(), "digests")
            assert f'href="{digest.id}.html#{dyad.dyad}"' in back
            assert f'id="{dyad.dyad}"' in page  # where the link back lands
        assert page.count('<div class="s"') == sum(len(d.stories) for d in digest.dyads)


def test_the_search_index_holds_every_story(site: Path, digests: list[Digest]) -> None:
    index = read_search_index((site / "search-index.js").read_text())
    entries = index["stories"]
    assert isinstance(entries, list)
    stories = {s.story_id: s for d in reversed(digests) for dyad in d.dyads for s in dyad.stories}
    assert len(entries) == len(stories)
    assert {e["headline"] for e in entries} == {s.headline for s in stories.values()}
    assert {e["summary"] for e in entries} == {s.summary for s in stories.values()}
    for entry in entries:
        page, anchor = entry["url"].split("#")
        assert f'id="{anchor}"' in (site / page).read_text()
    assert '<script src="search.js"></script>' in (site / "index.html").read_text()


PROBE = """<!DOCTYPE html><html><body style="margin:0">
<iframe id="f" src="{src}" width="360" height="900" style="border:0"></iframe><script>
document.getElementById('f').onload = function () {{
  var w = this.contentWindow, d = w.document, tries = 0;
  {type}
  (function look() {{
    var hits = d.querySelectorAll('#hits li a');
    if (!hits.length && tries++ < 50) {{ setTimeout(look, 100); return; }}
    var root = d.documentElement;
    document.title = hits.length + ' | ' + (hits.length ? hits[0].textContent + ' | '
      + hits[0].getAttribute('href') : '') + ' | ' + d.getElementById('search-status').textContent
      + ' | ' + (root.scrollWidth <= w.innerWidth ? 'fits' : 'overflow=' + root.scrollWidth)
      + ' | ' + d.querySelectorAll('#hits img, #hits script').length + (w.pwned ? ' pwned' : '');
  }})();
}};</script></body></html>"""
TYPE = "var q = d.getElementById('q'); q.value = 'Prisoners  swap'; \
q.dispatchEvent(new w.Event('input'));"


@needs_chromium
@pytest.mark.parametrize("how", ["typed", "query string"])
def test_search_finds_a_story_in_chromium_at_360_px(site: Path, tmp_path: Path, how: str) -> None:
    """In a real 360 px viewport, from file:// (no server): a query typed into the box, or
    given as index.html?q=, lists the matching story, linked to its pair page."""
    src, script = ("index.html", TYPE) if how == "typed" else ("index.html?q=prisoners+swap", "")
    probe = site / "probe.html"
    probe.write_text(PROBE.format(src=src, type=script))
    dom = dump_dom(probe, tmp_path / "profile")
    title = re.search(r"<title>(.*)</title>", dom)
    assert title, dom[:300]
    count, headline, href, status, fit, tags = title.group(1).split(" | ")
    assert count == "1" and status == "1 story." and fit == "fits" and tags == "0", title.group(1)
    assert headline == "Russia and Ukraine swap 150 prisoners of war in UAE-brokered exchange"
    assert href.startswith("dyad-RU-UA.html#s-RU-UA-")


@needs_chromium
def test_search_results_show_a_hostile_headline_as_text(
    digests: list[Digest], tmp_path: Path
) -> None:
    hostile = 'Prisoners <img src=x onerror="window.pwned=1"> swap & "more"'
    latest = digests[0]
    dyads = [
        d.model_copy(update={"stories": [d.stories[0].model_copy(update={"headline": hostile})]})
        if d.dyad == "RU-UA"
        else d
        for d in latest.dyads
    ]
    site = tmp_path / "site"
    write_site([latest.model_copy(update={"dyads": dyads})], site, "Dyad", None)
    probe = site / "probe.html"
    probe.write_text(PROBE.format(src="index.html?q=prisoners", type=""))
    title = re.search(r"<title>(.*)</title>", dump_dom(probe, tmp_path / "profile"))
    assert title
    count, headline, _, _, _, tags = html.unescape(title.group(1)).split(" | ")
    assert (count, headline, tags) == ("1", hostile, "0")


FIT = """<!DOCTYPE html><html><body style="margin:0">{frames}<script>
var report = [], left = {count};
Array.prototype.forEach.call(document.querySelectorAll('iframe'), function (f) {{
  f.onload = function () {{
    var w = f.contentWindow, root = w.document.documentElement, svg = w.document.querySelector('svg');
    report.push(f.getAttribute('src') + '@' + w.innerWidth + ':' +
      (root.scrollWidth <= w.innerWidth ? 'fits' : 'overflow=' + root.scrollWidth) +
      (svg ? ':svg=' + Math.round(svg.getBoundingClientRect().width) : ''));
    if (--left === 0) {{ document.title = report.sort().join(' '); }}
  }};
}});</script></body></html>"""


@needs_chromium
def test_archive_pages_fit_360_and_1200_px_in_chromium(site: Path, tmp_path: Path) -> None:
    """Index, a pair page and a digest page fit a 360 px phone and a 1200 px desktop without
    sideways scrolling; the pair's chart spans the phone's column and stays a readable size on
    the desktop."""
    pages = ["index.html", "dyad-IN-RU.html", "digest-2026-11-25.html"]
    frames = "".join(
        f'<iframe src="{page}" width="{width}" height="600" style="border:0"></iframe>'
        for page in pages
        for width in (360, 1200)
    )
    probe = site / "fit.html"
    probe.write_text(FIT.format(frames=frames, count=len(pages) * 2))
    title = re.search(r"<title>(.*)</title>", dump_dom(probe, tmp_path / "profile", 1300))
    assert title
    report = dict(item.split(":", 1) for item in title.group(1).split(" "))
    assert len(report) == 6 and all(r.startswith("fits") for r in report.values()), report
    assert report["dyad-IN-RU.html@1200"] == "fits:svg=560"  # capped: labels stay ~16 px
    phone = int(report["dyad-IN-RU.html@360"].removeprefix("fits:svg="))
    assert 300 <= phone <= 336, report  # the column less padding (and a scrollbar)
