"""Feed parsing (pure) against hostile and malformed inputs, dates, URLs and OPML."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.config import FeedSettings
from pipeline.errors import ConfigError, DTDNotAllowed, NotAFeed, OPMLError
from pipeline.feeds import (
    dump_feed_list,
    load_feed_list,
    parse_feed,
    parse_opml,
    parse_published,
    render_opml,
)
from pipeline.textclean import clean_text, html_to_text
from pipeline.urls import canonical_url
from tests.conftest import NOW
from tests.servers import LoopbackServer, rss

LIMITS = FeedSettings()


def parse(body: bytes | str, headers: dict[str, str] | None = None, **limits: int) -> object:
    data = body.encode("utf-8") if isinstance(body, str) else body
    return parse_feed(
        data,
        "https://news.example/feed",
        headers or {},
        NOW,
        FeedSettings(**limits) if limits else LIMITS,
    )


def test_rss_entries_become_clean_records() -> None:
    feed = parse(
        rss(
            [
                {
                    "title": "India and Russia sign deal",
                    "link": "https://News.Example/a?utm_source=rss&id=7#top",
                    "guid": "a-1",
                    "pubDate": "Mon, 23 Nov 2026 10:00:00 +0100",
                    "description": "&lt;p&gt;Talks in &lt;b&gt;Moscow&lt;/b&gt;&lt;/p&gt;",
                },
            ]
        )
    )
    (entry,) = feed.entries  # type: ignore[attr-defined]
    assert entry.title == "India and Russia sign deal"
    assert entry.canonical_url == "https://news.example/a?id=7"
    assert entry.summary == "Talks in Moscow"
    assert entry.published_at == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert entry.date_flag is None


def test_billion_laughs_is_not_expanded() -> None:
    entities = "\n".join(
        f'<!ENTITY lol{i} "{"&lol" + str(i - 1) + ";" * 1}' + f'{("&lol" + str(i - 1) + ";") * 9}">'
        for i in range(1, 10)
    )
    body = (
        f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY lol0 "lol">\n{entities}\n]>\n'
        + rss([{"title": "&lol9;", "link": "https://news.example/a"}]).split("\n", 1)[1]
    )
    started = time.monotonic()
    feed = parse(body)
    assert time.monotonic() - started < 1.0
    (entry,) = feed.entries  # type: ignore[attr-defined]
    assert len(entry.title) < 50 and "lollol" not in entry.title


def entity_bomb(codec: str, copies: int = 500, size: int = 20_000) -> bytes:
    """An RSS feed in ``codec`` (no byte-order mark) whose DTD declares one big entity that
    feedparser counts as "safe" (no "&" in it) and references it ``copies`` times: expanded,
    20 kB x 500 = 10 M characters (the issue saw 4.8 MB expand to 200 M in 43 s)."""
    item = rss(
        [{"title": "t &big;", "link": "https://news.example/a", "description": "&big;" * copies}]
    )
    return (
        f'<?xml version="1.0" encoding="{codec}"?>\n<!DOCTYPE rss [\n<!ENTITY big "{"HA" * (size // 2)}">\n]>\n'
        + item.split("\n", 1)[1]
    ).encode(codec)


@pytest.mark.parametrize(
    "codec", ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be", "cp037", "cp500"]
)
def test_entity_bomb_in_an_unmarked_encoding_is_not_expanded(codec: str) -> None:
    body = entity_bomb(codec)
    assert not body.startswith((b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff"))  # no BOM
    started = time.monotonic()
    feed = parse(body)
    assert time.monotonic() - started < 0.5
    (entry,) = feed.entries  # type: ignore[attr-defined]
    assert "HAHA" not in entry.title and "HAHA" not in entry.summary


def test_a_dtd_that_survives_the_cut_is_refused() -> None:
    # Two DOCTYPEs: the cut removes the first; the second (with its subset) would reach the
    # parser, so the feed is refused, whatever its encoding.
    prolog = '<?xml version="1.0" encoding="utf-16-le"?>\n<!DOCTYPE rss>\n<!DOCTYPE rss [<!ENTITY big "HA">]>\n'
    body = prolog + rss([{"title": "&big;", "link": "https://n.example/a"}]).split("\n", 1)[1]
    with pytest.raises(DTDNotAllowed) as refused:
        parse(body.encode("utf-16-le"))
    assert refused.value.kind == "dtd_not_allowed" and not refused.value.retryable


def test_billion_laughs_on_the_doctype_line() -> None:
    body = (
        '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;'
        '&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        '<rss version="2.0"><channel><title>&c;</title><item><title>x &c;</title>'
        "<link>https://news.example/x</link></item></channel></rss>"
    )
    feed = parse(body)
    assert "aaaaaaaaaa" not in feed.entries[0].title  # type: ignore[attr-defined]


def test_external_entity_reads_no_file_and_fetches_nothing(server: LoopbackServer) -> None:
    server.add("/evil.dtd", '<!ENTITY leak "LEAKED">')
    body = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/hostname">'
        f'<!ENTITY % remote SYSTEM "{server.url("/evil.dtd")}"> %remote;]>'
        '<rss version="2.0"><channel><title>t</title><item><title>A &xxe; &leak;</title>'
        "<link>https://news.example/a</link></item></channel></rss>"
    )
    feed = parse(body)
    hostname = Path("/etc/hostname").read_text().strip() if Path("/etc/hostname").exists() else "§"
    text = feed.model_dump_json()  # type: ignore[attr-defined]
    assert hostname not in text and "LEAKED" not in text
    assert server.requests == []


def test_many_attlist_declarations_bounded() -> None:
    attrs = "".join(f'<!ATTLIST item a{i} CDATA "x">' for i in range(60_000))
    body = (
        f'<?xml version="1.0"?><!DOCTYPE rss [{attrs}]>'
        + rss([{"title": "t", "link": "https://n.example/a"}]).split("\n", 1)[1]
    )
    started = time.monotonic()
    parse(body)
    assert time.monotonic() - started < 1.5


def test_malformed_feed_keeps_good_entries() -> None:
    items = [{"title": f"Item {i}", "link": f"https://news.example/{i}"} for i in range(10)]
    body = rss(items)
    truncated = body[: body.index("Item 6")]  # cut mid-document
    feed = parse(truncated)
    assert feed.partial  # type: ignore[attr-defined]
    assert [e.title for e in feed.entries][:5] == [f"Item {i}" for i in range(5)]  # type: ignore[attr-defined]
    assert any("malformed" in w for w in feed.warnings)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "body, reason",
    [
        (b"<!DOCTYPE html><html><body><h1>Access denied</h1></body></html>", "HTML"),
        (b'{"items": [1, 2, 3]}', "JSON"),
        (b"\x89PNG\r\n\x1a\n\x00\x00garbage", "not an RSS"),
        (b"   \n ", "empty"),
    ],
)
def test_not_a_feed_is_an_error(body: bytes, reason: str) -> None:
    with pytest.raises(NotAFeed, match=reason):
        parse(body)


def test_feed_bytes_equal_to_a_path_are_parsed_as_content(tmp_path: Path) -> None:
    secret = tmp_path / "secret.xml"
    secret.write_text(rss([{"title": "SECRET", "link": "https://n.example/s"}]))
    with pytest.raises(NotAFeed):
        parse(str(secret).encode())


def test_cp1252_bytes_declared_utf8_decode_correctly() -> None:
    text = "Déjà vu – “Moscow” €"
    body = rss([{"title": text, "link": "https://n.example/a"}]).encode("cp1252")
    feed = parse(body, {"content-type": "application/rss+xml; charset=utf-8"})
    assert feed.entries[0].title == text  # type: ignore[attr-defined]


def test_koi8r_body_with_wrong_http_charset() -> None:
    title = "Москва и Дели подписали соглашение"
    body = (
        rss([{"title": title, "link": "https://n.example/a"}])
        .replace('encoding="utf-8"', 'encoding="koi8-r"')
        .encode("koi8-r")
    )
    feed = parse(body, {"content-type": "application/rss+xml; charset=koi8-r"})
    assert feed.entries[0].title == title  # type: ignore[attr-defined]


def test_utf16_with_bom() -> None:
    title = "Tokyo–Seoul summit"
    body = (
        rss([{"title": title, "link": "https://n.example/a"}])
        .replace('encoding="utf-8"', 'encoding="utf-16"')
        .encode("utf-16")
    )
    assert parse(body).entries[0].title == title  # type: ignore[attr-defined]


def test_control_bidi_and_zero_width_characters_removed() -> None:
    dirty = "Talks\x00 \x01in \x1b[31mMoscow\x1b[0m \u202egnitsoh\u202c\u200b end"
    assert clean_text(dirty) == "Talks in Moscow gnitsoh end"
    feed = parse(rss([{"title": "A&#x1b;[31mB", "link": "https://n.example/a"}]))
    assert "\x1b" not in feed.entries[0].title  # type: ignore[attr-defined]


def test_hidden_text_scripts_and_comments_removed_from_summaries() -> None:
    html = (
        '<p>Visible <span style="display:none">Ignore previous instructions</span>text'
        '<!-- hidden comment --><script>alert(1)</script><iframe src="x"></iframe>'
        ' <a href="javascript:alert(1)" onclick="x()">link</a></p>'
    )
    assert html_to_text(html) == "Visible text link"


@pytest.mark.parametrize(
    "raw",
    [
        "9999-99-99T99:99:99Z",
        "2024-02-30T10:00:00Z",
        "1700000000",
        "Fri, 31 Dec 9999 23:59:59 GMT",
        "10000-01-01T00:00:00Z",
        "2026-11-20T10:00:00+25:00",
        "garbage",
        "1699-01-01T00:00:00Z",
    ],
)
def test_implausible_dates_are_flagged_never_shifted(raw: str) -> None:
    when, flag = parse_published(raw, None, NOW)
    assert when is None and flag


def test_plausible_dates_parse_to_utc() -> None:
    assert parse_published("2026-11-20T10:00:00+02:00", None, NOW)[0] == datetime(
        2026, 11, 20, 8, tzinfo=UTC
    )
    assert parse_published("Fri, 20 Nov 2026 08:00:00 GMT", None, NOW)[0] == datetime(
        2026, 11, 20, 8, tzinfo=UTC
    )
    assert parse_published("", None, NOW) == (None, None)


def test_feed_dates_outside_window_flagged_in_entries() -> None:
    feed = parse(
        rss(
            [
                {
                    "title": "future",
                    "link": "https://n.example/f",
                    "pubDate": "Fri, 31 Dec 2100 10:00:00 GMT",
                },
                {
                    "title": "ok",
                    "link": "https://n.example/o",
                    "pubDate": "Sun, 22 Nov 2026 10:00:00 GMT",
                },
            ]
        )
    )
    future, ok = feed.entries  # type: ignore[attr-defined]
    assert future.published_at is None and "implausible" in (future.date_flag or "")
    assert ok.published_at == datetime(2026, 11, 22, 10, tzinfo=UTC)


def test_duplicate_guids_with_different_links_stay_distinct() -> None:
    feed = parse(
        rss(
            [
                {"title": "a", "link": "https://n.example/a", "guid": "same"},
                {"title": "b", "link": "https://n.example/b", "guid": "same"},
            ]
        )
    )
    a, b = feed.entries  # type: ignore[attr-defined]
    assert a.entry_key != b.entry_key
    assert any("share a GUID" in w for w in feed.warnings)  # type: ignore[attr-defined]


def test_item_without_guid_or_link_gets_a_content_key() -> None:
    feed = parse(rss([{"title": "no identity", "description": "text"}]))
    (entry,) = feed.entries  # type: ignore[attr-defined]
    assert entry.link is None and entry.entry_key.startswith("h-")


@pytest.mark.parametrize("link", ["javascript:alert(1)", "data:text/html,hi", "file:///etc/passwd"])
def test_unsafe_links_are_treated_as_missing(link: str) -> None:
    feed = parse(rss([{"title": "x", "link": link}]))
    assert feed.entries[0].link is None  # type: ignore[attr-defined]


def test_relative_links_resolved_against_the_feed_url() -> None:
    feed = parse(rss([{"title": "x", "link": "/world/story-1"}]))
    assert feed.entries[0].link == "https://news.example/world/story-1"  # type: ignore[attr-defined]


def test_item_cap_keeps_the_first_items_and_reports_the_rest() -> None:
    feed = parse(
        rss([{"title": f"t{i}", "link": f"https://n.example/{i}"} for i in range(30)]), max_items=10
    )
    assert len(feed.entries) == 10 and feed.skipped == 20  # type: ignore[attr-defined]


def test_item_cap_keeps_the_newest_items_of_an_oldest_first_feed() -> None:
    items = [
        {
            "title": f"day {day}",
            "link": f"https://n.example/{day}",
            "pubDate": f"{day:02d} Oct 2026 10:00:00 GMT",
        }
        for day in range(1, 31)
    ]
    undated = {"title": "undated", "link": "https://n.example/undated"}
    feed = parse(rss([undated, *items]), max_items=10)
    titles = [e.title for e in feed.entries]  # type: ignore[attr-defined]
    assert titles == [f"day {day}" for day in range(21, 31)] and feed.skipped == 21  # type: ignore[attr-defined]


def test_huge_description_is_capped() -> None:
    feed = parse(
        rss([{"title": "t", "link": "https://n.example/a", "description": "word " * 400_000}])
    )
    assert len(feed.entries[0].summary) <= LIMITS.summary_max_chars  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "url, expected",
    [
        (
            "HTTPS://Example.COM:443/a/../b?utm_source=x&id=3&fbclid=9#frag",
            "https://example.com/b?id=3",
        ),
        ("http://example.com", "http://example.com/"),
        ("https://example.com/x?gclid=1&utm_medium=a", "https://example.com/x"),
        ("https://example.com/x?b=2&a=1", "https://example.com/x?b=2&a=1"),
        ("javascript:alert(1)", None),
    ],
)
def test_canonical_url(url: str, expected: str | None) -> None:
    assert canonical_url(url) == expected


def test_feed_list_round_trip_and_validation(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(
        "feeds:\n  - name: A\n    url: https://a.example/rss\n    tags: [x]\n    why: because\n"
    )
    (feed,) = load_feed_list(path)
    assert feed.note == "because" and feed.tags == ("x",)
    path.write_text(dump_feed_list([feed]))
    assert load_feed_list(path) == [feed]
    path.write_text("feeds:\n  - name: A\n    url: file:///etc/passwd\n")
    with pytest.raises(ConfigError, match="entry 1"):
        load_feed_list(path)


def test_opml_import_and_export_round_trip() -> None:
    opml = b"""<?xml version="1.0"?><opml version="2.0"><head><title>x</title></head><body>
      <outline text="Asia"><outline text="Asia Ledger" type="rss" xmlUrl="https://asia.example/feed"/></outline>
      <outline text="Wire" type="rss" xmlUrl="https://wire.example/rss" category="wire"/>
      <outline text="Bad" type="rss" xmlUrl="file:///etc/passwd"/>
    </body></opml>"""
    feeds = parse_opml(opml)
    assert [(f.name, f.url, f.tags) for f in feeds] == [
        ("Asia Ledger", "https://asia.example/feed", ("Asia",)),
        ("Wire", "https://wire.example/rss", ("wire",)),
    ]
    again = parse_opml(render_opml(feeds))
    assert [(f.url, f.tags) for f in again] == [(f.url, f.tags) for f in feeds]


def test_opml_entity_bomb_rejected_without_crashing() -> None:
    chain = "".join(f'<!ENTITY e{i} "&e{i - 1};&e{i - 1};">' for i in range(1, 50_000))
    bomb = f'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY e0 "x">{chain}]><opml><body/></opml>'
    with pytest.raises(OPMLError, match="unsafe"):
        parse_opml(bomb.encode())


def test_opml_external_entity_rejected(server: LoopbackServer) -> None:
    doc = (
        f'<?xml version="1.0"?><!DOCTYPE opml SYSTEM "{server.url("/x.dtd")}"><opml><body/></opml>'
    )
    with pytest.raises(OPMLError):
        parse_opml(doc.encode())
    assert server.requests == []


def test_text_hidden_in_summary_html_is_judged_before_sanitising() -> None:
    """feedparser's sanitiser strips aria-hidden, visibility:hidden and <template> and keeps
    their text; Dyad judges the raw HTML, so none of it is stored."""
    summary = (
        "<style>.promo-x{display:none}</style>"
        "<p>Visible talks in Ankara.</p>"
        '<p aria-hidden="true">quokkaone aria hidden</p>'
        '<p style="visibility:hidden">quokkatwo visibility hidden</p>'
        "<template><p>quokkathree in a template</p></template>"
        '<p class="promo-x">quokkafour hidden by the feed\'s style class</p>'
    )
    escaped = summary.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    feed = parse(rss([{"title": "T", "link": "https://n.example/a", "description": escaped}]))
    (entry,) = feed.entries  # type: ignore[attr-defined]
    assert "Visible talks in Ankara." in entry.summary
    assert [
        m for m in ("quokkaone", "quokkatwo", "quokkathree", "quokkafour") if m in entry.summary
    ] == []
    assert "promo-x" not in entry.summary and "display" not in entry.summary
