"""Ingest's stages overlap (issue 14 item 4): pages are fetched as each feed's entries arrive,
detection runs in the extraction workers beside extraction, and the process that runs the
ingest imports neither trafilatura nor builds the gazetteer."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from pipeline import jobs
from pipeline.store.db import open_engine
from tests.conftest import NOW, make_settings, write_feeds
from tests.servers import LoopbackServer, article_html, rss

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent

STORY = [
    "India and Russia agreed on new reactors at Kudankulam during the minister's visit.",
    "The two sides also discussed payments for oil in national currencies.",
    "Washington has criticised India's purchases of Russian crude.",
]
FLOODS = ["Heavy rain fell for days in Garissa county, and rivers burst their banks."] * 3
SLOW_FEED_SECONDS = 2.0


def feed(server: LoopbackServer, path: str, items: list[dict[str, str]], delay: float = 0) -> str:
    return server.add(path, rss(items), content_type="application/rss+xml", delay=delay)


def test_pages_are_fetched_before_the_last_feed_answers(
    tmp_path: Path, server: LoopbackServer, second_server: LoopbackServer
) -> None:
    """A feed that takes two seconds to answer does not hold back the pages of a feed that
    answered at once: they are fetched (and stored) while the slow one is still on its way."""
    settings = make_settings(tmp_path)
    server.add(
        "/a", article_html("India and Russia sign oil deal", STORY), content_type="text/html"
    )
    fast = feed(
        server, "/fast", [{"title": "India and Russia sign oil deal", "link": server.url("/a")}]
    )
    second_server.add("/b", article_html("Floods in Kenya", FLOODS), content_type="text/html")
    items = [{"title": "Floods in Kenya", "link": second_server.url("/b")}]
    slow = feed(second_server, "/slow", items, delay=SLOW_FEED_SECONDS)
    report = jobs.run_ingest(settings, write_feeds(tmp_path / "feeds.yaml", [slow, fast]))

    slow_asked = second_server.hits("/slow")[0].at
    page_asked = server.hits("/a")[0].at
    assert page_asked < slow_asked + SLOW_FEED_SECONDS - 0.5  # before the slow feed answered
    # Everything else as before: both feeds, both pages, detection on both.
    assert report.feed_counts()["ok"] == 2
    assert report.articles.extracted == 2 and report.articles.failed == 0
    assert report.detection.checked == 2 and report.detection.dyads == {"IN-RU": 1}
    assert len(server.hits("/a")) == 1 and len(second_server.hits("/b")) == 1


def test_detection_with_the_pages_equals_detection_afterwards(
    tmp_path: Path, server: LoopbackServer
) -> None:
    """What the extraction workers decide is stored exactly as detection over the stored
    articles decides it (same columns, same gazetteer version), and that later pass finds
    nothing left to do."""
    settings = make_settings(tmp_path, extract={"workers": 2})
    pages = {
        "/a": ("India and Russia sign oil deal", STORY),
        "/b": ("Floods in Kenya", FLOODS),
        "/c": ("", STORY),  # no page title: the feed's title is detection's title
    }
    items = []
    for path, (title, paragraphs) in pages.items():
        server.add(path, article_html(title, paragraphs), content_type="text/html")
        items.append({"title": title or "Delhi and Moscow", "link": server.url(path)})
    feeds = write_feeds(tmp_path / "feeds.yaml", [feed(server, "/feed", items)])
    report = jobs.run_ingest(settings, feeds, clock=lambda: NOW)
    assert report.articles.extracted == 3 and report.detection.checked == 3
    columns = "url, bilateral, dyad, detect_score, actor, target, detection, gazetteer_version"
    query = text(f"select {columns} from articles order by url")
    engine = open_engine(settings.effective_database_url)
    try:
        with engine.begin() as conn:
            with_pages = [tuple(r) for r in conn.execute(query)]
            assert all(row[-1] for row in with_pages)
            assert jobs.detect_articles(engine, settings=settings).checked == 0
            conn.execute(text("update articles set gazetteer_version = null, detection = null"))
        assert jobs.detect_articles(engine, settings=settings).checked == 3
        with engine.connect() as conn:
            afterwards = [tuple(r) for r in conn.execute(query)]
    finally:
        engine.dispose()
    assert afterwards == with_pages
    assert [row[2] for row in with_pages] == ["IN-RU", None, "IN-RU"]


INGEST_SCRIPT = """
import json, sys
sys.path.insert(0, {root!r})
from pathlib import Path
from pipeline import jobs
from pipeline.detect import load_gazetteer
from tests.conftest import make_settings, write_feeds

tmp = Path({tmp!r})
settings = make_settings(tmp)
report = jobs.run_ingest(settings, write_feeds(tmp / "feeds.yaml", [{feed!r}]))
heavy = ("trafilatura", "justext", "htmldate", "charset_normalizer", "courlan")
print(json.dumps({{
    "loaded": [m for m in heavy if m in sys.modules],
    "gazetteers_built": load_gazetteer.cache_info().currsize,
    "extracted": report.articles.extracted,
    "dyads": report.detection.dyads,
}}))
"""


def test_the_ingesting_process_neither_imports_trafilatura_nor_builds_the_gazetteer(
    tmp_path: Path, server: LoopbackServer
) -> None:
    """The process that runs an ingest (the `dyad` command, an Airflow task) hands pages to
    the extraction workers and stores what they return: extraction's libraries and the
    gazetteer are loaded in the workers only (memory and start-up of the main process)."""
    server.add(
        "/a", article_html("India and Russia sign oil deal", STORY), content_type="text/html"
    )
    server.add("/b", article_html("Floods in Kenya", FLOODS), content_type="text/html")
    items = [
        {"title": "India and Russia sign oil deal", "link": server.url("/a")},
        {"title": "Floods in Kenya", "link": server.url("/b")},
    ]
    script = tmp_path / "ingest_main.py"
    script.write_text(
        INGEST_SCRIPT.format(root=str(ROOT), tmp=str(tmp_path), feed=feed(server, "/f", items))
    )
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.splitlines()[-1]) == {
        "loaded": [],
        "gazetteers_built": 0,
        "extracted": 2,
        "dyads": {"IN-RU": 1},
    }


def test_an_item_changed_by_a_later_feed_of_the_same_run_is_fetched_again(
    tmp_path: Path, server: LoopbackServer, second_server: LoopbackServer
) -> None:
    """Two feeds carry the same story. In the next run both changed its item: the fast feed's
    change has the page fetched at once, and the slow feed's change, stored after that page,
    has it fetched once more in the same run (it used to wait, pending, for the next run)."""
    settings = make_settings(tmp_path)
    server.add(
        "/a", article_html("India and Russia sign oil deal", STORY), content_type="text/html"
    )

    def feeds(description: str) -> Path:
        item = {"title": "India and Russia sign oil deal", "link": server.url("/a")}
        item["description"] = description
        fast = feed(server, "/fast", [item])
        slow = feed(second_server, "/slow", [item], delay=SLOW_FEED_SECONDS)
        return write_feeds(tmp_path / "feeds.yaml", [fast, slow])

    first = jobs.run_ingest(settings, feeds("Oil deal signed."))
    assert first.articles.extracted == 1 and len(server.hits("/a")) == 1
    again = jobs.run_ingest(settings, feeds("Oil deal signed; reactors agreed too."))
    assert again.articles.extracted == 2 and again.articles.deferred == 0
    assert len(server.hits("/a")) == 3
    engine = open_engine(settings.effective_database_url)
    try:
        with engine.connect() as conn:
            status = conn.execute(text("select status from articles")).scalars().all()
    finally:
        engine.dispose()
    assert status == ["extracted"]


def test_an_item_changed_while_its_page_is_fetched_is_fetched_after_the_change(
    tmp_path: Path, server: LoopbackServer, second_server: LoopbackServer
) -> None:
    """The later feed changes the item while the page is on its way (the page answers in two
    seconds, the feed in half a second): the page fetched before the change is not stored over
    the feed's change; it is fetched again once the change is stored, and the article ends
    extracted from that later fetch (it used to end extracted from the earlier one, the change
    never fetched)."""
    settings = make_settings(tmp_path)
    page = article_html("India and Russia sign oil deal", STORY)
    server.add("/a", page, content_type="text/html")

    def feeds(first: str, second: str) -> Path:
        item = {"title": "India and Russia sign oil deal", "link": server.url("/a")}
        fast = feed(server, "/fast", [item | {"description": first}])
        later = feed(second_server, "/later", [item | {"description": second}], delay=0.5)
        return write_feeds(tmp_path / "feeds.yaml", [fast, later])

    jobs.run_ingest(settings, feeds("Oil deal signed.", "Oil deal signed."))
    assert len(server.hits("/a")) == 1
    server.add("/a", page, content_type="text/html", delay=SLOW_FEED_SECONDS)
    again = jobs.run_ingest(settings, feeds("Reactors agreed.", "Reactors and oil agreed."))
    later_stored = second_server.hits("/later")[-1].at + 0.5
    fetches = [hit.at for hit in server.hits("/a")]
    assert len(fetches) == 3 and fetches[-1] > later_stored - 0.1
    assert again.articles.extracted == 1 and again.articles.deferred == 0
    engine = open_engine(settings.effective_database_url)
    try:
        with engine.connect() as conn:
            row = conn.execute(text("select status, feed_summary from articles")).one()
    finally:
        engine.dispose()
    assert tuple(row) == ("extracted", "Reactors and oil agreed.")
