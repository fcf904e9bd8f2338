"""Digests and delivery: built from a real store, mailed to a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import email
import json
import re
import socket
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email import policy
from pathlib import Path
from typing import Any

import feedparser
import jsonschema
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import text

from pipeline import jobs
from pipeline.config import Settings
from pipeline.digest.importance import baseline_before, pair_movement, story_importance
from pipeline.digest.lead import lead_items
from pipeline.digest.model import (
    DIGEST_SCHEMA_FILE,
    Digest,
    TrendPoint,
    digest_json_schema,
    follows,
)
from pipeline.digest.render import render_html, render_markdown, render_subject, render_text
from pipeline.store.db import open_engine
from tests.browser import dump_dom, needs_chromium
from tests.conftest import copy_store, make_settings

pytestmark = pytest.mark.slow
DAY = date(2026, 11, 25)
NOW = datetime(2026, 11, 25, 7, 30, tzinfo=UTC)


class Inbox:
    """aiosmtpd handler: records messages; refuses or greylists chosen recipients."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], bytes]] = []
        self.refuse: set[str] = set()
        self.greylist: dict[str, int] = {}
        self.asked: list[str] = []  # every RCPT TO address, accepted or not

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: Any
    ) -> str:
        self.asked.append(address)
        if address in self.refuse:
            return "550 5.1.1 no such user"
        if self.greylist.get(address, 0) > 0:
            self.greylist[address] -= 1
            return "451 4.7.1 greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), envelope.content))
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


@pytest.fixture(scope="module")
def sample_db(sample_ingested_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ingested sample with its stories summarised (local summariser)."""
    base = tmp_path_factory.mktemp("digest-sample")
    database = copy_store(base, sample_ingested_db)
    jobs.summarize_stories(
        make_settings(base),
        since=datetime(2026, 1, 1, tzinfo=UTC),
        until=datetime(2027, 1, 1, tzinfo=UTC),
    )
    return database


def settings_with_store(tmp_path: Path, sample_db: Path, **overrides: Any) -> Settings:
    copy_store(tmp_path, sample_db)
    return make_settings(tmp_path, **overrides)


def mail_settings(
    tmp_path: Path, sample_db: Path, port: int, recipients: list[dict[str, Any]]
) -> Settings:
    return settings_with_store(
        tmp_path,
        sample_db,
        smtp={
            "host": "127.0.0.1",
            "port": port,
            "security": "plain",
            "from_address": "digest@dyad.example",
            "retries": 2,
            "backoff": 0.05,
        },
        recipients=recipients,
    )


def test_digest_groups_pairs_and_validates_against_its_schema(
    tmp_path: Path, sample_db: Path
) -> None:
    settings = settings_with_store(tmp_path, sample_db)
    digest = jobs.build_digest(settings, DAY, days=30, clock=lambda: NOW)
    # the sample's 28 bilateral stories over 23 pairs (local summaries: final threshold): four
    # pairs have a follow-up some days later, one (Mexico-US) also a story on another topic
    assert len(digest.dyads) == 23 and sum(len(d.stories) for d in digest.dyads) == 28
    assert sorted(d.dyad for d in digest.dyads if len(d.stories) > 1) == [
        "AF-PK",
        "EG-ET",
        "IN-RU",
        "MX-US",
    ]
    importance = [d.importance for d in digest.dyads]
    assert importance == sorted(importance, reverse=True)
    assert max(s.outlets for d in digest.dyads for s in d.stories) == 3  # multi-outlet stories
    record = json.loads(jobs.write_outputs(settings, digest, ["json"])["json"].read_text())
    schema = json.loads(DIGEST_SCHEMA_FILE.read_text())
    assert schema == json.loads(json.dumps(digest_json_schema())), "digest.schema.json is stale"
    jsonschema.validate(record, schema)
    assert record["ledger"]["bilateral_stories"] == 28 and record["ledger"]["summaries_local"] == 28
    assert len(digest.dyads[0].trend) == 30


def test_window_is_the_24_hours_before_send_time_in_the_zone(
    tmp_path: Path, sample_db: Path
) -> None:
    settings = settings_with_store(
        tmp_path, sample_db, digest={"timezone": "Asia/Kolkata", "send_time": "06:30"}
    )
    digest = jobs.build_digest(settings, date(2026, 11, 25), clock=lambda: NOW)
    assert digest.window_end == datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
    assert (digest.window_end - digest.window_start).total_seconds() == 86400
    assert {d.dyad for d in digest.dyads} == {"IN-RU", "CN-US"}  # stories of 24 Nov (IST morning)


def test_hostile_text_and_links_are_escaped(tmp_path: Path, sample_db: Path) -> None:
    settings = settings_with_store(tmp_path, sample_db)
    engine = open_engine(settings.effective_database_url)
    with engine.begin() as conn:
        record = json.loads(
            conn.execute(text("select record from summaries where story_id like 'IN-RU%'")).scalar()
        )
        record["summary"]["headline"] = 'Talks <script>alert(1)</script> "><a href=x> 1 < 2'
        record["summary"]["summary"] = (
            "See <img src=x onerror=alert(1)> [click](javascript:alert(1))"
        )
        record["sources"][0]["url"] = "javascript:alert(1)"
        conn.execute(
            text("update summaries set record = :r where story_id like 'IN-RU%'"),
            {"r": json.dumps(record)},
        )
    engine.dispose()
    digest = jobs.build_digest(settings, DAY, days=30, clock=lambda: NOW)
    html = jobs.write_outputs(settings, digest, ["html"])["html"].read_text()
    body = html.split("<body", 1)[1]
    assert "<script>" not in html and "alert(1)" not in body and "1 &lt; 2" in body  # escaped
    assert "<img src=x" not in html and "javascript:" not in body
    assert 'href="javascript' not in html and "href=x" not in html
    markdown = render_markdown(digest)
    assert "<script>" not in markdown and "click" in markdown and "javascript:" not in markdown


def stored_record(settings: Settings, dyad: str) -> dict[str, Any]:
    engine = open_engine(settings.effective_database_url)
    with engine.connect() as conn:
        record = conn.execute(
            text("select record from summaries where story_id like :d"), {"d": f"{dyad}%"}
        ).scalar()
    engine.dispose()
    return json.loads(record) if isinstance(record, str) else dict(record)


def store_record(settings: Settings, dyad: str, record: dict[str, Any]) -> None:
    engine = open_engine(settings.effective_database_url)
    with engine.begin() as conn:
        conn.execute(
            text("update summaries set record = :r where story_id like :d"),
            {"r": json.dumps(record), "d": f"{dyad}%"},
        )
    engine.dispose()


EVIL = '<a href="http://evil.example">this</a>'


def test_an_unverified_summary_is_mailed_and_written_as_plain_text(
    tmp_path: Path, sample_db: Path, smtp: tuple[Inbox, int]
) -> None:
    """Issue 13, item 7: a model's markup and links never reach the text/plain part or the
    Markdown, whatever the summary's status (here unverified, stored by an older version)."""
    inbox, port = smtp
    settings = mail_settings(tmp_path, sample_db, port, [{"address": "analyst@example.org"}])
    record = stored_record(settings, "IN-RU")
    record["status"], record["grounding_problems"] = "unverified", ["summary contains a link"]
    record["summary"]["headline"] = "India and Russia <b>sign</b> an energy accord"
    record["summary"]["summary"] = f"India and Russia signed an accord. See {EVIL} now."
    record["summary"]["key_points"] = [
        {"text": t, "cites": [1]}
        for t in (
            "Details at [the ministry](http://evil.example/x) and www.evil.example today.",
            "&lt;a href=&quot;http://evil.example&quot;&gt;encoded&lt;/a&gt; markup too.",
        )
    ]
    store_record(settings, "IN-RU", record)
    digest = jobs.build_digest(settings, DAY, days=30, clock=lambda: NOW)
    assert jobs.send_digest(settings, digest).count("sent") == 1
    message = email.message_from_bytes(inbox.messages[0][1], policy=policy.default)
    plain = message.get_body(("plain",)).get_content()
    markdown = jobs.write_outputs(settings, digest, ["md"])["md"].read_text()
    html = message.get_body(("html",)).get_content()
    for output in (plain, markdown, html):
        assert "India and Russia signed an accord. See this now." in output
        assert "evil.example" not in output and "<b>sign" not in output and "&lt;" not in output
    for output in (plain, markdown):  # the HTML part links our sources, and only them
        assert "<a" not in output and "href" not in output
    assert "[UNVERIFIED]" in plain and "(unverified)" in markdown


def test_a_stored_actor_or_target_outside_the_pair_is_never_shown(
    tmp_path: Path, sample_db: Path
) -> None:
    """Issue 13, item 3: a summary labelling the Argentina-Brazil story "THREATEN, US -> CN, -9"
    (as a version without the pair check stored it) shows no such direction, nor a reaction
    from one of the pair."""
    settings = settings_with_store(tmp_path, sample_db)
    record = stored_record(settings, "AR-BR")
    record["status"] = "verified"
    record["summary"] |= {"event_type": "THREATEN", "actor_country": "US",
                          "target_country": "CN", "cooperation_score": -9,
                          "third_party_reactions": [
                              {"country": "AR", "stance": "oppose", "evidence": "Argentina."},
                              {"country": "BO", "stance": "support", "evidence": "Fees."}]}  # fmt: skip
    store_record(settings, "AR-BR", record)
    digest = jobs.build_digest(settings, DAY, days=30, clock=lambda: NOW)
    story = next(d for d in digest.dyads if d.dyad == "AR-BR").stories[0]
    assert (story.actor, story.target) == (None, None)
    assert [r.country for r in story.reactions] == ["BO"]
    written = jobs.write_outputs(settings, digest, ["md", "html"])
    plain = render_text(digest)
    assert "threat;" in plain
    for output in (plain, written["md"].read_text(), written["html"].read_text()):
        assert "toward CN" not in output and "United States toward China" not in output
        assert "outlet(s)" not in output and re.search(r"\b1 outlet\b", output)  # one word
    record["summary"] |= {"actor_country": "BR", "target_country": "AR"}
    store_record(settings, "AR-BR", record)
    digest = jobs.build_digest(settings, DAY, days=30, clock=lambda: NOW)
    assert "threat, Brazil toward Argentina;" in render_text(digest)


def test_atom_feed_and_archive_site(
    tmp_path: Path, sample_db: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_with_store(tmp_path, sample_db)
    jobs.build_digest(settings, date(2026, 6, 1), clock=lambda: NOW)  # an empty day
    for day in (date(2026, 11, 24), DAY):
        jobs.build_digest(settings, day, days=30, clock=lambda: NOW)
    digest = jobs.build_digest(settings, DAY, days=30, clock=lambda: NOW)
    with caplog.at_level("WARNING"):
        written = jobs.write_outputs(settings, digest, ["atom"])
    assert "digest.site_url is not set" in caplog.text
    raw = written["atom"].read_bytes()
    feed = feedparser.parse(raw)
    assert not feed.bozo and len(feed.entries) == 2  # the empty day has no entry
    entry = feed.entries[0]
    assert entry.title.startswith("Dyad · 2026-11-25")
    # the email's lead (the -6 expulsion first) and a link, not the whole email
    assert entry.summary.startswith(
        "China – United Kingdom: Britain expels Chinese diplomat over spying on Hong Kong"
    )
    assert "28 stories in 23 country pairs" in entry.summary
    # the lead's 3 to 5 stories with both sides, quote and cited points: a fraction of the
    # email's 70 kB, never the whole digest
    assert len(entry.content[0].value) < 8000 and len(raw) < 16000
    assert entry.link == "digest-2026-11-25.html" and b"dyad.invalid" not in raw
    site = written["site"].parent
    assert (site / "dyad-IN-RU.html").exists() and (site / "digest-2026-11-24.html").exists()
    assert (site / "digest-2026-06-01.html").exists()  # the archive keeps every digest
    assert "India – Russia" in (site / "index.html").read_text()


def test_atom_links_are_absolute_and_updated_is_stable_across_rebuilds(
    tmp_path: Path, sample_db: Path
) -> None:
    settings = settings_with_store(
        tmp_path, sample_db, digest={"site_url": "https://news.example/dyad"}
    )
    first = jobs.build_digest(settings, DAY, days=30, clock=lambda: NOW)
    later = NOW + timedelta(hours=5)
    again = jobs.build_digest(settings, DAY, days=30, clock=lambda: later)
    assert again.generated_at == first.generated_at == NOW  # same content, same time
    feed = feedparser.parse(jobs.write_outputs(settings, again, ["atom"])["atom"].read_bytes())
    assert not feed.bozo
    entry = feed.entries[0]
    assert entry.link == "https://news.example/dyad/digest-2026-11-25.html"
    assert entry.id == "https://news.example/dyad/digest-2026-11-25"
    assert entry.updated_parsed[:6] == NOW.timetuple()[:6]
    changed = jobs.build_digest(settings, DAY, days=2, clock=lambda: later)  # other content
    assert changed.generated_at == later


def test_atom_keeps_the_newest_60_digests() -> None:
    from pipeline.digest.model import Digest, DigestDyad, Ledger
    from pipeline.digest.render import render_atom

    story = json.loads(
        '{"story_id": "s1", "headline": "Talks", "summary": "They talked.", "status": "local",'
        ' "new": true, "outlets": 1, "first_seen": "2026-01-01T00:00:00Z",'
        ' "last_seen": "2026-01-01T00:00:00Z", "importance": 1.0}'
    )
    dyad = DigestDyad(dyad="IN-RU", names=("India", "Russia"), importance=1.0, stories=[story])
    digests = []
    for n in range(70):
        day = date(2026, 1, 1) + timedelta(days=n)
        at = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
        digests.append(
            Digest(
                id=f"digest-{day.isoformat()}",
                date=day,
                timezone="UTC",
                window_start=at,
                window_end=at,
                generated_at=at,
                title="Dyad",
                dyads=[dyad],
                ledger=Ledger(),
            )
        )
    digests.reverse()  # newest first, as the store returns them
    feed = feedparser.parse(render_atom(digests, "Dyad", "https://news.example/"))
    assert not feed.bozo and len(feed.entries) == 60
    assert feed.entries[0].title.startswith("Dyad · 2026-03-11")
    assert feed.entries[-1].title.startswith("Dyad · 2026-01-11")


def test_subscriptions() -> None:
    assert follows(["*"], "IN-RU") and follows(["IN-*"], "IN-RU") and follows(["RU-IN"], "IN-RU")
    assert not follows(["IN-*"], "CN-US") and not follows(["CN-US"], "IN-RU")


def test_mail_exactly_once_per_recipient_and_force(
    tmp_path: Path, sample_db: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    settings = mail_settings(
        tmp_path,
        sample_db,
        port,
        [
            {"address": "analyst@example.org", "name": "An Analyst"},
            {"address": "desk@example.org", "follow": ["IN-*"]},
        ],
    )
    digest = jobs.build_digest(settings, DAY, days=30, clock=lambda: NOW)
    report = jobs.send_digest(settings, digest)
    assert report.count("sent") == 2 and len(inbox.messages) == 2
    again = jobs.send_digest(settings, jobs.build_digest(settings, DAY, days=30, clock=lambda: NOW))
    assert again.count("already_sent") == 2 and len(inbox.messages) == 2
    _, raw = next(m for m in inbox.messages if m[0] == ["desk@example.org"])
    message = email.message_from_bytes(raw, policy=policy.default)
    assert message.get_content_type() == "multipart/alternative"
    parts = [p.get_content_type() for p in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    html = message.get_body(("html",)).get_content()
    assert "India – Russia" in html and "Mexico – United States" not in html  # IN-* only
    assert (
        message["Message-ID"].startswith("<digest-2026-11-25.") and "\n" not in message["Subject"]
    )
    from pipeline.store.status import status_report

    engine = open_engine(settings.effective_database_url)
    shown = status_report(engine, NOW, timedelta(days=7))["Last deliveries"]
    engine.dispose()
    assert {(d["recipient"], d["status"]) for d in shown} == {
        ("analyst@example.org", "sent"),
        ("desk@example.org", "sent"),
    }
    forced = jobs.send_digest(settings, digest, to=["desk@example.org"], force=True)
    assert forced.count("sent") == 1 and len(inbox.messages) == 3
    resent = email.message_from_bytes(inbox.messages[-1][1], policy=policy.default)
    assert resent["Message-ID"] == message["Message-ID"]


def test_one_rejected_recipient_fails_alone_and_greylisting_is_retried(
    tmp_path: Path, sample_db: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    inbox.refuse.add("gone@example.org")
    inbox.greylist["slow@example.org"] = 1
    settings = mail_settings(
        tmp_path,
        sample_db,
        port,
        [
            {"address": "gone@example.org"},
            {"address": "slow@example.org"},
            {"address": "fine@example.org"},
        ],
    )
    digest = jobs.build_digest(settings, DAY, days=30, clock=lambda: NOW)
    report = jobs.send_digest(settings, digest)
    statuses = {r.recipient: r.status for r in report.results}
    assert statuses == {
        "gone@example.org": "failed",
        "slow@example.org": "sent",
        "fine@example.org": "sent",
    }
    assert sorted(r for rcpts, _ in inbox.messages for r in rcpts) == [
        "fine@example.org",
        "slow@example.org",
    ]
    assert "550" in next(r.detail for r in report.results if r.status == "failed")  # type: ignore[operator]
    # The next run does not ask the server again about the address it refused for good (a 5xx
    # is permanent, RFC 5321 section 4.2.1), and still reports it as failed (exit 1).
    asked = len(inbox.asked)
    again = jobs.send_digest(settings, digest)
    assert {r.recipient: r.status for r in again.results}["gone@example.org"] == "failed"
    assert "refused for good" in (again.results[0].detail or "") and again.undelivered == 1
    assert "gone@example.org" not in inbox.asked[asked:]


def test_smtp_down_leaves_the_digest_pending_then_sends(tmp_path: Path, sample_db: Path) -> None:
    port = free_port()  # nothing listens yet
    settings = mail_settings(tmp_path, sample_db, port, [{"address": "analyst@example.org"}])
    digest = jobs.build_digest(settings, DAY, days=30, clock=lambda: NOW)
    report = jobs.send_digest(settings, digest)
    assert report.count("pending") == 1 and "unavailable" in (report.results[0].detail or "")
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        assert jobs.send_digest(settings, digest).count("sent") == 1
        assert len(inbox.messages) == 1
    finally:
        controller.stop()


def test_header_injection_is_impossible(
    tmp_path: Path, sample_db: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    settings = mail_settings(tmp_path, sample_db, port, [{"address": "analyst@example.org"}])
    engine = open_engine(settings.effective_database_url)
    with engine.begin() as conn:
        record = json.loads(
            conn.execute(text("select record from summaries where story_id like 'MX-US%'")).scalar()
        )
        record["summary"]["headline"] = "Pact signed\r\nBcc: victim@evil.example\r\nX-Injected: yes"
        record["summary"]["cooperation_score"] = (
            10  # make it the lead story, so it is in the subject
        )
        conn.execute(
            text("update summaries set record = :r where story_id like 'MX-US%'"),
            {"r": json.dumps(record)},
        )
    engine.dispose()
    digest = jobs.build_digest(settings, DAY, days=30, clock=lambda: NOW)
    jobs.send_digest(settings, digest)
    ((rcpts, raw),) = inbox.messages
    assert rcpts == ["analyst@example.org"]
    message = email.message_from_bytes(raw, policy=policy.default)
    assert message["X-Injected"] is None and message["Bcc"] is None
    assert "Pact signed" in message["Subject"] and "\n" not in message["Subject"]


def test_without_smtp_the_eml_is_written(tmp_path: Path, sample_db: Path) -> None:
    settings = settings_with_store(
        tmp_path, sample_db, recipients=[{"address": "analyst@example.org"}]
    )
    digest = jobs.build_digest(settings, DAY, days=30, clock=lambda: NOW)
    (result,) = jobs.send_digest(settings, digest).results
    assert result.status == "written" and Path(result.path or "").read_bytes().startswith(
        b"Subject:"
    )


def test_invalid_addresses_are_refused_when_settings_load(tmp_path: Path) -> None:
    from pipeline.errors import ConfigError

    with pytest.raises(ConfigError, match="invalid email address"):
        make_settings(tmp_path, recipients=[{"address": "reader@x\r\nRCPT TO:<victim@y>"}])
    with pytest.raises(ConfigError, match="invalid email address"):
        make_settings(tmp_path, recipients=[{"address": "not-an-address"}])


@needs_chromium
@pytest.mark.parametrize("width", [360, 1200])
def test_email_html_fits_the_screen_in_chromium(
    tmp_path: Path, sample_db: Path, width: int
) -> None:
    settings = settings_with_store(tmp_path, sample_db)
    digest = jobs.build_digest(settings, DAY, days=30, clock=lambda: NOW)
    html = jobs.write_outputs(settings, digest, ["html"])["html"]
    # headless Chromium will not make a window narrower than 500 px: an iframe gives the email
    # a real 360 px viewport (its media queries included)
    probe = html.with_name("probe.html")
    probe.write_text(
        f'<!DOCTYPE html><html><body style="margin:0"><iframe id="f" src="{html.name}" '
        f'width="{width}" height="900" style="border:0"></iframe><script>'
        "document.getElementById('f').onload = function () {"
        " var w = this.contentWindow, d = w.document.documentElement;"
        " document.title = w.innerWidth + (d.scrollWidth <= w.innerWidth ? ' fits' :"
        " ' overflow ' + d.scrollWidth); };</script></body></html>"
    )
    dom = dump_dom(probe, tmp_path / "profile", max(width, 500) + 40)
    assert f"<title>{width} fits</title>" in dom, dom[:300]


def test_a_crash_after_the_server_accepted_is_not_resent(
    tmp_path: Path, sample_db: Path, smtp: tuple[Inbox, int]
) -> None:
    """E4: the row is left "sending" (server accepted, commit lost): no automatic resend, and the
    re-run says the delivery is in doubt (exit 1), not "already_sent"."""
    from pipeline.deliver import message_id
    from pipeline.store.digests import claim_delivery

    inbox, port = smtp
    settings = mail_settings(tmp_path, sample_db, port, [{"address": "analyst@example.org"}])
    digest = jobs.build_digest(settings, DAY, days=30, clock=lambda: NOW)
    engine = open_engine(settings.effective_database_url)
    mid = message_id(digest.id, "analyst@example.org", "dyad.example")
    assert claim_delivery(engine, digest.id, "analyst@example.org", mid, NOW, force=False)
    engine.dispose()  # ... and the process dies before marking it sent
    report = jobs.send_digest(settings, digest)
    assert report.count("in_doubt") == 1 and inbox.messages == [] and report.undelivered == 1
    assert "interrupted" in (report.results[0].detail or "")
    assert jobs.send_digest(settings, digest, force=True).count("sent") == 1
    assert len(inbox.messages) == 1


# Issue 15, items 1, 2 and 4: lead first, fits the inbox, readable signals.


def sent_html_part(eml: Path) -> tuple[int, str]:
    """The HTML part of a written message: its bytes as sent (encoded body) and its text."""
    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    part = message.get_body(("html",))
    assert part is not None
    return len(part.get_payload().encode("ascii")), part.get_content()


def test_a_conflict_outranks_routine_coverage_by_more_outlets() -> None:
    """Importance weighs the score's size (conflict more), the change against the pair's
    baseline, outlets with diminishing returns and novelty."""
    conflict = story_importance(-6, 1, None, freshness=0.5, quiet_before=True)
    routine = story_importance(1, 3, None, freshness=0.5, quiet_before=True)
    assert conflict > routine
    assert story_importance(1, 3, None, 0.5, True) > story_importance(1, 1, None, 0.5, True)
    assert story_importance(-3, 1, 4.0, 0.5, False) > story_importance(-3, 1, -3.0, 0.5, False)
    assert story_importance(2, 1, None, 1.0, True) > story_importance(2, 1, None, 0.0, True)
    day = date(2026, 11, 1)
    trend = [TrendPoint(day=day + timedelta(days=i), articles=1, score=5.0) for i in range(23)]
    trend += [
        TrendPoint(day=day + timedelta(days=23 + i), articles=2, score=-4.0) for i in range(7)
    ]
    assert baseline_before(trend, day + timedelta(days=23)) == (5.0, False)
    assert pair_movement(trend, 7) == pair_movement(trend, 30) == -9.0  # at most 7 recent days
    assert pair_movement(trend[:23], 7) == 0.0  # steady: no move
    quiet = [TrendPoint(day=day + timedelta(days=i), articles=0, score=None) for i in range(29)]
    assert pair_movement([*quiet, trend[0]], 1) == 5.0  # from nothing (neutral) to +5


def test_the_lead_and_subject_put_the_conflict_first(tmp_path: Path, sample_db: Path) -> None:
    """The sample's -6 expulsion (one outlet) leads, above the +2 India-Russia visit reported
    by three outlets; the subject names countries, not ISO codes; a preheader is hidden."""
    settings = settings_with_store(tmp_path, sample_db)
    digest = jobs.build_digest(settings, DAY, days=30, clock=lambda: NOW)
    lead = lead_items(digest)
    assert 3 <= len(lead) <= 5 and lead[0].dyad.dyad == "CN-GB"
    assert lead[0].story.cooperation_score == -6 and lead[0].story.outlets == 1
    in_ru_stories = next(d for d in digest.dyads if d.dyad == "IN-RU").stories
    in_ru = next(s for s in in_ru_stories if s.headline.startswith("Putin receives"))
    assert in_ru.outlets == 3 and in_ru.cooperation_score == 2
    assert lead[0].story.importance > max(s.importance for s in in_ru_stories)
    subject = render_subject(digest)
    assert subject == (
        "China-United Kingdom: Britain expels Chinese diplomat over spying on Hong Kong "
        "activists; 22 more pairs"
    )
    html = render_html(digest)
    body = html.split("<body", 1)[1]
    hidden = body.split("</div>", 1)[0]
    assert "display:none" in hidden and "Also: Greece-Turkey: Greek and Turkish" in hidden
    lead_block = body.split("The lead", 1)[1].split("All pairs", 1)[0]
    assert lead_block.index("Britain expels") < lead_block.index("Greek and Turkish")
    # Egypt-Ethiopia: the -4 protest and the -1 appeal to the UN in the last 7 days, none before
    assert "Heating up" in lead_block and "Egypt – Ethiopia (-2.2)" in lead_block
    contents = body.split("All pairs", 1)[1].split("How to read it", 1)[0]
    assert contents.count('href="#') == len(digest.dyads) == 23
    assert 'id="CN-GB"' in body and 'id="IN-RU"' in body


def big_digest(sample: Digest) -> Digest:
    """A 40-pair day with 8 stories per pair, from the sample's real stories and trends."""
    stories = [s for d in sample.dyads for s in d.stories]
    pairs = []
    for n in range(40):
        base = sample.dyads[n % len(sample.dyads)]
        picked = [
            stories[(n * 8 + i) % len(stories)].model_copy(update={"story_id": f"s{n}-{i}"})
            for i in range(8)
        ]
        trend = [
            p.model_copy(update={"articles": (i * 7 + n) % 5}) for i, p in enumerate(base.trend)
        ]
        pairs.append(base.model_copy(update={"dyad": f"P{n:02d}-Q{n:02d}", "stories": picked,
                                             "trend": trend}))  # fmt: skip
    return sample.model_copy(update={"dyads": pairs})


def test_the_html_part_fits_under_90_kb_for_the_sample_and_a_40_pair_day(
    tmp_path: Path, sample_db: Path
) -> None:
    """Gmail clips past ~102 KB; the HTML part as sent stays under 90 KB: the sample with every
    story's summary and both sides, and a 40 x 8 day with every pair, the ledger and links to the
    web version for what does not fit."""
    settings = settings_with_store(
        tmp_path, sample_db, digest={"site_url": "https://dyad.example/archive"}
    )
    digest = jobs.build_digest(settings, DAY, days=30, clock=lambda: NOW)
    sent = jobs.send_digest(settings, digest, to=["reader@example.org"])
    size, html = sent_html_part(Path(sent.results[0].path or ""))
    assert size < 90_000, size
    assert all(s.summary[:60] in html.replace("&#39;", "'").replace("&quot;", '"')
               for d in digest.dyads for s in d.stories)  # fmt: skip
    # every key point is in the email (three per story at most) or counted at the top as in the
    # web version, which has them all
    shown = html.count("<li>")
    told = re.search(r"(\d+) more key points?, with \w+ outlets, in the web version", html)
    linked = int(told.group(1)) if told else 0
    assert shown + linked == sum(len(s.key_points) for d in digest.dyads for s in d.stories)
    assert shown >= linked
    assert html.count('class="sd"') == 2 * sum(len(d.stories) for d in digest.dyads)
    assert "Run ledger" in html and "<td title=" not in html
    assert render_html(digest, max_bytes=None).count('<div class="s"') == 28  # web: whole
    big = big_digest(digest)
    assert sum(len(d.stories) for d in big.dyads) == 320
    written = jobs.send_digest(settings, big, to=["desk@example.org"])
    size, html = sent_html_part(Path(written.results[0].path or ""))
    assert size < 90_000, size
    assert all(f'id="{d.dyad}"' in html for d in big.dyads) and "Run ledger" in html
    assert 'href="https://dyad.example/archive/digest-2026-11-25.html#P39-Q39"' in html
    assert render_html(big, max_bytes=None).count('<div class="s"') == 320  # web: whole


def test_signals_are_explained_in_words_and_survive_dark_mode(
    tmp_path: Path, sample_db: Path
) -> None:
    """Trend rows with dates and counts, a legend for the score and the event types, direction
    in country names, dark-mode styles and badges that say what their colour means."""
    settings = settings_with_store(tmp_path, sample_db)
    digest = jobs.build_digest(settings, DAY, days=30, clock=lambda: NOW)
    html = render_html(digest)
    section = html.split('id="CN-GB"', 1)[1].split('class="p dy"', 1)[0]
    assert "1 article on 1 of 30 days, 26 Oct to 24 Nov (most: 1 on 3 Nov)" in section
    assert "mean score -6 ▼ conflict" in section
    assert "sanction or expulsion · United Kingdom toward China" in section
    assert "-6 ▼ conflict</span>" in section
    legend = html.split("How to read it", 1)[1].split('class="p dy"', 1)[0]
    assert "-10 armed conflict" in legend and "+10 deep cooperation" in legend
    assert "agreement" in legend and "protest" in legend and "talks or visit" in legend
    visible = re.sub(r"<[^>]+>", " ", html.split("<body", 1)[1])
    assert not re.search(r"\b(AGREE|SANCTION|CONSULT|PROTEST)\b", visible)
    assert '<meta name="color-scheme" content="light dark">' in html
    dark = html.split("@media (prefers-color-scheme: dark)", 1)[1]
    assert ".bcoop" in dark and ".bconf" in dark  # each badge keeps its own colour
    assert "#059669" not in html and "#dc2626" not in html  # no green/red pair
    text_part = render_text(digest)
    assert "1 article on 1 of 30 days, 26 Oct to 24 Nov (most: 1 on 3 Nov)" in text_part
    assert "Score: -10 armed conflict" in text_part and "THE LEAD" in text_part


def test_the_ledger_counts_the_runs_that_fed_the_digests_stories(
    tmp_path: Path, sample_db: Path
) -> None:
    """The sample was read by one ingest run (today) of stories published in November: the
    ledger beside those stories counts that run, not "0 feeds polled, 0 articles read"."""
    settings = settings_with_store(tmp_path, sample_db)
    digest = jobs.build_digest(settings, DAY, days=30, clock=lambda: NOW)
    ledger = digest.ledger
    stories = [s for d in digest.dyads for s in d.stories]
    outlets = {src.outlet for s in stories for src in s.sources}
    assert ledger.feeds_polled == 6 and ledger.articles_read == 73  # the sample: 6 feeds, 73 pages
    assert ledger.feeds_polled >= len(outlets) and ledger.articles_read >= sum(
        len(s.sources) for s in stories
    )
    assert ledger.bilateral_stories == len(stories) == 28
    text = render_text(digest)
    assert "Feeds polled: 6" in text and "Articles read: 73" in text
    # a day with no stories in its window and no run in it has nothing to count
    empty = jobs.build_digest(settings, date(2026, 6, 1), clock=lambda: NOW)
    assert not empty.dyads and empty.ledger.feeds_polled == 0 and empty.ledger.articles_read == 0


def received(inbox: Inbox, address: str) -> tuple[bytes, email.message.EmailMessage]:
    raw = next(m for rcpt, m in inbox.messages if rcpt == [address])
    return raw, email.message_from_bytes(raw, policy=policy.default)  # type: ignore[return-value]


def test_list_headers_footer_and_one_click_as_received(
    tmp_path: Path, sample_db: Path, smtp: tuple[Inbox, int]
) -> None:
    from urllib.parse import parse_qs, urlsplit

    inbox, port = smtp
    settings = mail_settings(
        tmp_path, sample_db, port, [{"address": "desk@example.org", "follow": ["IN-*"]}]
    )
    settings = settings.model_copy(
        update={
            "digest": settings.digest.model_copy(update={"site_url": "https://news.example/dyad"}),
            "mailing": settings.mailing.model_validate(
                {"unsubscribe_endpoint": "unsubscribe", "unsubscribe_secret": "s3cret"}
            ),
        }
    )
    digest = jobs.build_digest(settings, DAY, days=30, clock=lambda: NOW)
    assert jobs.send_digest(settings, digest).count("sent") == 1
    raw, message = received(inbox, "desk@example.org")
    assert message["List-Id"] == '"Dyad digest" <dyad-digest.dyad.example>'
    one_click, mailto = [u.strip("<> ") for u in message["List-Unsubscribe"].split(",")]
    assert mailto == "mailto:digest@dyad.example?subject=unsubscribe"
    assert one_click.startswith("https://news.example/dyad/unsubscribe?")
    query = parse_qs(urlsplit(one_click).query)
    assert query["address"] == ["desk@example.org"] and query["list"] == [
        "dyad-digest.dyad.example"
    ]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert b"\nList-Unsubscribe: <https://news.example/dyad/unsubscribe?" in raw  # not encoded
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    for part in (html, text):
        assert "You get this digest because desk@example.org" in part
        assert "every pair with India" in part
        assert "https://news.example/dyad/digest-2026-11-25.html" in part  # view in browser
        assert 'subject "unsubscribe" to' in part and "digest@dyad.example" in part
    assert "View in browser" in html and "India – Russia" in html.split("You get this digest")[1]
    # the one-click endpoint checks the token with dyad unsubscribe --token
    with pytest.raises(jobs.DyadError, match="token was not made"):
        jobs.unsubscribe(settings, ["analyst@example.org"], token=query["token"][0])
    assert jobs.unsubscribe(settings, ["desk@example.org"], token=query["token"][0])
    assert [r["source"] for r in jobs.list_opt_outs(settings)] == ["one-click"]


def test_without_site_url_the_list_offers_mailto_only(
    tmp_path: Path, sample_db: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    settings = mail_settings(tmp_path, sample_db, port, [{"address": "all@example.org"}])
    jobs.send_digest(settings, jobs.build_digest(settings, DAY, days=30, clock=lambda: NOW))
    _, message = received(inbox, "all@example.org")
    assert message["List-Unsubscribe"] == "<mailto:digest@dyad.example?subject=unsubscribe>"
    assert message["List-Unsubscribe-Post"] is None and message["List-Id"]
    html = message.get_body(("html",)).get_content()
    assert "following all country pairs" in html and "View in browser" not in html


def write_mbox(path: Path, messages: list[dict[str, str]]) -> Path:
    import mailbox
    from email.message import EmailMessage

    box = mailbox.mbox(path)
    for fields in messages:
        message = EmailMessage()
        body = fields.pop("body", "")
        for name, value in fields.items():
            message[name] = value
        message.set_content(body)
        box.add(message)
    box.flush()
    box.close()
    return path


def test_an_unsubscribed_address_gets_no_mail_until_it_resubscribes(
    tmp_path: Path, sample_db: Path, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    people = ["stay@example.org", "leave@example.org", "mailed@example.org", "quoted@example.org"]
    settings = mail_settings(tmp_path, sample_db, port, [{"address": a} for a in people])
    jobs.unsubscribe(settings, ["LEAVE@example.org"], clock=lambda: NOW)
    mbox = write_mbox(
        tmp_path / "requests.mbox",
        [
            {
                "From": "Mailed <mailed@example.org>",
                "Subject": "unsubscribe",
                "Date": "Tue, 24 Nov 2026 10:00:00 +0000",
            },
            {
                "From": "quoted@example.org",
                "Subject": "Re: Dyad 2026-11-24",
                "body": "unsubscribe\n\n> You get this digest because quoted@example.org...",
            },
            {
                "From": "stay@example.org",
                "Subject": "Re: Dyad 2026-11-24",
                "body": 'Thanks!\nTo unsubscribe, send a message with the subject "unsubscribe".',
            },
            {
                "From": "MAILER-DAEMON@example.org",
                "Subject": "unsubscribe",
                "body": "Undelivered mail",
            },
            {
                "From": "stay@example.org",
                "Subject": "unsubscribe",
                "Auto-Submitted": "auto-replied",
            },
        ],
    )
    report = jobs.unsubscribe_from_mailbox(settings, mbox, clock=lambda: NOW)
    assert report.messages == 5
    assert report.unsubscribed == ("mailed@example.org", "quoted@example.org")
    assert report.ignored == 3
    digest = jobs.build_digest(settings, DAY, days=30, clock=lambda: NOW)
    result = jobs.send_digest(settings, digest, clock=lambda: NOW)
    assert [r[0] for r in inbox.messages] == [["stay@example.org"]]
    skipped = {r.recipient: r for r in result.results if r.status == "unsubscribed"}
    assert set(skipped) == {"leave@example.org", "mailed@example.org", "quoted@example.org"}
    assert "(mail)" in (skipped["mailed@example.org"].detail or "") and result.undelivered == 0
    from pipeline.store.status import status_report

    engine = open_engine(settings.effective_database_url)
    shown = status_report(engine, NOW, timedelta(days=7))["Last deliveries"]
    engine.dispose()
    assert ("leave@example.org", "unsubscribed") in {(d["recipient"], d["status"]) for d in shown}
    forced = jobs.send_digest(settings, digest, to=["leave@example.org"], force=True)
    assert forced.count("unsubscribed") == 1 and len(inbox.messages) == 1  # even with --force
    later = NOW + timedelta(hours=1)
    jobs.resubscribe(settings, ["leave@example.org", "mailed@example.org"], clock=lambda: later)
    again = jobs.unsubscribe_from_mailbox(settings, mbox, clock=lambda: later)
    assert again.outdated == ("mailed@example.org",)  # the old request does not undo it
    back = jobs.send_digest(settings, digest, clock=lambda: later)
    assert back.count("sent") == 2 and len(inbox.messages) == 3
