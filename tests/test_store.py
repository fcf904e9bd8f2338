"""The store: migrations match the models, schema checks, concurrent writers, PostgreSQL."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text

from pipeline.errors import SchemaMismatch, StoreError
from pipeline.records import FeedEntry, FeedSpec
from pipeline.store.articles import store_entry
from pipeline.store.db import (
    alembic_config,
    create_store_engine,
    head_revision,
    open_engine,
    upgrade,
)
from pipeline.store.feeds import load_feeds, sync_feeds
from pipeline.store.runs import table_counts
from pipeline.store.tables import Base

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)
PG_URL = os.environ.get(
    "DYAD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def postgres_reachable() -> bool:
    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 2})
        with engine.connect():
            pass
        engine.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'dyad.db'}"
    if not postgres_reachable():
        pytest.skip(f"no PostgreSQL reachable at {PG_URL} (set DYAD_TEST_POSTGRES_URL)")
    engine = create_engine(PG_URL)
    with engine.begin() as conn:  # a clean schema for this test
        conn.execute(text("DROP SCHEMA IF EXISTS dyad_test CASCADE"))
        conn.execute(text("CREATE SCHEMA dyad_test"))
    engine.dispose()
    return PG_URL + ("&" if "?" in PG_URL else "?") + "options=-csearch_path%3Ddyad_test"


def entry(n: int, link: str | None = None, title: str = "") -> FeedEntry:
    return FeedEntry(
        entry_key=f"k{n}",
        guid=f"g{n}",
        link=link or f"https://n.example/{n}",
        canonical_url=link or f"https://n.example/{n}",
        title=title or f"T{n}",
        content_hash=f"h{n}",
    )


def test_migrations_match_the_models(db_url: str) -> None:
    engine = open_engine(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def test_old_revision_fails_fast_naming_both(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_store_engine(url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0000'"))
    engine.dispose()
    with pytest.raises(SchemaMismatch, match=f"0000.*{head_revision()}"):
        open_engine(url)


def test_unmanaged_database_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'foreign.db'}"
    engine = create_store_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE articles (id integer)"))
    engine.dispose()
    with pytest.raises(StoreError, match="no Alembic revision"):
        open_engine(url)


def test_upserts_are_idempotent_and_link_feeds(db_url: str) -> None:
    engine = open_engine(db_url)
    sync_feeds(
        engine,
        [
            FeedSpec(name="A", url="https://a.example/f"),
            FeedSpec(name="B", url="https://b.example/f"),
        ],
    )
    sync_feeds(engine, [FeedSpec(name="A2", url="https://a.example/f")])
    a, b = load_feeds(engine)
    assert a.name == "A2"
    assert store_entry(engine, a.id, entry(1), NOW).outcome == "new"
    assert store_entry(engine, a.id, entry(1), NOW).outcome == "duplicate"
    assert (
        store_entry(engine, b.id, entry(9, link="https://n.example/1"), NOW).outcome == "duplicate"
    )
    changed = entry(1).model_copy(update={"content_hash": "new", "title": "T1 updated"})
    assert store_entry(engine, a.id, changed, NOW).outcome == "updated"
    counts = table_counts(engine)
    assert counts["articles"] == 1 and counts["entries"] == 2
    engine.dispose()


def test_concurrent_writers_do_not_fail_or_duplicate(db_url: str) -> None:
    engine = open_engine(db_url)
    sync_feeds(engine, [FeedSpec(name="A", url="https://a.example/f")])
    (feed,) = load_feeds(engine)
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for n in range(40):
                store_entry(engine, feed.id, entry(n), NOW)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    counts = table_counts(engine)
    assert counts["articles"] == 40 and counts["entries"] == 40
    engine.dispose()


def test_nul_bytes_never_reach_the_database(db_url: str) -> None:
    from pipeline.textclean import clean_text

    engine = open_engine(db_url)
    sync_feeds(engine, [FeedSpec(name="A", url="https://a.example/f")])
    (feed,) = load_feeds(engine)
    store_entry(engine, feed.id, entry(1, title=clean_text("bad\x00title")), NOW)
    with engine.connect() as conn:
        assert conn.execute(text("select title from articles")).scalar() == "badtitle"
    engine.dispose()


def test_migrations_upgrade_from_the_first_revision(db_url: str) -> None:
    from pipeline.store.db import current_revision

    engine = create_store_engine(db_url)
    upgrade(engine, "0001")
    with engine.begin() as conn:
        conn.execute(
            text(
                "insert into feeds (url, name, tags, enabled, consecutive_failures, "
                "moved_count) values ('https://a.example/f', 'A', '[]', true, 0, 0)"
            )
        )
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        assert conn.execute(text("select name from feeds")).scalar() == "A"
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def test_two_senders_never_both_claim_a_delivery(db_url: str) -> None:
    from pipeline.store.digests import claim_delivery

    engine = open_engine(db_url)
    results: list[bool] = []
    barrier = threading.Barrier(6)

    def sender() -> None:
        barrier.wait()
        claim = claim_delivery(
            engine, "digest-2026-11-25", "a@example.org", "<m@x>", NOW, force=False
        )
        results.append(claim.claimed)

    threads = [threading.Thread(target=sender) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.dispose()
    assert results.count(True) == 1


def test_an_over_long_field_fails_alone(db_url: str) -> None:
    from sqlalchemy.exc import SQLAlchemyError

    engine = open_engine(db_url)
    sync_feeds(engine, [FeedSpec(name="A", url="https://a.example/f")])
    (feed,) = load_feeds(engine)
    store_entry(engine, feed.id, entry(1), NOW)
    too_long = entry(2).model_copy(update={"guid": "g" * 5000})
    try:
        store_entry(engine, feed.id, too_long, NOW)
        stored_long = True
    except SQLAlchemyError:
        stored_long = False  # PostgreSQL enforces the column length; SQLite does not
    store_entry(engine, feed.id, entry(3), NOW)
    counts = table_counts(engine)
    engine.dispose()
    assert counts["articles"] == (3 if stored_long else 2)
    if "postgresql" in db_url:
        assert not stored_long


def test_a_dropped_connection_is_replaced(db_url: str) -> None:
    if "postgresql" not in db_url:
        pytest.skip("connection drops are a server-side event (PostgreSQL only)")
    engine = open_engine(db_url)
    sync_feeds(engine, [FeedSpec(name="A", url="https://a.example/f")])
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:  # kill every other session of this database
        conn.execute(
            text(
                "select pg_terminate_backend(pid) from pg_stat_activity "
                "where datname = current_database() and pid <> pg_backend_pid()"
            )
        )
    admin.dispose()
    (feed,) = load_feeds(engine)  # pool_pre_ping notices and reconnects
    assert store_entry(engine, feed.id, entry(1), NOW).outcome == "new"
    engine.dispose()


def _full_scans(conn: Any, dialect: str, statement: str, parameters: Any) -> list[str]:
    """The plan lines of ``statement`` that read the whole articles or entries table.

    SQLite: ``EXPLAIN QUERY PLAN`` rows "SCAN articles" (https://sqlite.org/eqp.html).
    PostgreSQL: ``EXPLAIN`` rows "Seq Scan on articles"; with ``enable_seqscan`` off the planner
    still takes a sequential scan when no index can serve the query, so a tiny test table shows
    what a large one would get (https://www.postgresql.org/docs/current/runtime-config-query.html).
    """
    if dialect == "sqlite":
        plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
        lines = [str(row[-1]) for row in plan]
        return [line for line in lines if line.startswith(("SCAN articles", "SCAN entries"))]
    conn.exec_driver_sql("SET enable_seqscan = off")
    plan = conn.exec_driver_sql(f"EXPLAIN {statement}", parameters).all()
    lines = [str(row[0]) for row in plan]
    return [
        line for line in lines if "Seq Scan on articles" in line or "Seq Scan on entries" in line
    ]


def test_window_queries_read_no_whole_table(db_url: str) -> None:
    """The summarise and digest window queries use indexes: the query plan for each statement
    they send, on SQLite and on PostgreSQL, has no full scan of articles or entries (a scan grew
    every summarise run with the size of the store, not the window)."""
    from datetime import timedelta

    from sqlalchemy import event

    from pipeline.records import Story
    from pipeline.store.digests import ledger_counts
    from pipeline.store.stories import bilateral_articles, story_articles

    engine = open_engine(db_url)
    sync_feeds(engine, [FeedSpec(name="A", url="https://a.example/f")])
    (feed,) = load_feeds(engine)
    for i in range(1, 30):
        store_entry(engine, feed.id, entry(i, link=f"https://a.example/{i}"), NOW)
    sent: list[tuple[str, object]] = []

    def record(*args: object) -> None:
        sent.append((str(args[2]), args[3]))

    event.listen(engine, "before_cursor_execute", record)
    since, until = NOW - timedelta(days=1), NOW + timedelta(days=1)
    bilateral_articles(engine, since, until, candidates=True)
    story = Story(
        id="s1",
        dyad="IN-RU",
        article_ids=(1, 2),
        first_seen=NOW,
        last_seen=NOW,
        outlets=("A",),
        content_hash="h",
    )
    story_articles(engine, story)
    ledger_counts(engine, since, until)
    event.remove(engine, "before_cursor_execute", record)
    scans = []
    with engine.connect() as conn:
        for statement, parameters in sent:
            found = _full_scans(conn, engine.dialect.name, statement, parameters)
            scans += [(statement.split()[0:4], line) for line in found]
    engine.dispose()
    assert sent and scans == []


def test_a_feeds_entries_are_stored_in_one_commit(db_url: str) -> None:
    """A feed's entries are written in one transaction (a commit per entry was a quarter to half
    of the feeds stage on PostgreSQL), with the same outcomes as one at a time."""
    from sqlalchemy import event

    from pipeline.store.articles import store_entries

    engine = open_engine(db_url)
    sync_feeds(engine, [FeedSpec(name="A", url="https://a.example/f")])
    (feed,) = load_feeds(engine)
    commits: list[object] = []

    def count(conn: object) -> None:
        commits.append(conn)

    event.listen(engine, "commit", count)
    first = store_entries(engine, feed.id, [entry(n) for n in range(20)], NOW)
    again = store_entries(engine, feed.id, [entry(n) for n in range(20)], NOW)
    event.remove(engine, "commit", count)
    assert [o.outcome for o in first] == ["new"] * 20  # type: ignore[union-attr]
    assert [o.outcome for o in again] == ["duplicate"] * 20  # type: ignore[union-attr]
    assert len(commits) == 2
    assert table_counts(engine)["entries"] == 20
    engine.dispose()


def test_the_feeds_author_survives_the_page_extraction(tmp_path: Path) -> None:
    """The article's author comes from the feed entry; storing the page (whose metadata no
    longer includes an author) keeps it, and the page's title and site name are stored."""
    from pipeline.records import ExtractedPage
    from pipeline.store.articles import save_extraction

    engine = open_engine(f"sqlite:///{tmp_path / 'author.db'}")
    sync_feeds(engine, [FeedSpec(name="A", url="https://a.example/f")])
    (feed,) = load_feeds(engine)
    item = entry(1).model_copy(update={"authors": ("Jane Roe",)})
    article_id = store_entry(engine, feed.id, item, NOW).article_id
    page = ExtractedPage(url=item.link or "", title="Page title", site_name="A News", text="x")
    save_extraction(engine, article_id, page, "c1", NOW)
    with engine.connect() as conn:
        row = conn.execute(
            text("select author, title, site_name from articles where id = :i"), {"i": article_id}
        ).one()
    engine.dispose()
    assert tuple(row) == ("Jane Roe", "Page title", "A News")


V2_SUMMARY = {
    "schema_version": "2",
    "story_id": "IN-RU-abc",
    "dyad": "IN-RU",
    "status": "local",
    "summary": {
        "bilateral": True,
        "reject_reason": None,
        "headline": "India and Russia agree on more reactors",
        "summary": "India and Russia agreed on Monday to build two more reactors at Kudankulam.",
        "key_points": ["Rosatom signed a fuel protocol.", "Oil payments in rupees were discussed."],
        "whats_new": "The protocol was signed.",
        "background": "",
        "event_type": "AGREE",
        "actor_country": None,
        "target_country": None,
        "cooperation_score": 5,
        "actors": [],
        "agreements": [],
        "third_party_reactions": [],
    },
    "sources": [{"outlet": "Asia Ledger", "url": "https://a.example/1", "published": None}],
    "backend": "local",
    "model": "local-extractive-v4",
    "prompt_version": "story-summary-v2",
    "content_hash": "h",
}


def test_stored_schema_2_records_are_migrated_to_schema_3_and_back(db_url: str) -> None:
    """Summaries, cached replies and digests stored before schema 3 still validate after the
    upgrade (key points keep their text, with no citation; no positions are made up) and come
    back unchanged after a downgrade."""
    import json

    from pipeline.digest.model import Digest
    from pipeline.summary_record import StorySummary

    v2_digest = {
        "schema_version": "2",
        "id": "digest-2026-11-25",
        "date": "2026-11-25",
        "timezone": "UTC",
        "window_start": "2026-11-24T07:00:00Z",
        "window_end": "2026-11-25T07:00:00Z",
        "generated_at": "2026-11-25T07:00:00Z",
        "title": "Dyad",
        "dyads": [
            {
                "dyad": "IN-RU",
                "names": ["India", "Russia"],
                "importance": 1.0,
                "stories": [
                    {
                        "story_id": "IN-RU-abc",
                        "headline": "India and Russia agree on more reactors",
                        "summary": "India and Russia agreed to build two more reactors.",
                        "key_points": ["Rosatom signed a fuel protocol."],
                        "status": "local",
                        "new": True,
                        "outlets": 1,
                        "first_seen": "2026-11-24T09:30:00Z",
                        "last_seen": "2026-11-24T09:30:00Z",
                        "importance": 1.0,
                    }
                ],
            }
        ],
        "ledger": {},
    }
    engine = create_store_engine(db_url)
    upgrade(engine, "0008")
    with engine.begin() as conn:
        conn.execute(
            text(
                "insert into summaries (story_id, status, content_hash, backend, model, "
                "prompt_version, record, updated_at) values ('IN-RU-abc', 'local', 'h', 'local', "
                "'m', 'p', :r, '2026-11-24 12:00:00')"
            ),
            {"r": json.dumps(V2_SUMMARY)},
        )
        conn.execute(
            text("insert into llm_cache (key, record, created_at) values ('k', :r, :t)"),
            {"r": json.dumps(V2_SUMMARY), "t": NOW},
        )
        conn.execute(
            text(
                "insert into digests (id, window_start, window_end, generated_at, content_hash, "
                "record) values ('digest-2026-11-25', :t, :t, :t, 'h', :r)"
            ),
            {"r": json.dumps(v2_digest), "t": NOW},
        )
    upgrade(engine)
    with engine.connect() as conn:
        summary = StorySummary.model_validate(
            _json(conn.execute(text("select record from summaries")).scalar())
        )
        cached = StorySummary.model_validate(
            _json(conn.execute(text("select record from llm_cache")).scalar())
        )
        digest = Digest.model_validate(
            _json(conn.execute(text("select record from digests")).scalar())
        )
    assert summary.schema_version == cached.schema_version == digest.schema_version == "3"
    assert summary.summary is not None
    assert [(p.text, p.cites) for p in summary.summary.key_points] == [
        ("Rosatom signed a fuel protocol.", []),
        ("Oil payments in rupees were discussed.", []),
    ]
    assert summary.summary.positions == [] and summary.summary.quote is None
    assert summary.thread is None and summary.sources[0].article_id is None
    story = digest.dyads[0].stories[0]
    assert story.key_points[0].text == "Rosatom signed a fuel protocol." and not story.positions
    command.downgrade(alembic_config(engine), "0008")
    with engine.connect() as conn:
        back = _json(conn.execute(text("select record from summaries")).scalar())
        digest_back = _json(conn.execute(text("select record from digests")).scalar())
    engine.dispose()
    assert back == V2_SUMMARY
    assert digest_back["dyads"][0]["stories"][0]["key_points"] == [
        "Rosatom signed a fuel protocol."
    ]


def _json(value: object) -> dict:
    """A JSON column's value as a dict (SQLite's driver returns text, psycopg a dict)."""
    import json

    return value if isinstance(value, dict) else json.loads(str(value))


def _rows(engine: Any) -> list[Any]:
    """What a reader of the store sees of entries and articles (ids left out)."""
    with engine.connect() as conn:
        articles = conn.execute(
            text(
                "select canonical_url, url, title, status, text, text_source, entry_hash "
                "from articles order by canonical_url"
            )
        ).all()
        entries = conn.execute(
            text(
                "select f.url, e.entry_key, e.guid, a.canonical_url, e.title, e.content_hash, "
                "e.last_seen_at from entries e join feeds f on f.id = e.feed_id "
                "join articles a on a.id = e.article_id order by f.url, e.entry_key"
            )
        ).all()
    return [tuple(r) for r in articles] + [tuple(r) for r in entries]


def test_a_feed_stored_as_a_batch_equals_its_entries_stored_one_by_one(db_url: str) -> None:
    """Batched writes (issue 14): the same outcomes and rows as ``store_entry`` per entry for
    every kind of entry a feed brings (new, same article under another GUID, the same link
    under http and with a trailing slash, no link, changed, unchanged, purged), in a handful of
    statements per feed instead of about five per entry."""
    from sqlalchemy import event

    from pipeline.store.articles import store_entries
    from pipeline.store.retention import article_tombstone
    from pipeline.store.tables import TombstoneRow

    later = datetime(2026, 11, 24, 13, tzinfo=UTC)
    earlier_run = [entry(n) for n in range(4)]
    no_link = FeedEntry(entry_key="k-nolink", guid="nolink", title="Brief", content_hash="hb")
    this_run = [
        entry(0),  # unchanged
        entry(1).model_copy(update={"content_hash": "h1b", "title": "T1 updated"}),  # changed
        entry(5),  # new
        entry(6, link="https://n.example/5"),  # the same article under another GUID
        entry(7, link="http://n.example/2/"),  # an earlier article under http and a slash
        entry(8, link="https://n.example/9"),  # new ...
        entry(10, link="http://n.example/9"),  # ... and the same one under http, same batch
        entry(11, link="https://n.example/purged"),  # purged by retention
        no_link,
        *(entry(n) for n in range(20, 40)),
    ]
    outcomes, rows, statements = [], [], []
    for batched in (False, True):
        url = db_url
        if batched and url.startswith("sqlite"):
            url = url.replace("dyad.db", "batched.db")
        elif batched:
            engine = open_engine(url)
            with engine.begin() as conn:
                for table in ("entries", "articles", "tombstones"):
                    conn.execute(text(f"delete from {table}"))
            engine.dispose()
        engine = open_engine(url)
        sync_feeds(engine, [FeedSpec(name="A", url="https://a.example/f")])
        (feed,) = load_feeds(engine)
        with engine.begin() as conn:
            key = article_tombstone("https://n.example/purged")
            conn.execute(TombstoneRow.__table__.insert().values(key=key, purged_at=NOW))
        store_entries(engine, feed.id, earlier_run, NOW)
        executed: list[str] = []

        def statement(*args: Any, executed: list[str] = executed) -> None:
            executed.append(args[2])

        event.listen(engine, "before_cursor_execute", statement)
        if batched:
            got = store_entries(engine, feed.id, this_run, later)
        else:
            got = [store_entry(engine, feed.id, e, later) for e in this_run]
        event.remove(engine, "before_cursor_execute", statement)
        statements.append(len([s for s in executed if not s.startswith(("BEGIN", "COMMIT"))]))
        outcomes.append([o.outcome for o in got])  # type: ignore[union-attr]
        rows.append(_rows(engine))
        engine.dispose()
    assert outcomes[0] == outcomes[1]
    assert outcomes[1][:9] == [
        "duplicate",
        "updated",
        "new",
        "duplicate",
        "duplicate",
        "new",
        "duplicate",
        "purged",
        "new",
    ]
    assert rows[0] == rows[1]
    assert statements[0] >= 4 * len(this_run) and statements[1] <= 12
