"""The local (no-LLM) summary reads well: whole sentences, each fact once, no key point that
says the summary again, no sentence cut from what it refers to, days with dates, and each
article attributed to its own outlet.

The article texts are written for these tests in the style of the offline sample (fiction in
the style of wire copy); each test names the fault of the earlier summariser it guards against.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from pipeline.jobs.speakers import GazetteerReader
from pipeline.records import StoryArticle
from pipeline.summarize.dates import absolute_dates
from pipeline.summarize.grounding import check_grounding
from pipeline.summarize.local import summarize_locally
from pipeline.summarize.schema import LLMSummary
from tests.conftest import story_of

TERMS = {
    "AM-AZ": ("Armenia", "Armenian", "Yerevan", "Azerbaijan", "Azerbaijani", "Baku"),
    "IN-JP": ("India", "Indian", "New Delhi", "Japan", "Japanese", "Tokyo"),
    "CN-VN": ("China", "Chinese", "Beijing", "Vietnam", "Vietnamese", "Hanoi"),
    "KE-TZ": ("Kenya", "Kenyan", "Nairobi", "Tanzania", "Tanzanian", "Dodoma"),
    "CO-VE": ("Colombia", "Colombian", "Bogotá", "Venezuela", "Venezuelan", "Caracas"),
}

READER = GazetteerReader()  # the gazetteer's reading, as pipeline.jobs hands it over


def article(n: int, published: str, outlet: str, title: str, *paragraphs: str) -> StoryArticle:
    return StoryArticle(
        article_id=n,
        url=f"https://{outlet.lower().replace(' ', '-')}.example/{n}",
        outlet=outlet,
        title=title,
        text="\n".join(paragraphs),
        published_at=datetime.fromisoformat(published),
    )


def summarize(dyad: str, *articles: StoryArticle) -> LLMSummary:
    story = story_of(dyad, articles)
    return summarize_locally(story, articles, TERMS[dyad], ())


def shown(summary: LLMSummary) -> list[str]:
    """What a reader sees of a summary: the summary paragraph, then the key points."""
    return [summary.summary, *(p.text for p in summary.key_points)]


def test_initials_do_not_cut_a_sentence() -> None:
    """The regex split "Foreign Secretary V. K. Rao's visit" after "V." and after "K.", so a
    key point read "Rao's three-day visit to Tokyo." (issue 15: "Minister S." / "Jaishankar's")."""
    summary = summarize(
        "IN-JP",
        article(
            1,
            "2026-11-18T07:30:00+00:00",
            "Asia Ledger",
            "India and Japan agree on second bullet-train corridor",
            "India and Japan agreed to begin work on a second high-speed rail corridor, the main "
            "outcome of Foreign Secretary V. K. Rao's three-day visit to Tokyo.",
            "Japanese officials said the loan for the corridor would be the largest Japan has "
            "ever extended to India. Construction is expected to start in 2028.",
            "Indian Railways said the line would link Chennai and Bengaluru in under two hours.",
        ),
    )
    assert "Foreign Secretary V. K. Rao's three-day visit to Tokyo." in summary.summary
    assert not [p for p in shown(summary) if p.startswith(("K.", "Rao's"))]


@pytest.mark.parametrize("fuller_first", [True, False])
def test_the_same_fact_from_two_outlets_is_said_once_in_the_fuller_words(
    fuller_first: bool,
) -> None:
    """ "each freed 32 detainees" and "Sixty-four detainees went home" are one fact (the same
    figure, 2 x 32, the same day, the same exchange): the summary says it once, in the words
    with more facts (figures and names), whichever outlet published first."""
    fuller = (
        "Armenia and Azerbaijan each freed 32 detainees on Wednesday at the Ijevan checkpoint "
        "in the first exchange since the peace treaty was initialled, officials in Yerevan and "
        "Baku said."
    )
    shorter = (
        "Sixty-four detainees went home on Wednesday after Azerbaijan and Armenia completed a "
        "prisoner exchange."
    )
    first = article(
        1,
        "2026-11-19T09:00:00+00:00",
        "Caucasus Wire",
        "Armenia and Azerbaijan swap detainees",
        fuller if fuller_first else shorter,
        "Armenian Prime Minister Nikol Pashinyan called the swap a step that builds trust.",
    )
    second = article(
        2,
        "2026-11-19T15:30:00+00:00",
        "Meridian Post",
        "Detainees return home in Caucasus exchange",
        shorter if fuller_first else fuller,
        "Azerbaijan's foreign ministry said the released Armenians had been held since 2023.",
        "Diplomats in Yerevan said more exchanges could follow before the end of the year.",
    )
    said = " ".join(shown(summarize("AM-AZ", first, second)))
    assert "each freed 32 detainees" in said
    assert "Sixty-four detainees" not in said


def test_no_key_point_repeats_the_summary() -> None:
    """With two sentences naming the pair, the summary took both and the key point repeated the
    first word for word; a lightly rewritten wire sentence from a second outlet repeated it
    near word for word."""
    lead = article(
        1,
        "2026-11-12T10:00:00+00:00",
        "Continental Courier",
        "Kenya and Tanzania end lorry standoff",
        "Kenya and Tanzania agreed to scrap permit rules that left hundreds of lorries stuck at "
        "the Namanga border post for more than a week, their trade ministers said in Arusha.",
        "Tanzania had required Kenyan transporters to obtain new permits for domestic deliveries.",
    )
    alone = summarize("KE-TZ", lead)
    assert alone.key_points == [] or all(p.text not in alone.summary for p in alone.key_points)
    copy = article(
        2,
        "2026-11-12T14:00:00+00:00",
        "World Desk",
        "Lorries move again at Namanga",
        "Tanzania and Kenya agreed to scrap the permit rules that left hundreds of lorries stuck "
        "at the Namanga border post for over a week, trade ministers said.",
        "Truck drivers in Nairobi welcomed the decision but asked for a written guarantee.",
    )
    both = summarize("KE-TZ", lead, copy)
    assert not [p for p in both.key_points if "permit rules" in p.text]
    assert [p for p in both.key_points if "Truck drivers in Nairobi" in p.text]


def test_sentences_that_need_the_one_before_are_joined_or_dropped() -> None:
    """ "Beijing's statement used almost the same words." alone says nothing (issue 15): a sentence
    that leans on the one before is shown joined to it where both fit (80 words in the summary,
    40 in a key point) and dropped where they do not, never on its own."""
    summary = summarize(
        "CN-VN",
        article(
            1,
            "2026-11-20T06:00:00+00:00",
            "Asia Ledger",
            "Vietnam and China set up fisheries hotline",
            "Vietnam and China agreed to set up a hotline between their fisheries agencies after "
            "a series of clashes around the Paracel Islands, the foreign ministries in Hanoi and "
            "Beijing said.",
            "It is the first such mechanism since Vietnam and China normalised relations in 1991.",
            '"Both sides will handle maritime issues through friendly consultation," the '
            "Vietnamese statement said. Beijing's statement used almost the same words.",
            "Chinese coast guard ships detained two Vietnamese fishing boats and their crews near "
            "the islands in September, prompting protests from Hanoi and a call from the "
            "Vietnamese foreign ministry for the release of the fishermen without conditions.",
            "They were freed after three weeks of talks between Hanoi and Beijing.",
        ),
    )
    said = shown(summary)
    assert "Beijing said. It is the first such mechanism" in summary.summary
    assert (
        "consultation,\" the Vietnamese statement said. Beijing's statement used almost the same "
        "words." in summary.summary
    )
    assert [p for p in summary.key_points if p.text.startswith("Chinese coast guard ships")]
    assert not [s for s in said if s.startswith(("It is", "Beijing's statement", "They were"))]
    assert not [s for s in said if "They were freed" in s]  # 44 words with its antecedent


def test_relative_days_get_the_date_from_each_articles_publication() -> None:
    """ "on Wednesday" in a 30-day digest says no more which Wednesday: each is dated from the
    publication date of its own article, a future one forward."""
    summary = summarize(
        "CO-VE",
        article(
            1,
            "2026-11-12T09:00:00+00:00",  # a Thursday
            "Hemisphere Review",
            "Tienditas bridge opens to freight",
            "Colombia and Venezuela opened the Tienditas bridge near Cúcuta to freight traffic on "
            "Wednesday, six years after it was completed.",
            "Colombian officials said the opening would cut transport costs for exporters.",
        ),
        article(
            2,
            "2026-11-13T08:00:00+00:00",  # a Friday
            "World Desk",
            "First lorries cross between Colombia and Venezuela",
            "Venezuelan customs officers cleared the first forty lorries on Thursday, and the two "
            "countries' trade ministers will meet in Caracas on Monday to set fees.",
        ),
    )
    said = " ".join(shown(summary))
    assert "on Wednesday (11 November)" in said
    assert "on Thursday (12 November)" in said
    assert "on Monday (16 November)" in said


@pytest.mark.parametrize(
    "sentence",
    [
        "Monday's talks ended early.",
        "Shops opened on Black Friday as usual.",
        "The Sunday Times reported the deal.",
    ],
)
def test_weekdays_that_are_not_a_day_of_the_story_stay_as_they_are(sentence: str) -> None:
    assert absolute_dates(sentence, datetime(2026, 11, 24, 10, tzinfo=UTC)) == sentence


@pytest.mark.parametrize(
    ("sentence", "published", "expected"),
    [
        ("They met last Tuesday.", "2026-11-24T10:00:00", "last Tuesday (17 November)"),
        ("They meet next Tuesday.", "2026-11-24T10:00:00", "next Tuesday (1 December)"),
        ("Talks ended yesterday.", "2026-11-24T10:00:00", "yesterday (23 November)"),
        ("He arrived today.", "2026-11-24T10:00:00", "today (24 November)"),
        ("Officials said on Friday that he will visit.", "2026-11-24T10:00:00", "(20 November)"),
        ("The envoys are due to sign it on Friday.", "2026-11-24T10:00:00", "(27 November)"),
        ("Already dated: on Monday (23 November).", "2026-11-24T10:00:00", "(23 November)."),
        ("Talks scheduled for Thursday were moved.", "2026-11-24T10:00:00", "(26 November)"),
    ],
)
def test_which_day_a_weekday_means(sentence: str, published: str, expected: str) -> None:
    dated = absolute_dates(sentence, datetime.fromisoformat(published).replace(tzinfo=UTC))
    assert expected in dated and dated.count("(") == 1
    assert absolute_dates(sentence, None) == sentence


def test_dates_from_the_publication_date_are_grounded_invented_ones_are_not() -> None:
    """The local summary stays grounded with its added dates (the grounding check is told the
    publication dates); a date far from every publication date is still a problem."""
    lead = article(
        1,
        "2026-11-24T06:15:00+00:00",
        "World Desk",
        "India and Japan sign rail loan",
        "India and Japan signed a loan agreement for the second rail corridor on Monday, "
        "officials in New Delhi said.",
        "Japanese officials said the first tranche would be paid before the end of the year.",
    )
    summary = summarize("IN-JP", lead)
    assert "on Monday (23 November)" in summary.summary
    sources = f"{lead.title}\n{lead.text}"
    assert check_grounding(summary, sources, [lead.published_at], READER) == []
    invented = summary.model_copy(
        update={"summary": summary.summary + " Talks began on 3 November."}
    )
    assert check_grounding(invented, sources, [lead.published_at], READER) == [
        "number '3' is not in the sources"
    ]
