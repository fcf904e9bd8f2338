"""Issue 16 as a reader sees it: each story's two sides (a silent side says so), the quote with
its speaker, outlets beside every key point, "continuing" and "new" marks, the thread page in
the archive, the Atom and JSON records, and an email with every side still under its limit.

The digests are built by ``assemble_digest`` from hand-made summary records (the rows the
store would return), so what is shown is checked against what was written."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import feedparser
import jsonschema

from pipeline.digest.build import assemble_digest
from pipeline.digest.mail import EMAIL_MAX_BYTES, sent_size
from pipeline.digest.model import DIGEST_SCHEMA_FILE, Digest
from pipeline.digest.render import (
    render_atom,
    render_html,
    render_json,
    render_markdown,
    render_text,
    write_site,
)
from pipeline.summary_record import (
    EventType,
    KeyPoint,
    LLMSummary,
    Position,
    Quote,
    Source,
    StorySummary,
    SummaryStatus,
    ThreadLink,
    Voice,
)
from tests.browser import dump_dom, needs_chromium

NAMES = {"IN": "India", "RU": "Russia", "CN": "China", "US": "United States"}
SITE = "https://dyad.example/archive"
T24 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
T25 = datetime(2026, 11, 25, 5, 0, tzinfo=UTC)
SOURCES = [
    Source(outlet="World Desk", url="https://world.example/a", published=T24),
    Source(outlet="Asia Ledger", url="https://ledger.example/b", published=T24),
    Source(outlet="Meridian Post", url="https://meridian.example/c", published=T24),
]
FIRST = "IN-RU-first"
FOLLOW = "IN-RU-follow"


def summary(headline: str, text: str, **parts: object) -> LLMSummary:
    fields: dict[str, object] = {
        "bilateral": True,
        "reject_reason": None,
        "headline": headline,
        "summary": text,
        "key_points": [],
        "whats_new": "",
        "background": "",
        "event_type": EventType.CONSULT,
        "actor_country": None,
        "target_country": None,
        "cooperation_score": 2,
        "actors": [],
        "agreements": [],
        "third_party_reactions": [],
        "positions": [],
        "quote": None,
    }
    fields.update(parts)
    return LLMSummary.model_validate(fields)


def record(story_id: str, body: LLMSummary, thread: ThreadLink | None = None) -> StorySummary:
    return StorySummary(
        story_id=story_id,
        dyad=story_id[:5],
        status=SummaryStatus.VERIFIED,
        summary=body,
        sources=SOURCES,
        backend="openai",
        model="test-model",
        prompt_version="story-summary-v3",
        content_hash=story_id,
        thread=thread,
    )


def first_story() -> StorySummary:
    return record(
        FIRST,
        summary(
            "India and Russia open talks on reactor fuel",
            "Indian and Russian officials opened talks in Moscow on fuel for the Kudankulam plant.",
            key_points=[KeyPoint(text="The talks are to last two days.", cites=[1])],
            positions=[
                Position(
                    country="IN",
                    voice=Voice.PRESS,
                    position="Indian papers called the talks overdue.",
                    speaker=None,
                    quote=None,
                    cites=[2],
                ),
                Position.unheard("RU"),
            ],
        ),
    )


def follow_story() -> StorySummary:
    """Continues ``first_story``: India's minister speaks, Russia stays silent."""
    return record(
        FOLLOW,
        summary(
            "India and Russia sign the Kudankulam fuel protocol",
            "India and Russia signed a protocol on fuel supply for two new Kudankulam units.",
            whats_new="Since 24 November: the protocol was signed on the second day.",
            key_points=[
                KeyPoint(text="Rosatom will deliver the first fuel in 2028.", cites=[1, 2]),
                KeyPoint(text="Units seven and eight are to start by 2031.", cites=[3]),
            ],
            positions=[
                Position(
                    country="IN",
                    voice=Voice.GOVERNMENT,
                    position="India wants fuel deliveries guaranteed for the plant's lifetime.",
                    speaker="External Affairs Minister S. Jaishankar",
                    quote="our energy security is not negotiable",
                    cites=[1, 2],
                ),
                Position.unheard("RU"),
            ],
            quote=Quote(
                text="this protocol settles the question of fuel for a generation",
                speaker="Atomic Energy Secretary A. Kumar",
                country="IN",
                cites=[3],
            ),
        ),
        ThreadLink(
            thread_id=FIRST,
            previous_story_id=FIRST,
            previous_headline="India and Russia open talks on reactor fuel",
            previous_last_seen=T24,
            similarity=0.7,
        ),
    )


def other_story() -> StorySummary:
    return record(
        "CN-US-other",
        summary(
            "China and the United States extend the tariff pause",
            "Trade negotiators agreed in Geneva to extend the pause on new tariffs until June.",
            key_points=[KeyPoint(text="The pause now runs until the end of June.", cites=[1])],
        ),
    )


def row(story: StorySummary, seen: datetime) -> dict[str, object]:
    return {
        "id": story.story_id,
        "dyad": story.dyad,
        "first_seen": seen,
        "last_seen": seen,
        "article_count": 3,
        "outlets": ["World Desk"],
        "record": story.model_dump(mode="json"),
    }


def digest_of(day: date, rows: list[dict[str, object]]) -> Digest:
    end = datetime.combine(day, datetime.min.time(), tzinfo=UTC) + timedelta(hours=7)
    return assemble_digest(
        day=day,
        timezone="UTC",
        title="Dyad",
        window=(end - timedelta(days=1), end),
        story_rows=rows,
        trend_rows=rows,
        trend_days=7,
        ledger={},
        previous=None,
        names=NAMES,
        now=end,
        max_stories=8,
        max_dyads=40,
    )


def two_days() -> tuple[Digest, Digest]:
    """The digests of 24 Nov (the first story) and 25 Nov (its follow-up and a new story)."""
    older = digest_of(date(2026, 11, 24), [row(first_story(), T24 - timedelta(hours=2))])
    latest = digest_of(date(2026, 11, 25), [row(follow_story(), T25), row(other_story(), T25)])
    return latest, older


def visible(html: str) -> str:
    """The text a reader sees in the body, tags removed, entities and spaces normalised."""
    body = html.split("<body", 1)[1]
    text = re.sub(r"<[^>]+>", " ", body).replace("&#34;", '"').replace("&quot;", '"')
    return " ".join(text.replace("&#39;", "'").replace("&amp;", "&").split())


def test_the_email_shows_both_sides_the_quote_outlets_and_continuing_or_new() -> None:
    latest, _ = two_days()
    html = render_html(latest, SITE)
    text = visible(html)
    assert (
        "India says: India wants fuel deliveries guaranteed for the plant's lifetime. — "
        'External Affairs Minister S. Jaishankar: "our energy security is not negotiable" '
        "(World Desk, Asia Ledger)"
    ) in text
    assert "Russia: no statement in the sources" in text
    assert (
        '"this protocol settles the question of fuel for a generation" — '
        "Atomic Energy Secretary A. Kumar (Meridian Post)"
    ) in text
    assert "Rosatom will deliver the first fuel in 2028. (World Desk, Asia Ledger)" in text
    assert "Units seven and eight are to start by 2031. (Meridian Post)" in text
    assert "The pause now runs until the end of June. (World Desk)" in text
    # the two sides are two columns on a wide screen, one above the other on a phone
    assert html.count('class="sd"') == 2
    columns = html.split("@media (min-width: 481px)", 1)[1].split("}", 1)[0]
    assert ".sd" in columns and "display:inline-block" in columns.replace(" ", "")
    # the follow-up is marked continuing and linked to its thread page; the other one is new
    link = f'<a href="{SITE}/thread-{FIRST}.html">continuing since 24 Nov</a>'
    assert link in html
    assert "Since 24 Nov: The protocol was signed on the second day." in text
    other = html.split('id="CN-US"', 1)[1].split("</td>", 1)[0]
    assert ">new</span>" in other and "continuing" not in other
    assert html.split("How to read it", 1)[1].count(">new</span>") == 1
    # without an archive there is nothing to link to; the mark stays
    bare = render_html(latest)
    assert "continuing since 24 Nov</span>" in bare and "thread-" not in bare


def test_text_and_markdown_show_the_same_sides_and_marks() -> None:
    latest, _ = two_days()
    text = render_text(latest, site_url=SITE)
    assert "* India and Russia sign the Kudankulam fuel protocol [continuing since 24 Nov]" in text
    assert "  Russia: no statement in the sources\n" in text
    assert "  India says: India wants fuel deliveries guaranteed" in text
    assert '"our energy security is not negotiable" (World Desk, Asia Ledger)' in text
    assert "  - Units seven and eight are to start by 2031. (Meridian Post)" in text
    assert f"  The story so far: {SITE}/thread-{FIRST}.html" in text
    assert "* China and the United States extend the tariff pause [new]" in text
    markdown = render_markdown(latest, SITE)
    assert "\n\n**Russia:** no statement in the sources\n\n" in markdown
    assert "continuing since 24 Nov ([the story so far](<" in markdown
    assert r"- Units seven and eight are to start by 2031. \(Meridian Post\)" in markdown


def test_the_archive_has_a_thread_page_latest_first_with_the_changes_marked(
    tmp_path: Path,
) -> None:
    latest, older = two_days()
    write_site([latest, older], tmp_path, "Dyad", SITE)
    page = (tmp_path / f"thread-{FIRST}.html").read_text()
    text = visible(page)
    # running summary on top: the latest summary, then one line per earlier story
    top = text.split("The story so far", 1)[1].split("Stories", 1)[0]
    assert top.startswith(" India and Russia signed a protocol on fuel supply")
    assert "24 Nov 2026: India and Russia open talks on reactor fuel" in top
    stories = text.split("Stories", 1)[1]
    assert stories.index("sign the Kudankulam fuel protocol") < stories.index("open talks")
    # what the latest digest added is marked as new since the previous one
    assert "new in the digest of 25 Nov 2026" in text
    fresh = page.split('class="s nw"')
    assert len(fresh) == 2 and "Kudankulam fuel protocol" in fresh[1].split("</article>")[0]
    assert "Russia: no statement in the sources" in stories
    # the pair page and both digest pages link each of the thread's stories to it
    href = f'href="thread-{FIRST}.html"'
    assert (tmp_path / "dyad-IN-RU.html").read_text().count(href) == 2
    assert href in (tmp_path / "digest-2026-11-25.html").read_text()
    assert href in (tmp_path / "digest-2026-11-24.html").read_text()
    assert "thread-CN-US" not in (tmp_path / "dyad-CN-US.html").read_text()


def test_json_and_atom_carry_the_sides_quote_points_and_thread() -> None:
    latest, older = two_days()
    record = json.loads(render_json(latest))
    jsonschema.validate(record, json.loads(DIGEST_SCHEMA_FILE.read_text()))
    story = next(s for d in record["dyads"] for s in d["stories"] if s["story_id"] == FOLLOW)
    assert [p["voice"] for p in story["positions"]] == ["government", "none"]
    assert story["positions"][0]["outlets"] == ["World Desk", "Asia Ledger"]
    assert story["quote"]["speaker"] == "Atomic Energy Secretary A. Kumar"
    assert story["key_points"][1] == {
        "text": "Units seven and eight are to start by 2031.",
        "outlets": ["Meridian Post"],
    }
    assert story["thread"]["thread_id"] == FIRST
    assert story["whats_new"] == "Since 24 November: the protocol was signed on the second day."
    feed = feedparser.parse(render_atom([latest, older], "Dyad", SITE))
    assert not feed.bozo
    content = feed.entries[0].content[0].value
    assert "Russia: no statement in the sources" in content
    assert "External Affairs Minister S. Jaishankar" in content
    assert "Atomic Energy Secretary A. Kumar" in content
    assert "(World Desk, Asia Ledger)" in content
    assert f'href="{SITE}/thread-{FIRST}.html"' in content and "continuing since 24 Nov" in content


def day_of(latest: Digest, pairs: int, stories: int) -> Digest:
    """``pairs`` pairs of ``stories`` copies of the follow-up (both sides, a quote, 2 points)."""
    follow = next(s for d in latest.dyads for s in d.stories if s.story_id == FOLLOW)
    pair = next(d for d in latest.dyads if d.dyad == "IN-RU")
    copies = [
        pair.model_copy(
            update={
                "dyad": f"P{n:02d}-Q{n:02d}",
                "stories": [
                    follow.model_copy(update={"story_id": f"s{n}-{i}"}) for i in range(stories)
                ],
            }
        )
        for n in range(pairs)
    ]
    return latest.model_copy(update={"dyads": copies})


def test_a_full_size_email_with_every_side_stays_under_the_limit() -> None:
    """A 40 x 8 day of stories with both sides and a quote stays under the limit as sent; a
    12 x 2 day (the sample's size) shows both sides of every story and every key point with
    its outlets."""
    latest, _ = two_days()
    for pairs, stories in ((40, 8), (12, 2)):
        html = render_html(day_of(latest, pairs, stories), SITE)
        size = sent_size(html)
        print(f"{pairs} x {stories} stories with both sides: {size} bytes as sent")
        assert size <= EMAIL_MAX_BYTES, (pairs, stories, size)
    assert visible(html).count("Russia: no statement in the sources") == 24
    assert html.count("2031. (Meridian Post)</li>") == 24  # every story in full


SIDES_PROBE = """<!DOCTYPE html><html><body style="margin:0">{frames}<script>
var report = [], left = {count};
Array.prototype.forEach.call(document.querySelectorAll('iframe'), function (f) {{
  f.onload = function () {{
    var w = f.contentWindow, root = w.document.documentElement;
    var sides = w.document.querySelectorAll('.sd');
    var a = sides[0].getBoundingClientRect(), b = sides[1].getBoundingClientRect();
    report.push(w.innerWidth + ':' + (a.top === b.top ? 'columns' : 'stacked') + ':' +
      (root.scrollWidth <= w.innerWidth ? 'fits' : 'overflow=' + root.scrollWidth));
    if (--left === 0) {{ document.title = report.sort().join(' '); }}
  }};
}});</script></body></html>"""


@needs_chromium
def test_the_sides_are_columns_on_a_desktop_and_stacked_on_a_phone(tmp_path: Path) -> None:
    """In Chromium, the email as sent: the two sides side by side at 1200 px, one above the
    other at 360 px, and the page fits both without sideways scrolling."""
    latest, _ = two_days()
    (tmp_path / "email.html").write_text(render_html(latest, SITE), encoding="utf-8")
    frames = "".join(
        f'<iframe src="email.html" width="{width}" height="600" style="border:0"></iframe>'
        for width in (360, 1200)
    )
    probe = tmp_path / "probe.html"
    probe.write_text(SIDES_PROBE.format(frames=frames, count=2))
    title = re.search(r"<title>(.*)</title>", dump_dom(probe, tmp_path / "profile", 1300))
    assert title and title.group(1) == "1200:columns:fits 360:stacked:fits", title


def test_a_day_too_big_for_every_key_point_keeps_every_side() -> None:
    """36 pairs of one story each do not fit whole: every story still shows both sides, and
    the most important pairs (first) keep their key points with their outlets."""
    latest, _ = two_days()
    html = render_html(day_of(latest, 36, 1), SITE)
    assert sent_size(html) <= EMAIL_MAX_BYTES
    assert visible(html).count("Russia: no statement in the sources") == 36
    point = "2031. (Meridian Post)</li>"
    assert 0 < html.count(point) < 36
    body = html.split("How to read it", 1)[1]
    assert point in body.split('id="P00-Q00"', 1)[1].split("</td>", 1)[0]
    assert point not in body.split('id="P35-Q35"', 1)[1].split("</td>", 1)[0]
