"""Story threads: which earlier story of its pair a story continues, the links kept in the store
after real runs over loopback feeds, and the local summary's "Since D Month:" text."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from pipeline import jobs
from pipeline.cluster import content_words
from pipeline.config import Settings
from pipeline.records import StoryArticle
from pipeline.store.db import open_engine
from pipeline.summarize import StoryInput, StorySummarizer
from pipeline.summarize.service import EarlierStory
from pipeline.summary_record import ThreadLink
from pipeline.threads import ThreadRule, ThreadStory, choose_previous, link_stories
from tests.conftest import NOW, make_settings, story_of, write_feeds
from tests.servers import LoopbackServer, article_html, rss

# Two outlets on the agreement, the first payments under it, an arms delivery of the same pair
# (another topic) and a request to widen the agreement.
OIL_1 = [
    (
        "India and Russia agree rupee-rouble payments for crude oil",
        "India and Russia agreed on Tuesday to settle payments for Russian crude oil in rupees "
        "and roubles, officials in New Delhi said after two days of talks. Indian refiners will "
        "pay Russian suppliers through special Vostro accounts held at Indian banks, bypassing "
        "the dollar. The finance ministry said the payment mechanism would cover about 40 "
        "percent of India's crude imports from Russia.",
    ),
    (
        "India and Russia settle on national currencies for oil trade",
        "Indian and Russian negotiators from the two finance ministries agreed to move crude oil payments to rupees and roubles. "
        "State refiners Indian Oil and Bharat Petroleum are expected to be the first to use the "
        "Vostro accounts, a banker said. Russia supplied about a third of India's crude imports.",
    ),
]
OIL_2 = [
    (
        "India makes first rupee payment to Russia for crude under new deal",
        "Indian Oil Minister Hardeep Puri said on Sunday that India had made the first rupee "
        "payment to Russia for a cargo of crude oil under the settlement mechanism the two "
        "governments agreed last week, after he met Russian Deputy Prime Minister Alexander "
        "Novak in New Delhi. The payment of 9.5 billion rupees went through a Vostro account "
        "at an Indian bank. Bharat Petroleum is expected to follow with payments for two "
        "cargoes in December.",
    ),
]
OIL_3 = [
    (
        "Russia asks India to widen rupee oil payments to coal and fertiliser",
        "Russia asked India on Friday to extend the rupee payment mechanism for crude oil to coal "
        "and fertiliser imports, after Indian refiners completed their first payments through "
        "Vostro accounts. Indian officials said the request would be studied by the finance "
        "ministry.",
    ),
]
ARMS = [
    (
        "Russia tells India last S-400 squadrons will arrive next year",
        "Russian Defence Minister Andrei Belousov told Indian Defence Minister Rajnath Singh in "
        "Moscow on Monday that Russia would deliver the last two squadrons of S-400 air defence "
        "systems to India in the second half of next year. Delays caused by the war in Ukraine "
        "pushed back the schedule agreed in the 2018 contract, the two ministers said after "
        "their talks.",
    ),
]
RULE = ThreadRule()  # the defaults: 14 days, 0.10


def day(n: int, hour: int = 9) -> datetime:
    return datetime(2026, 11, n, hour, tzinfo=UTC)


def thread_story(
    story_id: str, articles: list[tuple[str, str]], first: datetime, dyad: str = "IN-RU"
) -> ThreadStory:
    last = first + timedelta(hours=len(articles) - 1)
    words = tuple(frozenset(content_words(f"{title}\n{body}")) for title, body in articles)
    return ThreadStory(story_id, dyad, first, last, words, headline=articles[0][0])


# ---------------------------------------------------------------- choosing the story continued


def test_a_follow_up_five_days_later_continues_the_story() -> None:
    first = thread_story("IN-RU-a", OIL_1, day(10))
    follow_up = thread_story("IN-RU-b", OIL_2, day(15))
    link = choose_previous(follow_up, [first], RULE)
    assert link is not None
    assert (link.previous_story_id, link.thread_id) == ("IN-RU-a", "IN-RU-a")
    assert link.previous_headline == OIL_1[0][0]
    assert link.previous_last_seen == first.last_seen and link.similarity >= RULE.similarity


def test_another_topic_of_the_same_pair_starts_its_own_thread() -> None:
    first = thread_story("IN-RU-a", OIL_1, day(10))
    arms = thread_story("IN-RU-c", ARMS, day(15))
    assert choose_previous(arms, [first], RULE) is None


def test_the_same_topic_of_another_pair_is_never_continued() -> None:
    other_pair = thread_story("CN-RU-a", OIL_1, day(10), dyad="CN-RU")
    follow_up = thread_story("IN-RU-b", OIL_2, day(15))
    assert choose_previous(follow_up, [other_pair], RULE) is None


def test_a_story_older_than_the_reach_is_not_continued() -> None:
    first = thread_story("IN-RU-a", OIL_1, day(1))
    follow_up = thread_story("IN-RU-b", OIL_2, day(16))  # 15 days after the last article
    assert choose_previous(follow_up, [first], RULE) is None
    assert choose_previous(follow_up, [first], ThreadRule(days=16)) is not None


def test_a_story_never_continues_a_later_or_overlapping_one() -> None:
    first = thread_story("IN-RU-a", OIL_1, day(10))
    later = thread_story("IN-RU-b", OIL_2, day(15))
    assert choose_previous(first, [later], RULE) is None
    overlapping = thread_story("IN-RU-d", OIL_2, first.last_seen - timedelta(minutes=5))
    assert choose_previous(overlapping, [first], RULE) is None


def test_a_chain_of_three_is_one_thread_and_each_continues_the_last() -> None:
    first = thread_story("IN-RU-a", OIL_1, day(10))
    second = thread_story("IN-RU-b", OIL_2, day(16))
    arms = thread_story("IN-RU-c", ARMS, day(16, 12))
    third = thread_story("IN-RU-z", OIL_3, day(22))
    links = link_stories([third, arms, second, first], [], RULE)
    assert links["IN-RU-a"] is None and links["IN-RU-c"] is None
    second_link, third_link = links["IN-RU-b"], links["IN-RU-z"]
    assert second_link is not None and third_link is not None
    assert second_link.previous_story_id == "IN-RU-a"
    assert third_link.previous_story_id == "IN-RU-b"  # the thread's last story, not its first
    assert second_link.thread_id == third_link.thread_id == "IN-RU-a"


def test_a_kept_link_is_not_recomputed() -> None:
    first = thread_story("IN-RU-a", OIL_1, day(10))
    arms = thread_story("IN-RU-c", ARMS, day(16))
    # stored from an earlier run as continuing the first story: it stays so
    kept = ThreadStory(
        arms.id, arms.dyad, arms.first_seen, arms.last_seen, arms.words, continues="IN-RU-a"
    )
    link = link_stories([kept], [first], RULE)["IN-RU-c"]
    assert link is not None and link.previous_story_id == "IN-RU-a"


# ---------------------------------------------------------------- "Since D Month:" (local)


def _articles(items: list[tuple[str, str]], when: datetime, first_id: int) -> list[StoryArticle]:
    return [
        StoryArticle(
            article_id=first_id + n,
            url=f"https://news.example/{first_id + n}",
            outlet=f"outlet{n}",
            title=title,
            text=body,
            published_at=when + timedelta(hours=n),
        )
        for n, (title, body) in enumerate(items)
    ]


def test_the_local_whats_new_says_only_what_is_new_since_the_earlier_story() -> None:
    earlier_summary = (
        "India and Russia agreed on Tuesday to settle payments for Russian crude oil in rupees "
        "and roubles. Indian refiners will pay Russian suppliers through special Vostro "
        "accounts held at Indian banks, bypassing the dollar."
    )
    link = ThreadLink(
        thread_id="IN-RU-a",
        previous_story_id="IN-RU-a",
        previous_headline=OIL_1[0][0],
        previous_last_seen=datetime(2026, 11, 23, 22, 30, tzinfo=UTC).astimezone(
            ZoneInfo("Asia/Kolkata")  # the digest's time zone: already 24 November there
        ),
        similarity=0.2,
    )
    repeated = (
        "Oil settlement in national currencies",
        "India and Russia agreed to settle payments for Russian crude oil in rupees and roubles, "
        "officials said. Indian Oil made the first rupee payment for a cargo of Russian crude on "
        "Sunday, worth 9.5 billion rupees.",
    )
    articles = _articles([repeated], day(29), 1)
    story = story_of("IN-RU", articles)
    terms = ("India", "Indian", "Russia", "Russian", "Moscow", "New Delhi")
    item = StoryInput(
        story=story,
        articles=articles,
        names=("India", "Russia"),
        terms=terms,
        earlier=EarlierStory(link, earlier_summary, ("The mechanism covers 40 percent.",)),
    )
    record = StorySummarizer(make_settings(Path("/nonexistent")).llm).local(item)
    assert record.summary is not None and record.thread == link
    whats_new = record.summary.whats_new
    print(whats_new)
    assert whats_new.startswith("Since 24 November: Indian Oil made the first rupee payment")
    assert "agreed to settle payments" not in whats_new  # said before: not restated
    alone = StorySummarizer(make_settings(Path("/nonexistent")).llm).local(
        StoryInput(story=story, articles=articles, names=("India", "Russia"), terms=terms)
    )
    assert alone.summary is not None and not alone.summary.whats_new.startswith("Since")
    assert alone.thread is None


# ---------------------------------------------------------------- stored after real runs


def _publish(server: LoopbackServer, stories: list[tuple[list[tuple[str, str]], datetime]]) -> None:
    """The stories' articles as pages and one feed listing them all."""
    items = []
    for n, (articles, when) in enumerate(stories):
        for m, (title, body) in enumerate(articles):
            path = f"/news/{n}-{m}"
            server.add(path, article_html(title, [body]), content_type="text/html; charset=utf-8")
            published = format_datetime(when + timedelta(hours=m))
            items.append({"title": title, "link": server.url(path), "pubDate": published})
    server.add("/feed", rss(items), headers={"Content-Type": "application/rss+xml; charset=utf-8"})


Stored = dict[str, tuple[str, str | None, str | None]]


def _stories(settings: Settings) -> tuple[Stored, dict[str, Any]]:
    """Each stored story by its articles' titles: (id, thread_id, continues); and the stored
    summary records by story id."""
    engine = open_engine(settings.effective_database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "select s.id, s.thread_id, s.continues, a.title from stories s join articles a"
                    " on a.story_id = s.id"
                )
            ).all()
            records = conn.execute(text("select story_id, record from summaries")).all()
    finally:
        engine.dispose()
    return {r.title: (r.id, r.thread_id, r.continues) for r in rows}, {
        r.story_id: r.record if isinstance(r.record, dict) else json.loads(r.record)
        for r in records
    }


@pytest.mark.slow
def test_runs_store_the_thread_and_the_summary_says_what_is_new_since(
    tmp_path: Path, server: LoopbackServer
) -> None:
    settings = make_settings(tmp_path)
    feeds = write_feeds(tmp_path / "feeds.yaml", [server.url("/feed")])
    earlier = [(OIL_1, day(10)), (OIL_2, day(16))]
    _publish(server, earlier)
    jobs.run_ingest(settings, feeds, clock=lambda: day(17))
    jobs.summarize_stories(settings, since=day(1), until=day(17), clock=lambda: day(17))
    # a week later only the new story is in the run's window: the earlier ones come from the
    # store
    _publish(server, [*earlier, (ARMS, day(20)), (OIL_3, day(22))])
    jobs.run_ingest(settings, feeds, clock=lambda: NOW)
    jobs.summarize_stories(settings, since=day(20), until=NOW, clock=lambda: NOW)
    stories, records = _stories(settings)
    first = stories[OIL_1[0][0]][0]
    second, arms, third = (stories[s[0][0]] for s in (OIL_2, ARMS, OIL_3))
    assert stories[OIL_1[1][0]] == stories[OIL_1[0][0]] == (first, first, None)
    assert second[1:] == (first, first)
    assert third[1:] == (first, second[0])
    assert arms[1:] == (arms[0], None)
    thread = records[third[0]]["thread"]
    assert thread["previous_story_id"] == second[0] and thread["thread_id"] == first
    assert thread["previous_headline"] == OIL_2[0][0]
    whats_new = records[third[0]]["summary"]["whats_new"]
    print(whats_new)
    assert whats_new.startswith("Since 16 November: ")
    # a run over everything again changes no link
    jobs.summarize_stories(settings, since=day(1), until=NOW, clock=lambda: NOW)
    assert _stories(settings)[0] == stories


@pytest.mark.slow
def test_a_story_that_gains_a_link_is_summarised_again(
    tmp_path: Path, server: LoopbackServer
) -> None:
    # threads switched on for a store whose stories were summarised without them
    feeds = write_feeds(tmp_path / "feeds.yaml", [server.url("/feed")])
    _publish(server, [(OIL_1, day(10)), (OIL_2, day(16))])
    jobs.run_ingest(make_settings(tmp_path), feeds, clock=lambda: NOW)
    window = {"since": day(1), "until": NOW, "clock": lambda: NOW}
    off = jobs.summarize_stories(make_settings(tmp_path, threads={"enabled": False}), **window)
    assert off.statuses == {"local": 2}
    stories, records = _stories(make_settings(tmp_path))
    second = stories[OIL_2[0][0]][0]
    assert stories[OIL_2[0][0]][2] is None and records[second]["thread"] is None
    on = jobs.summarize_stories(make_settings(tmp_path), **window)
    assert on.unchanged == 1 and on.statuses == {"local": 1}  # only the linked story is redone
    stories, records = _stories(make_settings(tmp_path))
    assert records[second]["thread"]["previous_story_id"] == stories[OIL_1[0][0]][0]
    assert records[second]["summary"]["whats_new"].startswith("Since 10 November: ")
    assert jobs.summarize_stories(make_settings(tmp_path), **window).unchanged == 2
