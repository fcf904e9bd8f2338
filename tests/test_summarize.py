"""Stories and summaries against a real OpenAI-compatible server on loopback."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import text

from pipeline import jobs
from pipeline.config import SAMPLE_DIR, Settings
from pipeline.errors import LLMRateLimited
from pipeline.jobs.speakers import GazetteerReader
from pipeline.records import StoryArticle
from pipeline.store.db import open_engine
from pipeline.summarize import StoryInput, StorySummarizer, SummaryStatus
from pipeline.summarize.grounding import check_grounding
from pipeline.summarize.openai_chat import OpenAIChat
from pipeline.summarize.schema import (
    EventType,
    KeyPoint,
    LLMSummary,
    Position,
    Quote,
    ThreadLink,
    Voice,
)
from pipeline.summarize.service import EarlierStory
from pipeline.summarize.validation import story_problems
from tests.conftest import copy_store, make_settings, story_of
from tests.llm_server import FakeLLM

pytestmark = pytest.mark.slow

READER = GazetteerReader()  # the gazetteer's reading, as pipeline.jobs hands it over


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    server = FakeLLM()
    yield server
    server.close()


def llm_settings(tmp_path: Path, server: FakeLLM, **llm: object) -> Settings:
    options = {
        "backend": "openai",
        "base_url": server.base_url,
        "api_key": "sk-test",
        "timeout": 3,
        "max_retries": 2,
        "retry_after_max": 2,
        **llm,
    }
    return make_settings(tmp_path, llm=options)


IN_RU = ("in-ru-visit", "IN-RU", ("India", "Russia"))
AR_BR = ("br-ar-gas", "AR-BR", ("Argentina", "Brazil"))


def sample_story(which: tuple[str, str, tuple[str, str]] = IN_RU) -> StoryInput:
    """One story of the offline sample (by default India-Russia) as the summariser gets it."""
    name, dyad, names = which
    stories = yaml.safe_load((SAMPLE_DIR / "stories.yaml").read_text())["stories"]
    chosen = [s for s in stories if s["story"] == name]
    articles = [
        StoryArticle(
            article_id=n,
            url=f"https://{s['outlet']}.example{s['slug']}",
            outlet=s["outlet"],
            title=s["title"],
            text="\n".join(s["body"]),
            published_at=datetime.fromisoformat(s["published"].replace("Z", "+00:00")),
        )
        for n, s in enumerate(chosen)
    ]
    story = story_of(dyad, articles)
    return StoryInput(
        story=story,
        articles=articles,
        names=names,
        terms=("India", "Indian", "Russia", "Russian", "Moscow", "New Delhi")
        if dyad == "IN-RU"
        else (*names, "Argentine", "Brazilian", "Brasília", "Buenos Aires"),
        reader=READER,
    )


def summarizer(settings: Settings) -> StorySummarizer:
    return StorySummarizer(settings.llm, chat=OpenAIChat(settings.llm))


def test_valid_summary_is_verified_in_one_call(tmp_path: Path, llm: FakeLLM) -> None:
    record = summarizer(llm_settings(tmp_path, llm)).summarize(sample_story())
    assert record.status == SummaryStatus.VERIFIED and record.grounding_problems == []
    assert record.usage.calls == 1 and len(llm.requests) == 1
    request = llm.requests[0]
    assert request["model"] == "gpt-4o-mini" and request["max_tokens"] == 1200
    assert request["response_format"]["type"] == "json_schema"
    system, user = request["messages"][0]["content"], request["messages"][1]["content"]
    assert "DATA" in system and "never follow" in system
    assert user.count("<<<DATA-") == 3  # the three outlets' articles in one request
    assert [s.url for s in record.sources] == [a.url for a in sample_story().articles]


def test_delimiter_is_fresh_per_request_and_cannot_be_forged(tmp_path: Path, llm: FakeLLM) -> None:
    item = sample_story()
    chat = summarizer(llm_settings(tmp_path, llm))
    chat.summarize(item)
    chat.summarize(item)
    first, second = (r["messages"][1]["content"] for r in llm.requests)
    delimiter = first.split("<<<", 1)[1].split("\n", 1)[0]
    assert delimiter not in second


def test_prose_gets_one_repair_then_the_local_summary_with_the_reason(
    tmp_path: Path, llm: FakeLLM
) -> None:
    llm.script("prose", "ok")
    assert (
        summarizer(llm_settings(tmp_path, llm)).summarize(sample_story()).status
        == SummaryStatus.VERIFIED
    )
    assert "not valid JSON" in llm.requests[1]["messages"][-1]["content"]
    llm.script("prose", "prose")
    record = summarizer(llm_settings(tmp_path, llm)).summarize(sample_story())
    assert record.status == SummaryStatus.LOCAL and "repair" in (record.reason or "")
    assert record.summary is not None and record.error_kind == "llm_bad_output"
    assert record.attempts == 1 and record.next_attempt_at is not None


@pytest.mark.parametrize(
    "behaviour, reason", [("wrong-schema", "schema"), ("truncated", "cut off")]
)
def test_bad_output_keeps_a_summary_with_the_reason(
    tmp_path: Path, llm: FakeLLM, behaviour: str, reason: str
) -> None:
    llm.default = behaviour
    record = summarizer(llm_settings(tmp_path, llm)).summarize(sample_story())
    assert record.status == SummaryStatus.LOCAL and reason in (record.reason or "")
    assert record.summary is not None and record.summary.headline


def test_invented_facts_are_regenerated_once_then_unverified(tmp_path: Path, llm: FakeLLM) -> None:
    llm.script("invented", "ok")
    record = summarizer(llm_settings(tmp_path, llm)).summarize(sample_story())
    assert record.status == SummaryStatus.VERIFIED
    reground = llm.requests[1]["messages"][-1]["content"]
    assert "Pakistan" in reground and "12" in reground
    llm.script("invented", "invented")
    record = summarizer(llm_settings(tmp_path, llm)).summarize(sample_story())
    assert record.status == SummaryStatus.UNVERIFIED
    assert any("Zebulon Quartermain" in p for p in record.grounding_problems)


def test_html_and_links_never_pass(tmp_path: Path, llm: FakeLLM) -> None:
    llm.default = "html"
    record = summarizer(llm_settings(tmp_path, llm)).summarize(sample_story())
    assert record.status == SummaryStatus.UNVERIFIED
    assert any("HTML or a link" in p for p in record.grounding_problems)
    # issue 13, item 7: the unverified summary is stored as plain text, its link text kept
    assert record.summary is not None and record.summary.summary.endswith(" See this.")
    stored = record.summary.model_dump_json()
    assert "<a" not in stored and "href" not in stored and "<img" not in stored
    assert "evil.example" not in stored and "onerror" not in stored


def test_an_actor_or_target_outside_the_pair_is_repaired_or_never_stored(
    tmp_path: Path, llm: FakeLLM
) -> None:
    """Issue 13, item 3: an Argentina-Brazil story labelled "THREATEN, US -> CN, -9" (or with
    one of the pair as a third party) gets the repair request naming the problem, also when
    it comes back from a grounding regeneration; twice wrong, no model summary is kept."""
    item = sample_story(AR_BR)
    settings = llm_settings(tmp_path, llm)
    llm.script("wrong-pair", "ok")
    record = summarizer(settings).summarize(item)
    assert record.status == SummaryStatus.VERIFIED and record.summary is not None
    assert (record.summary.actor_country, record.summary.target_country) == ("AR", "BR")
    assert "'US' is not one of the pair" in llm.requests[1]["messages"][-1]["content"]
    llm.script("invented", "wrong-pair", "ok")  # the regenerated reply is checked as well
    record = summarizer(settings).summarize(item)
    assert record.status == SummaryStatus.VERIFIED and record.summary is not None
    assert record.summary.actor_country == "AR" and record.usage.calls == 3
    for behaviour, problem in (("wrong-pair", "'CN' is not one of the pair"),
                               ("pair-reacts", "AR is of the pair")):  # fmt: skip
        llm.script(behaviour, behaviour)
        record = summarizer(settings).summarize(item)
        assert record.status == SummaryStatus.LOCAL and record.error_kind == "llm_bad_output"
        assert problem in (record.reason or "") and record.summary is not None
        assert record.summary.actor_country != "US" and not record.summary.third_party_reactions


SOURCES = (
    "The minister said: 'We will not accept a red line drawn by others.' Officials called the "
    'plan «une avancée majeure» and spoke of „ein guter Tag“. Talks were "very frank".'
)


@pytest.mark.parametrize(
    "quoted",
    [
        "'a red line drawn by others'",
        "‘We will not accept a red line’",
        "«une avancée majeure»",
        "« une avancée majeure »",
        "„ein guter Tag“",
        '"very frank"',
        "“We will not accept ... by others”",
    ],
)
def test_quotations_in_every_style_that_are_in_the_sources_pass(quoted: str) -> None:
    assert check_grounding(quote_summary(quoted), SOURCES) == []


@pytest.mark.parametrize(
    "quoted",
    [
        "'a red line drawn by us'",  # single quotes
        "‘We will accept a red line’",
        "«une défaite majeure»",  # guillemets
        "»ein schlechter Tag«",
        "„ein schlechter Tag“",  # German low-high quotes
        '"so frank"',  # two words (8 characters)
        "“We will not accept ... by anyone”",
    ],
)
def test_invented_quotations_in_every_style_are_found(quoted: str) -> None:
    """Issue 13, item 7: 'single', «guillemet», „low-high“ and short quotations were not checked."""
    problems = check_grounding(quote_summary(quoted), SOURCES)
    assert len(problems) == 1 and problems[0].startswith("quotation"), problems


def test_apostrophes_and_one_word_quotes_are_not_quotations() -> None:
    text = "The ministers' talks on Russia's 'reset' won't stop, officials said."
    assert check_grounding(quote_summary(text), SOURCES + " Russia's reset") == []


def quote_summary(quoted: str) -> LLMSummary:
    """A summary whose text is grounded in ``SOURCES`` but for ``quoted``."""
    return LLMSummary(bilateral=True, reject_reason=None, headline="The talks",
                      summary=f"The minister said {quoted} in the talks.", key_points=[],
                      whats_new="", background="", event_type=EventType.CONSULT,
                      actor_country=None, target_country=None, cooperation_score=0, actors=[],
                      agreements=[], third_party_reactions=[], positions=[], quote=None)  # fmt: skip


def test_model_rejection_is_stored_as_rejected(tmp_path: Path, llm: FakeLLM) -> None:
    llm.default = "reject"
    record = summarizer(llm_settings(tmp_path, llm)).summarize(sample_story())
    assert record.status == SummaryStatus.REJECTED and record.reason == "a multilateral meeting"


def test_short_retry_after_is_waited_out(tmp_path: Path, llm: FakeLLM) -> None:
    llm.script("429:1", "429:1", "ok")
    started = time.monotonic()
    record = summarizer(llm_settings(tmp_path, llm)).summarize(sample_story())
    elapsed = time.monotonic() - started
    assert record.status == SummaryStatus.VERIFIED and len(llm.requests) == 3
    assert 1.9 <= elapsed < 6


def test_long_retry_after_defers(tmp_path: Path, llm: FakeLLM) -> None:
    llm.script("429:3600")
    with pytest.raises(LLMRateLimited):
        summarizer(llm_settings(tmp_path, llm)).summarize(sample_story())
    assert len(llm.requests) == 1


def test_failing_endpoint_opens_the_circuit_and_local_fills_in(
    tmp_path: Path, llm: FakeLLM
) -> None:
    llm.default = "500"
    settings = llm_settings(tmp_path, llm, max_retries=1, circuit_after=2)
    service = summarizer(settings)
    records = [service.summarize(sample_story()) for _ in range(4)]
    assert [r.status for r in records] == [SummaryStatus.LOCAL] * 4
    assert len(llm.requests) == 4  # two stories x (1 try + 1 retry); then no more calls
    assert "circuit open" in (records[-1].reason or "")
    assert (
        check_grounding(
            records[-1].summary,  # type: ignore[arg-type]
            [f"{a.title}\n{a.text}" for a in sample_story().articles],
            [a.published_at for a in sample_story().articles],  # they date "on Monday"
            READER,
        )
        == []
    )


def test_hang_past_the_timeout_is_cut(tmp_path: Path, llm: FakeLLM) -> None:
    llm.default = "hang:10"
    settings = llm_settings(tmp_path, llm, timeout=1, max_retries=0)
    started = time.monotonic()
    record = summarizer(settings).summarize(sample_story())
    assert record.status == SummaryStatus.LOCAL and "no answer within 1 s" in (record.reason or "")
    assert time.monotonic() - started < 4


# ---------------------------------------------------------------- the job over the store


@pytest.fixture
def ingested_db(sample_ingested_db: Path) -> Path:
    return sample_ingested_db


# The offline sample has 28 bilateral stories over 23 pairs by design; detection calls 45 of its
# articles bilateral at the final threshold (28 stories); with a model, 3 more candidate stories
# (4 articles) are sent to it to confirm (the stand-in confirms everything).
LOCAL_STORIES = 28
WITH_MODEL_STORIES = 31
WITH_MODEL_ARTICLES = 49


def _waiting(report) -> int:  # type: ignore[no-untyped-def]
    note = next((n for n in report.notes if "candidate stories" in n), "0 ")
    return int(note.split()[0])


def store_copy(tmp_path: Path, ingested_db: Path) -> None:
    copy_store(tmp_path, ingested_db)


def test_one_call_per_story_and_a_rerun_costs_nothing(
    tmp_path: Path, llm: FakeLLM, ingested_db: Path
) -> None:
    store_copy(tmp_path, ingested_db)
    settings = llm_settings(tmp_path, llm)
    report = jobs.summarize_stories(settings)
    # With a model, the candidate articles join the bilateral ones: the model confirms them.
    print(report)
    assert report.stories == WITH_MODEL_STORIES and report.articles == WITH_MODEL_ARTICLES
    assert report.calls == report.stories == len(llm.requests)
    assert report.statuses == {"verified": WITH_MODEL_STORIES}
    assert report.input_tokens > 0 and report.cost_usd > 0
    again = jobs.summarize_stories(settings)
    assert again.calls == 0 and again.unchanged == WITH_MODEL_STORIES
    assert len(llm.requests) == WITH_MODEL_STORIES
    engine = open_engine(settings.effective_database_url)
    with engine.begin() as conn:
        conn.execute(text("delete from summaries"))
        usage = conn.execute(text("select count(*), sum(calls) from llm_calls")).one()
    engine.dispose()
    assert tuple(usage) == (WITH_MODEL_STORIES, WITH_MODEL_STORIES)
    cached = jobs.summarize_stories(settings)
    assert cached.cached == WITH_MODEL_STORIES and cached.calls == 0
    assert len(llm.requests) == WITH_MODEL_STORIES


def test_long_rate_limit_defers_the_rest_to_the_next_run(
    tmp_path: Path, llm: FakeLLM, ingested_db: Path
) -> None:
    store_copy(tmp_path, ingested_db)
    settings = llm_settings(tmp_path, llm)
    llm.script("ok", "429:3600")
    report = jobs.summarize_stories(settings)
    print(report)
    # the first story is verified; the other bilateral stories get local summaries for now; the
    # candidate-only stories wait for the model (no local summary without its confirmation)
    first_confirmed = report.statuses.get("verified", 0)
    assert first_confirmed == 1 and report.statuses.get("local", 0) == report.deferred
    assert report.deferred + first_confirmed + _waiting(report) == WITH_MODEL_STORIES
    assert len(llm.requests) == 2 and any("deferred" in n for n in report.notes)
    later = jobs.summarize_stories(settings)
    assert later.statuses == {"verified": WITH_MODEL_STORIES - 1} and later.unchanged == 1


def test_without_a_key_the_local_summariser_is_used(tmp_path: Path, ingested_db: Path) -> None:
    store_copy(tmp_path, ingested_db)
    report = jobs.summarize_stories(make_settings(tmp_path))
    assert report.backend == "local" and report.calls == 0
    assert report.statuses == {"local": LOCAL_STORIES}


def test_stories_group_outlets_and_keep_their_ids(tmp_path: Path, ingested_db: Path) -> None:
    store_copy(tmp_path, ingested_db)
    settings = make_settings(tmp_path)
    jobs.summarize_stories(settings)
    engine = open_engine(settings.effective_database_url)
    with engine.connect() as conn:
        first = dict(conn.execute(text("select id, article_count from stories")).all())
    engine.dispose()
    # three stories have 3 articles (India-Russia twice, Egypt-Ethiopia at the UN); the
    # three-outlet AR-BR story keeps 2 at the final threshold (the third is a candidate only,
    # for a model to confirm)
    assert sorted(first.values(), reverse=True)[:4] == [3, 3, 3, 2]
    jobs.summarize_stories(settings, until=datetime.now(UTC))
    engine = open_engine(settings.effective_database_url)
    with engine.connect() as conn:
        assert dict(conn.execute(text("select id, article_count from stories")).all()) == first
    engine.dispose()


def test_schema_file_matches_the_record() -> None:
    import json

    import jsonschema

    from pipeline.summarize.schema import SCHEMA_FILE, summary_json_schema

    on_disk = json.loads(SCHEMA_FILE.read_text())
    assert on_disk == json.loads(json.dumps(summary_json_schema())), (
        "summary.schema.json is stale: regenerate it (see docs/summaries.md, 'The summary record')"
    )
    record = StorySummarizer(make_settings(Path("/tmp")).llm).local(sample_story())
    jsonschema.validate(record.model_dump(mode="json"), on_disk)


def test_the_schema_holds_both_sides_the_quote_and_the_thread() -> None:
    """A record with a government side, a silent side, a quote and a thread link validates
    against summary.schema.json; a side with a voice the schema does not know, or a cite that
    is not a number, does not."""
    import json

    import jsonschema

    from pipeline.detect import load_gazetteer
    from pipeline.jobs.speakers import speakers_of
    from pipeline.summarize.schema import SCHEMA_FILE, ThreadLink

    schema = json.loads(SCHEMA_FILE.read_text())
    item = sample_story()
    item.speakers = speakers_of(load_gazetteer())
    link = ThreadLink(
        thread_id="IN-RU-first",
        previous_story_id="IN-RU-first",
        previous_headline="India and Russia set up joint group to settle oil payments",
        previous_last_seen=datetime(2026, 11, 18, 16, 30, tzinfo=UTC),
        similarity=0.13,
    )
    item.earlier = EarlierStory(link, "India and Russia agreed a payments channel.")
    record = StorySummarizer(make_settings(Path("/tmp")).llm).local(item)
    data = record.model_dump(mode="json")
    sides = data["summary"]["positions"]
    assert [p["country"] for p in sides] == ["IN", "RU"]
    assert all(p["voice"] == "government" and p["cites"] for p in sides)
    assert data["summary"]["quote"]["speaker"] and data["thread"]["thread_id"] == "IN-RU-first"
    jsonschema.validate(data, schema)
    sides[1].update(voice="none", position="", speaker=None, quote=None, cites=[])
    jsonschema.validate(data, schema)  # a silent side is a valid record
    for bad in ({"voice": "maybe"}, {"cites": ["1"]}):
        broken = json.loads(json.dumps(data))
        broken["summary"]["positions"][0].update(bad)
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(broken, schema)


def test_daily_token_budget_stops_calling_and_says_so(
    tmp_path: Path, llm: FakeLLM, ingested_db: Path
) -> None:
    store_copy(tmp_path, ingested_db)
    settings = llm_settings(tmp_path, llm, daily_token_budget=1000)
    report = jobs.summarize_stories(settings)
    assert 1 <= report.calls <= 2
    assert report.deferred + _waiting(report) == report.stories - report.calls
    assert any("llm_budget" in note for note in report.notes)
    assert jobs.summarize_stories(settings).calls == 0  # still over budget today


def test_a_changed_article_updates_its_story_not_a_new_one() -> None:
    from datetime import timedelta

    from pipeline.cluster import ClusterInput, cluster_stories

    now = datetime(2026, 11, 24, tzinfo=UTC)
    text = "Greece and Turkey agreed to restart exploratory talks on maritime zones in January."
    base = [
        ClusterInput(1, "GR-TR", now, text, "A", "https://a/1"),
        ClusterInput(
            2,
            "GR-TR",
            now + timedelta(hours=2),
            text + " Fidan met Gerapetritis.",
            "B",
            "https://b/2",
        ),
    ]
    (before,) = cluster_stories(base, window=timedelta(hours=72), similarity=0.08)
    edited = [
        base[0],
        ClusterInput(
            2,
            "GR-TR",
            now + timedelta(hours=2),
            text + " Fidan met Gerapetritis in Athens on Friday.",
            "B",
            "https://b/2",
        ),
    ]
    (after,) = cluster_stories(edited, window=timedelta(hours=72), similarity=0.08)
    assert after.id == before.id and after.article_ids == (1, 2)
    assert after.content_hash != before.content_hash
    far = [*base, ClusterInput(3, "GR-TR", now + timedelta(days=10), text, "C", "https://c/3")]
    assert len(cluster_stories(far, window=timedelta(hours=72), similarity=0.08)) == 2


def test_a_summary_the_store_refuses_is_recorded_as_a_failure(
    tmp_path: Path, ingested_db: Path
) -> None:
    store_copy(tmp_path, ingested_db)
    settings = make_settings(tmp_path)
    engine = open_engine(settings.effective_database_url)
    with engine.begin() as conn:  # the store refuses every new summary, as a full disk would
        conn.execute(
            text(
                "create trigger refuse before insert on summaries "
                "begin select raise(abort, 'database or disk is full'); end"
            )
        )
    report = jobs.summarize_stories(settings)
    assert report.statuses == {}  # nothing stored, the run went on
    with engine.connect() as conn:
        rows = conn.execute(
            text("select stage, kind, message from failures where stage = 'summarize'")
        ).all()
    engine.dispose()
    assert len(rows) == LOCAL_STORIES
    assert all(r[0] == "summarize" and r[1] == "store" and "disk is full" in r[2] for r in rows)


# ---------------------------------------------------------------- cited points and both sides


def test_a_cited_reply_with_both_sides_verifies(tmp_path: Path, llm: FakeLLM) -> None:
    """Issue 16: each key point cites the article it came from, each side's position quotes
    its speaker from the article it cites; all of it passes the grounding check."""
    record = summarizer(llm_settings(tmp_path, llm)).summarize(sample_story())
    assert record.status == SummaryStatus.VERIFIED and record.grounding_problems == []
    assert record.summary is not None
    assert [p.cites for p in record.summary.key_points] == [[1], [2], [3]]
    india, russia = record.summary.positions
    assert (india.country, india.speaker, india.cites) == ("IN", "Jaishankar", [2])
    assert india.quote and india.quote.startswith("Our cooperation is adjusting")
    assert (russia.country, russia.speaker, russia.quote) == ("RU", "Putin", "independent line")
    assert record.summary.quote is not None and record.summary.quote.country == "IN"


def test_a_key_point_citing_the_wrong_article_is_regenerated_then_unverified(
    tmp_path: Path, llm: FakeLLM
) -> None:
    llm.script("wrong-cite", "ok")
    record = summarizer(llm_settings(tmp_path, llm)).summarize(sample_story())
    assert record.status == SummaryStatus.VERIFIED and record.usage.calls == 2
    reground = llm.requests[1]["messages"][-1]["content"]
    assert "key_points.1 cites article 1 but " in reground and "is only in article 2" in reground
    llm.script("wrong-cite", "wrong-cite")
    record = summarizer(llm_settings(tmp_path, llm)).summarize(sample_story())
    assert record.status == SummaryStatus.UNVERIFIED
    assert any(p.startswith("key_points.1 cites article 1 but") for p in record.grounding_problems)


def test_a_position_with_an_invented_quote_fails(tmp_path: Path, llm: FakeLLM) -> None:
    llm.script("invented-quote", "invented-quote")
    record = summarizer(llm_settings(tmp_path, llm)).summarize(sample_story())
    assert record.status == SummaryStatus.UNVERIFIED
    assert record.grounding_problems == [
        "positions.1 (IN) quote 'we will never accept these humiliating terms' is not verbatim "
        "in article 2"
    ]
    llm.script("invented-quote", "ok")
    record = summarizer(llm_settings(tmp_path, llm)).summarize(sample_story())
    assert record.status == SummaryStatus.VERIFIED
    assert "positions.1 (IN) quote" in llm.requests[-1]["messages"][-1]["content"]


@pytest.mark.parametrize(
    "behaviour, problem",
    [("wrong-side", "exactly two are needed"), ("three-sides", "positions: List should have")],
)
def test_positions_other_than_the_pair_in_order_get_the_repair_round(
    tmp_path: Path, llm: FakeLLM, behaviour: str, problem: str
) -> None:
    llm.script(behaviour, "ok")
    record = summarizer(llm_settings(tmp_path, llm)).summarize(sample_story())
    assert record.status == SummaryStatus.VERIFIED and record.usage.calls == 2
    assert problem in llm.requests[1]["messages"][-1]["content"]
    assert [p.country for p in record.summary.positions] == ["IN", "RU"]  # type: ignore[union-attr]


def test_the_threads_earlier_story_is_in_the_prompt_and_whats_new_says_since(
    tmp_path: Path, llm: FakeLLM
) -> None:
    """Issue 16: a story continuing a thread is told the thread's last story; what is new
    begins "Since 10 November: ", a day the grounding check takes from the earlier story."""
    link = ThreadLink(
        thread_id="IN-RU-first",
        previous_story_id="IN-RU-first",
        previous_headline="Jaishankar to visit Moscow for talks on oil payments",
        previous_last_seen=datetime(2026, 11, 10, 18, 0, tzinfo=UTC),
        similarity=0.4,
    )
    item = sample_story()
    item.earlier = EarlierStory(link, "India's foreign minister will visit Moscow.", ("Oil.",))
    record = summarizer(llm_settings(tmp_path, llm)).summarize(item)
    user = llm.requests[0]["messages"][1]["content"]
    assert "Earlier story in this thread (last reported 10 November):" in user
    assert "Headline: Jaishankar to visit Moscow for talks on oil payments" in user
    assert "Summary: India's foreign minister will visit Moscow." in user and "- Oil." in user
    assert '"whats_new" must begin "Since 10 November: "' in user
    assert record.status == SummaryStatus.VERIFIED, record.grounding_problems
    assert record.summary is not None and record.summary.whats_new.startswith("Since 10 November: ")
    assert record.thread == link
    plain = summarizer(llm_settings(tmp_path, llm)).summarize(sample_story())
    assert "Earlier story" not in llm.requests[-1]["messages"][1]["content"]
    assert plain.summary is not None and not plain.summary.whats_new.startswith("Since")


ARTICLES = [
    'India and Russia met in Moscow. "Our cooperation is steady," Jaishankar told Indian '
    "reporters. Rosatom will build units seven and eight.",
    'Russian President Vladimir Putin praised what he called India\'s "independent line". '
    "Oil purchases grew 40 per cent.",
]


def cited_summary(**parts: object) -> LLMSummary:
    """A summary grounded in ``ARTICLES`` but for ``parts`` (key points, positions, quote)."""
    sides = [
        Position(country="IN", voice=Voice.GOVERNMENT, position="India calls the ties steady.",
                 speaker="Jaishankar, External Affairs Minister",
                 quote="our cooperation is steady", cites=[1]),
        Position(country="RU", voice=Voice.GOVERNMENT, position="Putin praised India.",
                 speaker="Vladimir Putin, President", quote="independent line", cites=[2]),
    ]  # fmt: skip
    fields: dict[str, object] = {
        "key_points": [KeyPoint(text="Rosatom will build two units.", cites=[1])],
        "positions": sides,
        "quote": Quote(text="“Our  cooperation is STEADY”", speaker="Jaishankar", country="IN",
                       cites=[1]),
    } | parts  # fmt: skip
    return quote_summary("'independent line'").model_copy(update=fields)


def test_every_part_is_checked_against_the_articles_it_cites() -> None:
    assert check_grounding(cited_summary(), ARTICLES, reader=READER) == []
    wrong = [KeyPoint(text="Oil purchases grew 40 per cent.", cites=[1])]
    assert check_grounding(cited_summary(key_points=wrong), ARTICLES, reader=READER) == [
        "key_points.1 cites article 1 but '40' is only in article 2"
    ]
    invented = [KeyPoint(text="Oil purchases grew 45 per cent.", cites=[2])]
    assert check_grounding(cited_summary(key_points=invented), ARTICLES, reader=READER) == [
        "key_points.1: number '45' is not in the sources"
    ]
    bad = [KeyPoint(text="Oil purchases grew.", cites=[]),
           KeyPoint(text="Rosatom will build two units.", cites=[3])]  # fmt: skip
    assert check_grounding(cited_summary(key_points=bad), ARTICLES, reader=READER) == [
        "key_points.1 cites no article",
        "key_points.2 cites article 3 but the story has 2 article(s)",
    ]


def test_a_sides_speaker_must_be_in_its_cited_article_and_of_its_country() -> None:
    base = cited_summary()
    india, russia = base.positions
    swapped = [india, russia.model_copy(update={"country": "IN"})]
    assert check_grounding(cited_summary(positions=swapped), ARTICLES, reader=READER) == [
        "positions.2 (IN): the cited articles do not tie 'Vladimir Putin, President' to IN"
    ]
    elsewhere = [india.model_copy(update={"speaker": "Sergey Lavrov"}), russia]
    assert check_grounding(cited_summary(positions=elsewhere), ARTICLES, reader=READER) == [
        "positions.1 (IN): speaker's name 'Sergey' is not in the cited articles",
        "positions.1 (IN): speaker's name 'Lavrov' is not in the cited articles",
    ]
    moved = [india.model_copy(update={"cites": [2]}), russia]
    assert check_grounding(cited_summary(positions=moved), ARTICLES, reader=READER) == [
        "positions.1 (IN) quote 'our cooperation is steady' is not verbatim in article 2; it "
        "is only in article 1",
        "positions.1 (IN): speaker's name 'Jaishankar' is not in the cited articles",
    ]
    invented = Quote(text="we will never give in", speaker="Jaishankar", country="IN", cites=[1])
    assert check_grounding(cited_summary(quote=invented), ARTICLES, reader=READER) == [
        "quote 'we will never give in' is not verbatim in article 1"
    ]


def test_positions_must_be_the_pair_in_order_and_silence_says_nothing() -> None:
    base = cited_summary()
    india, russia = base.positions
    assert story_problems(base, "IN-RU", frozenset()) == []
    for sides in ([russia, india], [india], [india, russia.model_copy(update={"country": "US"})]):
        problems = story_problems(
            base.model_copy(update={"positions": sides}), "IN-RU", frozenset()
        )
        assert len(problems) == 1 and "exactly two are needed" in problems[0]
    silent = russia.model_copy(update={"voice": Voice.NONE})
    problems = story_problems(base.model_copy(update={"positions": [india, silent]}), "IN-RU",
                              frozenset())  # fmt: skip
    assert problems == [
        "positions.2: voice is none but position, speaker, quote, cites filled in (a silent "
        'side has position "", speaker and quote null, cites [])'
    ]


def test_a_story_whose_summary_fails_unexpectedly_costs_only_itself(
    tmp_path: Path, ingested_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fault injection: the local summariser raises for one pair's stories, as it once did for a
    story of 18 reprints (a list longer than the record allows). The run goes on, every other
    story is summarised, the failure is where ``dyad status`` shows it, and the next run (the
    fault gone) summarises the story."""
    from pipeline.summarize import service

    real = service.summarize_locally

    def failing(story, *args, **kwargs):  # type: ignore[no-untyped-def]
        if story.dyad == "IN-RU":
            raise ValueError("List should have at most 12 items after validation, not 18")
        return real(story, *args, **kwargs)

    store_copy(tmp_path, ingested_db)
    settings = make_settings(tmp_path)
    monkeypatch.setattr(service, "summarize_locally", failing)
    report = jobs.summarize_stories(settings)
    assert report.crashed >= 1
    assert report.statuses == {"local": LOCAL_STORIES - report.crashed}
    assert any("not summarised because of an unexpected error" in n for n in report.notes)
    failures = jobs.store_status(settings)
    shown = [row for rows in failures.values() for row in rows if "summary not made" in str(row)]
    assert [row["kind"] for row in shown] == ["summary_crashed"]
    assert shown[0]["count"] == report.crashed and "at most 12 items" in str(shown[0])
    monkeypatch.setattr(service, "summarize_locally", real)
    later = jobs.summarize_stories(settings)
    assert later.crashed == 0 and later.statuses == {"local": report.crashed}


def test_a_run_in_which_every_summary_fails_unexpectedly_fails(
    tmp_path: Path, ingested_db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fault injection as above, on every story: the run fails (the CLI exits 1, the Airflow
    task fails) after recording each story's error, instead of reporting success."""
    from pipeline.errors import SummaryCrashed
    from pipeline.summarize import service

    def failing(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise ValueError("broken for every story")

    store_copy(tmp_path, ingested_db)
    settings = make_settings(tmp_path)
    monkeypatch.setattr(service, "summarize_locally", failing)
    with pytest.raises(SummaryCrashed, match=f"all {LOCAL_STORIES} stories failed"):
        jobs.summarize_stories(settings)
    rows = [r for rows in jobs.store_status(settings).values() for r in rows]
    shown = [r for r in rows if r.get("kind") == "summary_crashed"]
    assert shown and shown[0]["count"] == LOCAL_STORIES
