"""Each article is attributed to its own outlet: the feed on the page's site, else the first
feed that listed it (``pipeline/store/outlets.py``), on a real SQLite store."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from pipeline import jobs
from pipeline.records import FeedEntry, FeedSpec, Story
from pipeline.store.articles import store_entry
from pipeline.store.db import open_engine
from pipeline.store.feeds import load_feeds, sync_feeds
from pipeline.store.stories import story_articles
from tests.conftest import copy_store, make_settings


def test_a_story_from_two_feeds_shows_two_outlets(tmp_path: Path, sample_ingested_db: Path) -> None:
    """In the sample, World Desk's US-China page is also listed by Asia Ledger's feed (wire
    copy): the alphabetically first feed name made both articles "Asia Ledger", so the story
    showed "1 outlet(s)" beside two links. Each article is now its own feed's."""
    copy_store(tmp_path, sample_ingested_db)
    settings = make_settings(tmp_path)
    jobs.summarize_stories(settings)
    engine = open_engine(settings.effective_database_url)
    with engine.connect() as conn:
        row = conn.execute(text("select * from stories where dyad = 'CN-US'")).mappings().one()
        members = conn.execute(
            text("select id from articles where story_id = :story"), {"story": row["id"]}
        ).scalars()
        story = Story(
            id=row["id"],
            dyad="CN-US",
            article_ids=tuple(members),
            outlets=(),
            first_seen=row["first_seen"],
            last_seen=row["last_seen"],
            content_hash="h",
        )
    by_url = {a.url: a.outlet for a in story_articles(engine, story)}
    engine.dispose()
    assert sorted(json.loads(row["outlets"])) == ["Asia Ledger", "World Desk"]
    assert by_url == {
        "https://news.world-desk.example/business/2026/11/24/us-china-geneva-tariff-talks": (
            "World Desk"
        ),
        "https://www.asia-ledger.example/china/us-trade-truce-extended-chips-dispute": (
            "Asia Ledger"
        ),
    }


def test_an_article_is_its_own_sites_feeds_else_the_first_to_list_it(tmp_path: Path) -> None:
    """A page listed by an aggregator first and by its own outlet's feed (on a feeds. host)
    later is the outlet's; a page whose site has no feed here is the first listing feed's."""
    engine = open_engine(f"sqlite:///{tmp_path / 'outlets.db'}")
    sync_feeds(
        engine,
        [
            FeedSpec(name="Aardvark Aggregator", url="https://aardvark.example/all.xml"),
            FeedSpec(name="Zeta News", url="https://feeds.zeta-news.example/world.xml"),
            FeedSpec(name="Beta Daily", url="https://beta-daily.example/rss"),
        ],
    )
    feeds = {f.name: f.id for f in load_feeds(engine)}
    now = datetime(2026, 11, 24, 12, tzinfo=UTC)

    def listed(feed: str, n: int, link: str, minutes: int) -> None:
        entry = FeedEntry(
            entry_key=f"{feed}-{n}", link=link, canonical_url=link, content_hash=f"h{n}"
        )
        store_entry(engine, feeds[feed], entry, now + timedelta(minutes=minutes))

    listed("Aardvark Aggregator", 1, "https://www.zeta-news.example/world/1", 0)
    listed("Zeta News", 1, "https://www.zeta-news.example/world/1", 30)
    listed("Beta Daily", 2, "https://elsewhere.example/story/2", 0)
    listed("Aardvark Aggregator", 2, "https://elsewhere.example/story/2", 10)
    story = Story(
        id="s",
        dyad="IN-RU",
        article_ids=(1, 2),
        outlets=(),
        first_seen=now,
        last_seen=now,
        content_hash="h",
    )
    outlets = {a.url: a.outlet for a in story_articles(engine, story)}
    engine.dispose()
    assert outlets == {
        "https://www.zeta-news.example/world/1": "Zeta News",
        "https://elsewhere.example/story/2": "Beta Daily",
    }
