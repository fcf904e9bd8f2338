"""End to end: feeds and pages served on loopback, ingest into a real SQLite store."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from pipeline import jobs
from pipeline.config import Settings
from pipeline.detect import load_gazetteer
from pipeline.records import FeedStatus
from pipeline.store.db import open_engine
from pipeline.store.runs import table_counts
from tests.conftest import NOW, make_settings, write_feeds
from tests.servers import LoopbackServer, article_html, rss

pytestmark = pytest.mark.slow

STORY = [
    "India and Russia agreed on new reactors at Kudankulam during the minister's visit.",
    "The two sides also discussed payments for oil in national currencies.",
    "Washington has criticised India's purchases of Russian crude.",
]


def clock() -> object:
    return NOW


def publish(server: LoopbackServer, path: str, items: list[dict[str, str]], **headers: str) -> str:
    return server.add(path, rss(items), headers={"Content-Type": "application/rss+xml", **headers})


def page(server: LoopbackServer, path: str, title: str) -> str:
    return server.add(path, article_html(title, STORY), content_type="text/html; charset=utf-8")


def ingest(settings: Settings, feeds: Path) -> jobs.IngestReport:
    return jobs.run_ingest(settings, feeds, clock=lambda: NOW)


def rows(settings: Settings, sql: str) -> list[tuple[object, ...]]:
    engine = open_engine(settings.effective_database_url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]
    finally:
        engine.dispose()


def counts(settings: Settings) -> dict[str, int]:
    engine = open_engine(settings.effective_database_url)
    try:
        return {
            k: v for k, v in table_counts(engine).items() if k in ("feeds", "articles", "entries")
        }
    finally:
        engine.dispose()


def test_conditional_get_second_run_stores_nothing(tmp_path: Path, server: LoopbackServer) -> None:
    settings = make_settings(tmp_path)
    publish(
        server,
        "/feed",
        [{"title": "A", "link": server.url("/a"), "guid": "a"}],
        ETag='W/"v1-abc"',
        **{"Last-Modified": "Mon, 23 Nov 2026 10:00:00 GMT"},
    )
    page(server, "/a", "Story A")

    def conditional(h: object) -> None:
        sent = h.headers  # type: ignore[attr-defined]
        if sent.get("If-None-Match") == 'W/"v1-abc"':
            h.send_response(304)  # type: ignore[attr-defined]
            h.send_header("ETag", 'W/"v1-abc"')  # type: ignore[attr-defined]
            h.send_header("Content-Length", "0")  # type: ignore[attr-defined]
            h.end_headers()  # type: ignore[attr-defined]
        else:
            h.send_response(500)  # type: ignore[attr-defined]
            h.end_headers()  # type: ignore[attr-defined]

    feeds = write_feeds(tmp_path / "feeds.yaml", [server.url("/feed")])
    first = ingest(settings, feeds)
    assert first.feeds[0].status == FeedStatus.OK and first.entry_counts()["new"] == 1
    before = counts(settings)
    server.routes["/feed"].handler = conditional
    load_gazetteer.cache_clear()
    second = ingest(settings, feeds)
    assert second.feeds[0].status == FeedStatus.NOT_MODIFIED
    assert counts(settings) == before
    assert load_gazetteer.cache_info().currsize == 0  # nothing new: no gazetteer was built
    sent = server.hits("/feed")[-1].headers
    assert sent["if-none-match"] == 'W/"v1-abc"'  # byte for byte what the server gave
    assert sent["if-modified-since"] == "Mon, 23 Nov 2026 10:00:00 GMT"


def test_server_ignoring_validators_creates_no_duplicates(
    tmp_path: Path, server: LoopbackServer
) -> None:
    settings = make_settings(tmp_path)
    items = [{"title": f"T{i}", "link": server.url(f"/p{i}"), "guid": f"g{i}"} for i in range(3)]
    publish(server, "/feed", items, ETag='"one"')
    for i in range(3):
        page(server, f"/p{i}", f"T{i}")
    feeds = write_feeds(tmp_path / "feeds.yaml", [server.url("/feed")])
    ingest(settings, feeds)
    before = counts(settings)
    publish(server, "/feed", items, ETag='"two"')  # same body, new ETag
    report = ingest(settings, feeds)
    assert counts(settings) == before
    assert report.entry_counts() == {
        "seen": 3,
        "new": 0,
        "updated": 0,
        "duplicate": 3,
        "skipped": 0,
    }
    assert rows(settings, "select etag from feeds") == [('"two"',)]


def test_same_story_under_two_guids_and_tracking_variants_is_stored_once(
    tmp_path: Path, server: LoopbackServer
) -> None:
    settings = make_settings(tmp_path)
    page(server, "/story", "Shared story")
    publish(
        server,
        "/one",
        [
            {"title": "Shared story", "link": server.url("/story?utm_source=rss"), "guid": "one-1"},
            {
                "title": "Shared story (update)",
                "link": server.url("/story?fbclid=abc#top"),
                "guid": "one-2",
            },
        ],
    )
    publish(
        server,
        "/two",
        [{"title": "Shared story", "link": server.url("/story?gclid=x"), "guid": "two-9"}],
    )
    feeds = write_feeds(tmp_path / "feeds.yaml", [server.url("/one"), server.url("/two")])
    report = ingest(settings, feeds)
    assert counts(settings) == {"feeds": 2, "articles": 1, "entries": 3}
    assert report.entry_counts()["new"] == 1 and report.entry_counts()["duplicate"] == 2
    linked = rows(settings, "select count(distinct feed_id) from entries")
    assert linked == [(2,)]
    assert len(server.hits("/story")) == 1  # fetched once, without the tracking parameters
    assert rows(settings, "select canonical_url from articles") == [(server.url("/story"),)]


def test_idempotent_rerun_on_the_same_data(tmp_path: Path, server: LoopbackServer) -> None:
    settings = make_settings(tmp_path)
    items = [{"title": f"T{i}", "link": server.url(f"/p{i}"), "guid": f"g{i}"} for i in range(5)]
    publish(server, "/feed", items)
    for i in range(5):
        page(server, f"/p{i}", f"T{i}")
    feeds = write_feeds(tmp_path / "feeds.yaml", [server.url("/feed")])
    ingest(settings, feeds)
    snapshot = rows(settings, "select canonical_url, title, text, status from articles order by 1")
    ingest(settings, feeds)
    ingest(settings, feeds)
    assert (
        rows(settings, "select canonical_url, title, text, status from articles order by 1")
        == snapshot
    )
    assert counts(settings) == {"feeds": 1, "articles": 5, "entries": 5}


def test_page_failures_fall_back_to_feed_text(tmp_path: Path, server: LoopbackServer) -> None:
    settings = make_settings(tmp_path)
    server.add("/robots.txt", "User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    server.add("/doc.pdf", b"%PDF-1.7", content_type="application/pdf")
    page(server, "/ok", "Fine")
    publish(
        server,
        "/feed",
        [
            {"title": "Gone", "link": server.url("/gone"), "description": "Feed summary of gone"},
            {
                "title": "Private",
                "link": server.url("/private/x"),
                "description": "Feed summary of private",
            },
            {"title": "PDF", "link": server.url("/doc.pdf"), "description": "Feed summary of pdf"},
            {"title": "Fine", "link": server.url("/ok"), "description": "short"},
        ],
    )
    feeds = write_feeds(tmp_path / "feeds.yaml", [server.url("/feed")])
    report = ingest(settings, feeds)
    assert report.articles.extracted == 1 and report.articles.fallback == 3
    kinds = {f.url.rsplit("/", 1)[-1]: f.kind for f in report.article_failures}
    assert kinds == {
        "gone": "http_status",
        "x": "blocked_by_robots",
        "doc.pdf": "unsupported_content_type",
    }
    stored = dict(rows(settings, "select title, text_source from articles"))
    assert stored == {
        "Gone": "feed_summary",
        "Private": "feed_summary",
        "PDF": "feed_summary",
        "Fine": "page",
    }
    assert server.hits("/private/x") == []
    failures = rows(settings, "select stage, kind from failures order by kind")
    assert ("article", "blocked_by_robots") in failures


def test_429_defers_one_feed_and_the_others_go_on(
    tmp_path: Path, server: LoopbackServer, second_server: LoopbackServer
) -> None:
    settings = make_settings(tmp_path)
    server.add("/feed", "busy", status=429, headers={"Retry-After": "600"})
    publish(second_server, "/feed", [{"title": "T", "link": second_server.url("/a")}])
    page(second_server, "/a", "T")
    feeds = write_feeds(tmp_path / "feeds.yaml", [server.url("/feed"), second_server.url("/feed")])
    report = ingest(settings, feeds)
    statuses = {f.url: f.status for f in report.feeds}
    assert statuses == {
        server.url("/feed"): FeedStatus.DEFERRED,
        second_server.url("/feed"): FeedStatus.OK,
    }
    again = ingest(settings, feeds)  # the deferred host is not asked again before its time
    assert {f.url: f.status for f in again.feeds}[server.url("/feed")] == FeedStatus.BACKING_OFF
    assert len(server.hits("/feed")) == 1


def test_broken_feeds_are_reported_and_back_off(tmp_path: Path, server: LoopbackServer) -> None:
    settings = make_settings(tmp_path)
    server.add(
        "/html", "<!DOCTYPE html><html><body>Access denied</body></html>", content_type="text/html"
    )
    server.add("/empty", b"", content_type="application/rss+xml")
    items = [{"title": f"Item {i}", "link": server.url(f"/p{i}")} for i in range(6)]
    body = rss(items)
    server.add("/truncated", body[: body.index("Item 4")], content_type="application/rss+xml")
    for i in range(6):
        page(server, f"/p{i}", f"Item {i}")
    feeds = write_feeds(
        tmp_path / "feeds.yaml", [server.url(p) for p in ("/html", "/empty", "/truncated")]
    )
    report = ingest(settings, feeds)
    by_url = {f.url.rsplit("/", 1)[-1]: f for f in report.feeds}
    assert by_url["html"].status == FeedStatus.FAILED and by_url["html"].error_kind == "not_a_feed"
    assert (
        by_url["empty"].status == FeedStatus.FAILED
        and by_url["empty"].error_kind == "empty_response"
    )
    assert by_url["truncated"].status == FeedStatus.OK and by_url["truncated"].entries_new == 4
    assert any("malformed" in w for w in by_url["truncated"].warnings)
    health = dict(rows(settings, "select url, consecutive_failures from feeds"))
    assert health[server.url("/html")] == 1
    again = ingest(settings, feeds)
    assert {f.url: f.status for f in again.feeds}[server.url("/html")] == FeedStatus.BACKING_OFF


def test_one_bad_article_does_not_roll_back_the_others_or_advance_validators(
    tmp_path: Path, server: LoopbackServer
) -> None:
    settings = make_settings(tmp_path)
    items = [{"title": t, "link": server.url(f"/{t}")} for t in ("good1", "POISON", "good2")]
    publish(server, "/feed", items, ETag='"v1"')
    for t in ("good1", "POISON", "good2"):
        page(server, f"/{t}", t)
    engine = open_engine(settings.effective_database_url)
    with engine.begin() as conn:  # a real database failure for one row
        conn.execute(
            text(
                "CREATE TRIGGER poison BEFORE INSERT ON articles WHEN NEW.title = 'POISON' "
                "BEGIN SELECT RAISE(ABORT, 'poisoned row'); END"
            )
        )
    engine.dispose()
    feeds = write_feeds(tmp_path / "feeds.yaml", [server.url("/feed")])
    report = ingest(settings, feeds)
    assert sorted(t for (t,) in rows(settings, "select title from articles")) == ["good1", "good2"]
    assert any("could not be stored" in w for w in report.feeds[0].warnings)
    assert rows(settings, "select etag from feeds") == [(None,)]  # next run refetches in full
    assert ("store", "store") in rows(settings, "select stage, kind from failures")


def test_record_then_replay_gives_identical_rows(tmp_path: Path, server: LoopbackServer) -> None:
    items = [
        {
            "title": f"T{i}",
            "link": server.url(f"/p{i}"),
            "guid": f"g{i}",
            "pubDate": "Sun, 22 Nov 2026 10:00:00 GMT",
        }
        for i in range(4)
    ]
    publish(server, "/feed", items, ETag='"e"')
    for i in range(4):
        page(server, f"/p{i}", f"Title {i}")
    feeds = write_feeds(tmp_path / "feeds.yaml", [server.url("/feed")])
    warc = tmp_path / "run.warc.gz"
    live = make_settings(tmp_path / "live", record_path=warc)
    ingest(live, feeds)
    requests_live = len(server.requests)
    server.close()  # replay must not need the network
    replay = make_settings(tmp_path / "replay", replay_path=warc)
    ingest(replay, feeds)
    query = (
        "select canonical_url, title, text, text_source, status, published_at, language "
        "from articles order by canonical_url"
    )
    assert rows(live, query) == rows(replay, query)
    assert len(rows(replay, query)) == 4 and requests_live >= 5


def test_sample_ingest_via_cli_json(tmp_path: Path) -> None:
    env = {"DYAD_DATA_DIR": str(tmp_path / "var"), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "ingest", "--sample", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["feed_counts"]["ok"] == 6
    assert report["entries"]["new"] >= 60 and report["entries"]["duplicate"] >= 1
    assert report["articles"]["extracted"] >= 59
    assert {f["status"] for f in report["feeds"]} == {"ok"}
    again = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "ingest", "--sample", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    second = json.loads(again.stdout)
    assert second["feed_counts"]["not_modified"] == 6 and second["entries"]["new"] == 0


def test_pipeline_imports_without_airflow() -> None:
    code = (
        "import sys, pkgutil, importlib, pipeline\n"
        "for m in pkgutil.walk_packages(pipeline.__path__, 'pipeline.'):\n"
        "    if '.migrations' not in m.name: importlib.import_module(m.name)\n"
        "bad = [m for m in sys.modules if m == 'airflow' or m.startswith('airflow.')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)


def test_unconditional_fetch_is_due_once_per_interval(
    tmp_path: Path, server: LoopbackServer
) -> None:
    from datetime import timedelta

    settings = make_settings(tmp_path, feeds={"unconditional_every_hours": 24})
    publish(server, "/feed", [{"title": "A", "link": server.url("/a")}], ETag='"v1"')
    page(server, "/a", "A")
    feeds = write_feeds(tmp_path / "feeds.yaml", [server.url("/feed")])
    times = [NOW, NOW + timedelta(hours=1), NOW + timedelta(hours=25)]
    for when in times:
        jobs.run_ingest(settings, feeds, clock=lambda when=when: when)
    sent = [h.headers.get("if-none-match") for h in server.hits("/feed")]
    assert sent == [None, '"v1"', None]  # first poll, conditional, then the daily unconditional one


def test_permanent_redirect_is_noted_not_followed_blindly(
    tmp_path: Path, server: LoopbackServer
) -> None:
    settings = make_settings(tmp_path, feeds={"redirect_confirm_count": 2})
    server.add("/old", status=301, headers={"Location": "/new"})
    publish(server, "/new", [{"title": "A", "link": server.url("/a")}])
    page(server, "/a", "A")
    feeds = write_feeds(tmp_path / "feeds.yaml", [server.url("/old")])
    ingest(settings, feeds)
    ingest(settings, feeds)
    (row,) = rows(settings, "select url, moved_to, moved_count, warnings from feeds")
    assert row[0] == server.url("/old") and row[1] == server.url("/new") and row[2] == 2
    assert "update feeds.yaml" in (row[3] or "")


def test_two_feeds_redirecting_to_one_are_ingested_once(
    tmp_path: Path, server: LoopbackServer
) -> None:
    settings = make_settings(tmp_path, feeds={"poll_workers": 1})
    server.add("/alias", status=302, headers={"Location": "/real"})
    publish(server, "/real", [{"title": "A", "link": server.url("/a")}])
    page(server, "/a", "A")
    feeds = write_feeds(tmp_path / "feeds.yaml", [server.url("/alias"), server.url("/real")])
    report = ingest(settings, feeds)
    statuses = sorted(f.status.value for f in report.feeds)
    assert statuses == ["duplicate", "ok"]
    assert counts(settings)["entries"] == 1


def test_ingest_detects_and_redetects_when_the_gazetteer_changes(
    tmp_path: Path, server: LoopbackServer
) -> None:
    settings = make_settings(tmp_path)
    server.add(
        "/a", article_html("India and Russia sign oil deal", STORY), content_type="text/html"
    )
    server.add(
        "/b",
        article_html("Floods in Kenya", ["Heavy rain fell for days in Garissa county."] * 3),
        content_type="text/html",
    )
    publish(
        server,
        "/feed",
        [
            {"title": "India and Russia sign oil deal", "link": server.url("/a")},
            {"title": "Floods in Kenya", "link": server.url("/b")},
        ],
    )
    feeds = write_feeds(tmp_path / "feeds.yaml", [server.url("/feed")])
    report = ingest(settings, feeds)
    assert report.detection.checked == 2 and report.detection.dyads == {"IN-RU": 1}
    stored = dict(rows(settings, "select title, dyad from articles"))
    assert stored == {"India and Russia sign oil deal": "IN-RU", "Floods in Kenya": None}
    assert ingest(settings, feeds).detection.checked == 0  # nothing changed, nothing re-detected
    engine = open_engine(settings.effective_database_url)
    with engine.begin() as conn:
        conn.execute(text("update articles set gazetteer_version = 'older'"))
    assert jobs.detect_articles(engine).checked == 2
    engine.dispose()


def test_two_concurrent_ingests_fetch_each_page_once(
    tmp_path: Path, server: LoopbackServer
) -> None:
    """Two ingests at once (two processes, or two Celery workers) share the pages: each pending
    article is claimed in the store before its page is fetched, so no page is fetched and
    extracted twice."""
    import threading

    settings = make_settings(tmp_path)
    items = [{"title": f"T{i}", "link": server.url(f"/p{i}"), "guid": f"g{i}"} for i in range(4)]
    publish(server, "/feed", items)
    for i in range(4):
        server.add(
            f"/p{i}",
            article_html(f"T{i}", STORY),
            content_type="text/html; charset=utf-8",
            delay=0.4,
        )
    feeds = write_feeds(tmp_path / "feeds.yaml", [server.url("/feed")])
    jobs.plan_ingest(settings, feeds)  # the feed rows exist before both start
    reports: list[jobs.IngestReport] = []
    threads = [
        threading.Thread(target=lambda: reports.append(jobs.run_ingest(settings, feeds)))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [len(server.hits(f"/p{i}")) for i in range(4)] == [1, 1, 1, 1]
    assert sum(r.articles.extracted for r in reports) == 4
    assert rows(settings, "select count(*) from articles where status = 'extracted'") == [(4,)]


def test_a_killed_ingest_is_closed_as_interrupted_by_the_next(
    tmp_path: Path, server: LoopbackServer
) -> None:
    from datetime import timedelta

    settings = make_settings(tmp_path)
    publish(server, "/feed", [])
    feeds = write_feeds(tmp_path / "feeds.yaml", [server.url("/feed")])
    killed = jobs.start_ingest(settings, lambda: NOW)  # ... and the process dies here
    jobs.run_ingest(settings, feeds, clock=lambda: NOW + timedelta(hours=7))
    status = dict(rows(settings, "select id, status from runs"))
    assert status.pop(killed) == "interrupted" and set(status.values()) == {"success"}


def test_purge_deletes_old_items_and_their_tombstones_keep_them_out(
    tmp_path: Path, server: LoopbackServer
) -> None:
    from datetime import timedelta

    settings = make_settings(tmp_path)
    old = [{"title": f"Old {i}", "link": server.url(f"/old{i}"), "guid": f"o{i}"} for i in range(3)]
    for i in range(3):
        page(server, f"/old{i}", f"Old {i}")
    publish(server, "/feed", old)
    feeds = write_feeds(tmp_path / "feeds.yaml", [server.url("/feed")])
    ingest(settings, feeds)  # first seen at NOW
    later = NOW + timedelta(days=40)
    purged = jobs.purge(settings, 30, clock=lambda: later)
    assert purged["articles"] == 3 and purged["entries"] == 3 and purged["tombstones"] == 6
    assert counts(settings) == {"feeds": 1, "articles": 0, "entries": 0}
    # The feed still lists the old items (under a new GUID too) and adds a new one.
    new = {"title": "New", "link": server.url("/new"), "guid": "n1"}
    page(server, "/new", "New")
    renamed = {**old[0], "guid": "o0-republished"}
    publish(server, "/feed", [*old, renamed, new])
    report = jobs.run_ingest(settings, feeds, clock=lambda: later)
    assert report.entry_counts()["new"] == 1
    assert rows(settings, "select title from articles") == [("New",)]
    assert server.hits("/old0") and len(server.hits("/old0")) == 1  # never fetched again


def test_purge_needs_a_period(tmp_path: Path) -> None:
    from pipeline.errors import ConfigError

    with pytest.raises(ConfigError, match="nothing to purge"):
        jobs.purge(make_settings(tmp_path))


def entity_bomb(codec: str, link: str, prolog: str = "") -> bytes:
    """A feed in ``codec`` without a byte-order mark whose DTD declares one 20 kB entity (no
    "&" in it, so feedparser keeps it as "safe") referenced 500 times: 10 M characters if
    expanded. ``prolog`` goes before the DOCTYPE."""
    item = rss([{"title": "t &big;", "link": link, "description": "&big;" * 500}])
    return (
        f'<?xml version="1.0" encoding="{codec}"?>\n{prolog}'
        f'<!DOCTYPE rss [\n<!ENTITY big "{"HA" * 10_000}">\n]>\n' + item.split("\n", 1)[1]
    ).encode(codec)


def test_entity_bombs_in_other_encodings_are_cut_or_refused(
    tmp_path: Path, server: LoopbackServer
) -> None:
    settings = make_settings(tmp_path)
    codecs = ("utf-16-le", "utf-16-be", "utf-32-be", "cp037")
    for codec in codecs:
        body = entity_bomb(codec, server.url(f"/{codec}-story"))
        server.add(f"/{codec}", body, content_type="application/rss+xml")
    two_doctypes = entity_bomb("utf-16-le", server.url("/x"), prolog="<!DOCTYPE rss>\n")
    server.add("/two-doctypes", two_doctypes, content_type="application/rss+xml")
    urls = [server.url(f"/{c}") for c in (*codecs, "two-doctypes")]
    report = ingest(settings, write_feeds(tmp_path / "feeds.yaml", urls))
    by_path = {f.url.rsplit("/", 1)[-1]: f for f in report.feeds}
    for codec in codecs:
        feed = by_path[codec]
        assert feed.status == FeedStatus.OK or feed.error_kind == "dtd_not_allowed", feed
        assert feed.seconds < 1.0, feed
    refused = by_path["two-doctypes"]
    assert refused.status == FeedStatus.FAILED and refused.error_kind == "dtd_not_allowed"
    stored = rows(settings, "select title, feed_summary, text from articles")
    assert len(stored) == len(codecs)
    assert all("HAHA" not in (value or "") for row in stored for value in row)


def test_a_feed_slower_than_the_parse_limit_fails_alone(
    tmp_path: Path, server: LoopbackServer
) -> None:
    settings = make_settings(tmp_path, feeds={"parse_timeout_seconds": 0.5})
    huge = [{"title": f"Item {i}", "link": server.url(f"/h{i}")} for i in range(20_000)]
    publish(server, "/huge", huge)  # 1.8 MB; feedparser takes about 3 s on it
    publish(server, "/small", [{"title": "Small", "link": server.url("/s")}])
    page(server, "/s", "Small")
    feeds = write_feeds(tmp_path / "feeds.yaml", [server.url("/huge"), server.url("/small")])
    report = ingest(settings, feeds)
    by_path = {f.url.rsplit("/", 1)[-1]: f for f in report.feeds}
    assert by_path["huge"].status == FeedStatus.FAILED
    assert by_path["huge"].error_kind == "parse_timeout" and by_path["huge"].seconds < 2.5
    assert by_path["small"].status == FeedStatus.OK and by_path["small"].entries_new == 1
    assert rows(settings, "select kind, retryable from failures where stage = 'feed'") == [
        ("parse_timeout", False)
    ]
    assert rows(settings, "select last_error_kind from feeds where url like '%/huge'") == [
        ("parse_timeout",)
    ]


def test_republished_with_https_and_a_trailing_slash_is_the_same_article(
    tmp_path: Path, server: LoopbackServer
) -> None:
    settings = make_settings(tmp_path)
    page(server, "/story", "Story")
    first = server.url("/story")
    assert first.startswith("http://")
    publish(server, "/feed", [{"title": "Story", "link": first, "guid": "s-1"}])
    feeds = write_feeds(tmp_path / "feeds.yaml", [server.url("/feed")])
    assert ingest(settings, feeds).entry_counts()["new"] == 1
    republished = "https://" + first.removeprefix("http://") + "/"
    publish(server, "/feed", [{"title": "Story", "link": republished, "guid": "s-1"}])
    again = ingest(settings, feeds).entry_counts()
    assert again["new"] == 0 and again["duplicate"] == 1
    assert rows(settings, "select url from articles") == [(first,)]  # the fetched URL is kept
    assert len(server.hits("/story")) == 1
