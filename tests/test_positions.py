"""Each side's position and the story's quotation, from the local summariser (issue 16).

The articles are written for these tests in the style of the offline sample (fiction in the
style of wire copy). The gazetteer is the real one, handed to the summariser as the jobs layer
does (``pipeline.jobs.speakers.speakers_of``). What a reader checks: each side says who spoke
for it and in which article, a quotation is word for word in the article it cites, a side with
no statement says so and nothing is made up for it.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from pipeline.detect import load_gazetteer
from pipeline.jobs.speakers import speakers_of
from pipeline.records import StoryArticle
from pipeline.summarize.local import summarize_locally
from pipeline.summarize.voices import Speakers
from pipeline.summary_record import MAX_CITES, LLMSummary, Position, Voice
from tests.conftest import story_of


@pytest.fixture(scope="module")
def speakers() -> Speakers:
    return speakers_of(load_gazetteer())


def article(n: int, outlet: str, title: str, *paragraphs: str) -> StoryArticle:
    return StoryArticle(
        article_id=n,
        url=f"https://{outlet.lower().replace(' ', '-')}.example/{n}",
        outlet=outlet,
        title=title,
        text="\n".join(paragraphs),
        published_at=datetime.fromisoformat(f"2026-11-{23 + n}T08:00:00+00:00"),
    )


def summarize(dyad: str, speakers: Speakers, *articles: StoryArticle) -> LLMSummary:
    terms = ("India", "Indian", "New Delhi", "Russia", "Russian", "Moscow")
    return summarize_locally(story_of(dyad, articles), articles, terms, (), speakers=speakers)


def side(summary: LLMSummary, country: str) -> Position:
    return next(p for p in summary.positions if p.country == country)


def assert_silent(position: Position) -> None:
    assert position == Position.unheard(position.country)


VISIT = article(
    1,
    "World Desk",
    "Jaishankar and Lavrov agree on oil payments in Moscow",
    "External Affairs Minister S. Jaishankar held talks with Russian Foreign Minister Sergey "
    "Lavrov in Moscow on Monday on payments for Russian crude and spare parts for fighter jets.",
    '"We will settle a larger share of our oil trade with India in roubles and rupees from '
    'January," said Foreign Minister Sergey Lavrov.',
    "Jaishankar said India wanted deliveries of spare parts to resume before the end of the year.",
)
WELCOME = article(
    2,
    "Asia Ledger",
    "Indian minister thanks Moscow for its hospitality",
    "Jaishankar began his two-day stay in Moscow with a wreath-laying ceremony on Monday.",
    '"We thank our Russian friends for the warm welcome and their hospitality," Jaishankar told '
    "reporters at the Foreign Ministry's mansion.",
    '"India will not let outside pressure decide how we pay for the oil we need," Jaishankar '
    "said later, referring to American sanctions on Russian banks.",
)


def test_both_sides_in_pair_order_with_speaker_quote_and_cites(speakers: Speakers) -> None:
    summary = summarize("IN-RU", speakers, VISIT, WELCOME)
    assert [p.country for p in summary.positions] == ["IN", "RU"]
    india, russia = summary.positions
    assert india.voice is Voice.GOVERNMENT and "Jaishankar" in (india.speaker or "")
    assert russia.voice is Voice.GOVERNMENT and russia.speaker == "Foreign Minister Sergey Lavrov"
    assert russia.quote is not None and russia.quote.startswith("We will settle a larger share")
    assert russia.cites == [1] and russia.position.startswith('"We will settle')
    for position in summary.positions:
        assert position.position and len(position.position) <= 300
        for cite in position.cites:
            assert position.position.rstrip("…") in " ".join(
                [VISIT, WELCOME][cite - 1].text.split()
            )


def test_the_quotation_is_verbatim_in_the_article_it_cites(speakers: Speakers) -> None:
    articles = (VISIT, WELCOME)
    summary = summarize("IN-RU", speakers, *articles)
    quote = summary.quote
    assert quote is not None and quote.speaker and quote.country in ("IN", "RU")
    assert quote.cites and all(quote.text in articles[n - 1].text for n in quote.cites)
    for position in summary.positions:
        if position.quote:
            assert any(position.quote in articles[n - 1].text for n in position.cites)


def test_a_ceremonial_line_loses_to_one_about_the_relationship(speakers: Speakers) -> None:
    summary = summarize("IN-RU", speakers, WELCOME)
    assert summary.quote is not None
    assert summary.quote.text.startswith("India will not let outside pressure decide")
    assert summary.quote.speaker == "Jaishankar" or "Jaishankar" in summary.quote.speaker
    assert summary.quote.country == "IN"
    only_thanks = article(
        3,
        "Asia Ledger",
        "Jaishankar in Moscow",
        '"We thank our Russian friends for the warm welcome and their hospitality," Jaishankar '
        "told reporters in Moscow.",
    )
    assert summarize("IN-RU", speakers, only_thanks).quote is None


def test_press_speaks_for_a_side_its_government_does_not(speakers: Speakers) -> None:
    report = article(
        1,
        "Meridian Post",
        "India and Russia sign a protocol on Kudankulam",
        "Indian officials said the protocol on units seven and eight at Kudankulam was signed in "
        "Moscow on Monday.",
        "Russia's state news agency TASS reported that Rosatom would supply fuel for the new units "
        "for their first ten years.",
    )
    summary = summarize("IN-RU", speakers, report)
    india, russia = summary.positions
    assert india.voice is Voice.GOVERNMENT and india.speaker == "Indian officials"
    assert russia.voice is Voice.PRESS and russia.speaker == "Russia's state news agency TASS"
    assert russia.position.startswith(
        "Russia's state news agency TASS reported"
    ) and russia.cites == [1]


def test_a_silent_side_says_so_and_nothing_is_made_up(speakers: Speakers) -> None:
    report = article(
        1,
        "World Desk",
        "Russia cuts gas deliveries to an Indian fertiliser plant",
        "Russia's energy ministry said on Tuesday that deliveries of liquefied gas to a fertiliser "
        "plant in Gujarat would be halved from December because of a dispute over payments.",
        "India's External Affairs Ministry did not respond to requests for comment.",
        "Indian officials declined to comment on the dispute.",
        "A spokesperson for India's foreign ministry said it had no immediate comment.",
    )
    summary = summarize("IN-RU", speakers, report)
    india, russia = summary.positions
    assert_silent(india)
    assert russia.voice is Voice.GOVERNMENT and russia.speaker == "Russia's energy ministry"


def test_a_third_countrys_official_speaks_for_neither_side(speakers: Speakers) -> None:
    report = article(
        1,
        "World Desk",
        "Washington warns partners over Russian oil",
        'A US State Department spokesperson said India should "avoid deepening dependence" on '
        "Moscow and warned that banks handling Russian oil payments could face sanctions.",
        "Secretary of State Marco Rubio told reporters the United States expected India and "
        "Russia to respect the price cap.",
        "Analysts in New Delhi said the warning would have little effect on Indian refiners.",
    )
    summary = summarize("IN-RU", speakers, report)
    assert [p.country for p in summary.positions] == ["IN", "RU"]
    for position in summary.positions:
        assert_silent(position)
    assert summary.quote is None


def test_a_former_office_holder_does_not_speak_for_the_state(speakers: Speakers) -> None:
    """Leaders count on the article's date only: an ex-minister's view is not the state's."""
    report = article(
        1,
        "Asia Ledger",
        "Ex-minister criticises the Moscow visit",
        "Natwar Singh, who led the foreign ministry two decades ago, said the visit to Moscow "
        "sent the wrong signal.",
    )
    india, russia = summarize("IN-RU", speakers, report).positions
    assert_silent(india)
    assert_silent(russia)


def test_two_sides_in_one_sentence_each_get_their_own_clause(speakers: Speakers) -> None:
    report = article(
        1,
        "Meridian Post",
        "India and China trade barbs over border patrols",
        "China's foreign ministry said Indian troops had crossed the Line of Actual Control, while "
        "New Delhi said its patrols had stayed on the Indian side.",
    )
    summary = summarize_locally(
        story_of("CN-IN", (report,)), (report,), ("China", "India"), (), speakers=speakers
    )
    china, india = summary.positions
    assert (china.country, india.country) == ("CN", "IN")
    assert china.position == (
        "China's foreign ministry said Indian troops had crossed the Line of Actual Control."
    )
    assert india.position == "New Delhi said its patrols had stayed on the Indian side."
    assert china.cites == india.cites == [1]


def test_the_quote_of_the_next_sentence_by_the_same_speaker(speakers: Speakers) -> None:
    report = article(
        1,
        "World Desk",
        "Lavrov promises India steady oil supplies",
        "Lavrov said on Tuesday that Russia would keep supplying crude to India at a discount.",
        '"Our Indian partners can count on us, whatever Washington threatens," he added.',
        '"Sanctions are a matter for the courts," a European diplomat said.',
    )
    russia = summarize("IN-RU", speakers, report).positions[1]
    assert russia.speaker == "Sergey Lavrov" and russia.cites == [1]
    assert russia.quote == "Our Indian partners can count on us, whatever Washington threatens"


def test_a_joint_statement_speaks_for_a_side_with_none_of_its_own(speakers: Speakers) -> None:
    """Words attributed to both governments together fill a side that said nothing alone, with
    the joint phrase as speaker; never where an article says a side did not comment."""
    joint = article(
        1,
        "Continental Courier",
        "Kenya and Tanzania end standoff over trucks",
        "Kenya and Tanzania have agreed to scrap permit rules that left hundreds of lorries "
        "stuck at the Namanga border post, the two countries' trade ministers said after "
        "meeting in Arusha on Thursday.",
        "The neighbours' trade is worth more than one billion dollars a year.",
    )
    summary = summarize_locally(
        story_of("KE-TZ", (joint,)), (joint,), ("Kenya", "Tanzania"), (), speakers=speakers
    )
    for position in summary.positions:
        assert position.voice is Voice.GOVERNMENT
        assert position.speaker == "The two countries' trade ministers (joint)"
        assert position.position.startswith("Kenya and Tanzania have agreed to scrap permit")
        assert position.cites == [1]
    silent = article(
        2,
        "Continental Courier",
        "Kenya and Tanzania end standoff over trucks",
        *joint.text.split("\n"),
        "Tanzania's government did not respond to requests for comment.",
    )
    summary = summarize_locally(
        story_of("KE-TZ", (silent,)), (silent,), ("Kenya", "Tanzania"), (), speakers=speakers
    )
    assert all(p.voice is Voice.NONE for p in summary.positions)


def test_key_points_do_not_repeat_a_sides_words(speakers: Speakers) -> None:
    """What a side said is shown once, with its speaker: no key point repeats a side's
    sentence or its quotation."""
    briefing = article(
        3,
        "Asia Ledger",
        "India and Russia set up joint group to settle oil payments",
        "India and Russia agreed on 18 November to settle a larger share of their oil trade in "
        "rupees and roubles, setting up a joint working group of central bankers.",
        "Indian refiners import about 1.6 million barrels of Russian crude a day, more than a "
        "third of the country's oil purchases.",
        "In Moscow, Russian Foreign Ministry spokeswoman Maria Zakharova welcomed the agreement.",
        '"Russia and India are building a payment system that nobody can switch off from '
        'outside," she told her weekly briefing, adding that Russian companies were ready to '
        "invest surplus rupees in Indian infrastructure.",
        "The working group will meet every month and report to both finance ministries.",
        "Banks in both countries have been slow to process payments for fear of American "
        "secondary sanctions, leaving tankers waiting off Indian ports.",
    )
    summary = summarize("IN-RU", speakers, briefing)
    russia = summary.positions[1]
    assert russia.quote and russia.quote.startswith("Russia and India are building")
    shown = [t for p in summary.positions for t in (p.position, p.quote) if t]
    assert summary.key_points
    for point in summary.key_points:
        assert not any(" ".join(t.split()) in " ".join(point.text.split()) for t in shown)


def test_a_side_said_not_to_comment_is_not_given_a_reported_action(speakers: Speakers) -> None:
    """Where the sources say a side did not respond, an action reported of it earlier is not
    its statement: it shows "no statement"; the other side keeps its own."""
    un = article(
        1,
        "World Desk",
        "Egypt asks UN Security Council to act on Ethiopia's Nile dam",
        "Egypt asked the United Nations Security Council on 23 November to take up its dispute "
        "with Ethiopia over the dam, three days after Addis Ababa announced another filling of "
        "the reservoir.",
        'Foreign Minister Badr Abdelatty said Egypt "will not accept a fait accompli" on the Nile.',
        "Ethiopia's foreign ministry did not respond to requests for comment.",
    )
    summary = summarize_locally(
        story_of("EG-ET", (un,)), (un,), ("Egypt", "Ethiopia"), (), speakers=speakers
    )
    egypt, ethiopia = summary.positions
    assert egypt.voice is Voice.GOVERNMENT and egypt.position
    assert_silent(ethiopia)


def test_a_wire_dateline_is_not_part_of_a_position(speakers: Speakers) -> None:
    """A side's sentence is shown without the agency's dateline ("TOKYO (Reuters) - "), and
    "both countries said in a statement" is a joint statement (as in the real BBC and AG items
    these were measured on)."""
    wire = article(
        1,
        "Wire",
        "Japan protests over Chinese submarine",
        "TOKYO (Reuters) - Japan's foreign ministry said on Friday it had lodged a protest with "
        "China over a submarine that entered Japanese waters, calling it a violation of "
        '"international law".',
        "China's foreign ministry said it was looking into the report.",
    )
    japan = side(summarize_locally(story_of("CN-JP", (wire,)), (wire,), ("China", "Japan"), (),
                                   speakers=speakers), "JP")  # fmt: skip
    assert japan.voice is Voice.GOVERNMENT
    assert japan.position.startswith("Japan's foreign ministry said on Friday it had lodged")
    joint = article(
        2,
        "BBC",
        "India and Iran in gas deal",
        "India and Iran will build a gas pipeline through Pakistan by 2009, both countries said "
        "in a statement after talks in Tehran.",
    )
    summary = summarize_locally(
        story_of("IN-IR", (joint,)), (joint,), ("India", "Iran"), (), speakers=speakers
    )
    assert [p.speaker for p in summary.positions] == ["Both countries (joint)"] * 2


def test_stance_verbs_and_an_administration_speak_for_a_state(speakers: Speakers) -> None:
    """Real agency items state positions with verbs such as "rebuffed", "defended" and
    "apologised", and speak of "the US administration": each is that side's statement."""
    wire = article(
        1,
        "Wire",
        "China rebuffs Powell",
        "BEIJING (dpa) - China has rebuffed suggestions by the United States that it accept "
        "Taiwan's offer of talks.",
        "The US administration yesterday accused China of stalling on North Korea.",
    )
    summary = summarize_locally(
        story_of("CN-US", (wire,)), (wire,), ("China", "United States"), (), speakers=speakers
    )
    china, us = summary.positions
    assert china.voice is Voice.GOVERNMENT
    assert china.position.startswith("China has rebuffed suggestions")
    assert us.voice is Voice.GOVERNMENT and "accused China" in us.position


def test_a_statement_carried_by_many_outlets_cites_at_most_the_allowed_number(
    speakers: Speakers,
) -> None:
    """An agency story reprinted by 18 outlets: the local summary is made (it once failed the
    record's limit of 12 cites, and the story went without a summary) and cites the article the
    side was read from."""
    copies = [
        VISIT.model_copy(
            update={"article_id": n, "url": f"https://outlet-{n}.example/1", "outlet": f"O{n}"}
        )
        for n in range(1, 19)
    ]
    summary = summarize("IN-RU", speakers, *copies)
    russia = side(summary, "RU")
    assert russia.voice is Voice.GOVERNMENT
    assert 1 <= len(russia.cites) <= MAX_CITES and 1 in russia.cites
    assert summary.quote is None or len(summary.quote.cites) <= MAX_CITES
