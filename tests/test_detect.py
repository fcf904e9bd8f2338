"""Bilateral-relations detection: quality on the labelled real-news set (test split, read only to
report), behaviour on the cases we wrote, the shipped model, leaders with their dates."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.detect import detect_dyads, load_gazetteer, load_model, tokenize
from pipeline.detect.labelled import load_labelled, score, split_of
from pipeline.summarize.events import classify_event
from tests.devset import evaluate, load_dev_set

ROOT = Path(__file__).parent.parent
REAL_NEWS = Path(__file__).parent / "data" / "real_news.jsonl"

# Floors a little under what bench/bench_detect.py measured on the real test split with the
# shipped model (see docs/detection.md for the figures): a regression fails loudly.
# Measured: clear-cut P 0.667, R 0.700, F1 0.683, pair 1.000 (20 bilateral of 589); candidate
# recall 0.944 on all 626 items; local event type 0.722 (26/36).
REAL_FLOORS = {"precision": 0.62, "recall": 0.60, "f1": 0.62, "pair_accuracy": 0.95}
CANDIDATE_RECALL_FLOOR = 0.90
EVENT_ACCURACY_FLOOR = 0.66
# Our own behaviour cases (tests/data/detect_dev.yaml plus the sample): written for the rules,
# so they check behaviour, not real-world quality.
# Measured: P 0.978, R 0.906, F1 0.941, pair 1.000 on 269 items.
FLOORS = {"precision": 0.95, "recall": 0.87, "f1": 0.91, "pair_accuracy": 0.98}

# Our own retelling of the story that started Dyad (not a copy of ../shared/seed).
SEED_TITLE = "India and Russia draw closer as Putin hosts New Delhi's top diplomat"
SEED_TEXT = (
    "Russian President Vladimir Putin received India's foreign minister at the Kremlin last week, "
    "as Moscow looks to Asia to escape its isolation over the war in Ukraine. India has stayed "
    "neutral and become one of the biggest buyers of Russian oil, despite objections from "
    "Washington. Putin thanked India for its support and invited Prime Minister Narendra Modi to "
    "Moscow. Subrahmanyam Jaishankar also met Sergey Lavrov, and the two countries agreed to build "
    "more reactors at the Kudankulam nuclear plant. Officials in the Biden administration have "
    "avoided criticising India openly, hoping to win it as a partner against Russia and China."
)


def _real_test_split() -> list:
    return [i for i in load_labelled(REAL_NEWS) if i.split == "test"]


def _predict(item):  # type: ignore[no-untyped-def]
    result = detect_dyads(item.title, item.text)
    return result.bilateral, result.countries


def test_quality_on_real_news_test_split() -> None:
    items = _real_test_split()
    clear = score([i for i in items if not i.borderline], _predict)
    print("clear-cut:", clear.line())
    metrics = {k: getattr(clear, k) for k in REAL_FLOORS}
    failing = {k: round(v, 3) for k, v in metrics.items() if v < REAL_FLOORS[k]}
    assert not failing, f"detection on real news regressed below {REAL_FLOORS}: {failing}"


def test_candidate_threshold_keeps_recall_on_real_news() -> None:
    items = _real_test_split()

    def predict(item):  # type: ignore[no-untyped-def]
        result = detect_dyads(item.title, item.text)
        return result.candidate, result.countries

    found = score(items, predict)
    print("candidate, all items:", found.line())
    assert found.recall >= CANDIDATE_RECALL_FLOOR


def test_local_event_types_on_real_news() -> None:
    bilateral = [i for i in _real_test_split() if i.bilateral]
    right = sum(classify_event(i.title, i.text)[0].value == i.event_type for i in bilateral)
    print(f"event type: {right}/{len(bilateral)}")
    assert right / len(bilateral) >= EVENT_ACCURACY_FLOOR


def test_the_labelled_set_is_whole_and_split_by_id() -> None:
    items = load_labelled(REAL_NEWS)
    assert len(items) >= 1200 and len({i.id for i in items}) == len(items)
    for item in items:
        assert item.bilateral == (len(item.countries) == 2), item.id
        assert list(item.countries) == sorted(item.countries)
        assert (item.event_type is not None) == item.bilateral, item.id
        assert (item.actor is None) == (item.target is None), item.id
    shares = {s: sum(i.split == s for i in items) / len(items) for s in ("train", "dev", "test")}
    assert 0.57 < shares["train"] < 0.63 and 0.17 < shares["dev"] < 0.23, shares
    # the split is fixed by the id: a change to split_of would move items between splits
    assert [split_of(i) for i in ("ag-test-1", "ag-test-2", "bbc-politics-024")] == [
        "test",
        "train",
        "dev",
    ]
    assert "Sources and terms" in (REAL_NEWS.parent / "README.md").read_text(encoding="utf-8")


def test_the_shipped_model_is_what_training_produces() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "train_detect.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    model = load_model()
    assert 0 < model.candidate_threshold <= model.final_threshold < 1


def test_behaviour_cases_we_wrote() -> None:
    assert len(load_dev_set()) >= 260
    metrics = {k: v for k, v in evaluate().items() if k in FLOORS}
    print(" ".join(f"{k}={v:.3f}" for k, v in metrics.items()))
    failing = {k: round(v, 3) for k, v in metrics.items() if v < FLOORS[k]}
    assert not failing, f"detection regressed below its floors {FLOORS}: {failing}"


def test_the_founding_story_is_india_russia_with_the_us_watching() -> None:
    result = detect_dyads(SEED_TITLE, SEED_TEXT)
    assert result.bilateral and result.countries == ("IN", "RU")
    assert "US" in result.third_countries
    kinds = {(e.text, e.country) for e in result.evidence}
    assert {("Kremlin", "RU"), ("Washington", "US"), ("Subrahmanyam Jaishankar", "IN")} <= kinds


@pytest.mark.parametrize(
    "title, text, expected",
    [
        (
            "Georgia and Russia trade accusations over South Ossetia",
            "Tbilisi said Russian troops moved the border.",
            ("GE", "RU"),
        ),
        (
            "Georgia lawmakers pass budget in Atlanta",
            "The state's governor signed the bill; counties get more money.",
            (),
        ),
        ("Washington Post and Guardian win awards", "The Washington Post won two prizes.", ()),
        ("Cyclone heads across the Indian Ocean", "The storm is far from land.", ()),
        (
            "Oil spill in the Niger Delta angers fishermen",
            "Nigeria's regulator is investigating.",
            (),
        ),
        (
            "Guinea-Bissau and Senegal sign fishing deal",
            "The two countries agreed quotas.",
            ("GW", "SN"),
        ),
        (
            "Papua New Guinea and Australia sign treaty",
            "The two countries agreed a defence pact.",
            ("AU", "PG"),
        ),
        (
            "Dominican Republic closes border with Haiti",
            "The government in Santo Domingo acted after a canal dispute.",
            ("DO", "HT"),
        ),
        (
            "South Sudan and Uganda sign border deal",
            "Juba and Kampala agreed joint patrols.",
            ("SS", "UG"),
        ),
        ("New Mexico governor declares emergency", "Fires burn across the state.", ()),
        ("Michael Jordan buys stake in team", "Jordan said he was excited.", ()),
        (
            "U.S. and China agree to extend tariff truce",
            "Washington and Beijing said talks would continue.",
            ("CN", "US"),
        ),
        (
            "INDIA AND PAKISTAN AGREE TO CEASEFIRE",
            "The two armies agreed to stop firing along the border.",
            ("IN", "PK"),
        ),
        (
            "Congo and China sign debt deal",
            "Officials in Brazzaville said the Republic of the Congo would repay over twenty years.",
            ("CG", "CN"),
        ),
        (
            "Talks between Armenia and Azerbaijan resume",
            "Yerevan and Baku sent delegations.",
            ("AM", "AZ"),
        ),
        (
            "Sino-Indian border talks make progress",
            "Beijing and New Delhi agreed on patrols.",
            ("CN", "IN"),
        ),
    ],
)
def test_careful_reader_cases(title: str, text: str, expected: tuple[str, ...]) -> None:
    """Names read right: the pair the model weighs is the expected one (whether a one-line item
    passes the final threshold is the model's call, measured on real news above)."""
    result = detect_dyads(title, text)
    assert result.countries == expected, (result.countries, result.score, result.third_countries)
    assert result.candidate == bool(expected)


def test_probability_and_both_decisions_agree_and_are_deterministic() -> None:
    model = load_model()
    for item in load_dev_set()[:80]:
        first = detect_dyads(item.title, item.text)
        assert first == detect_dyads(item.title, item.text)
        assert 0.0 <= first.score <= 1.0
        assert first.bilateral == (first.score >= model.final_threshold)
        assert first.candidate == (first.score >= model.candidate_threshold)
        assert first.countries == tuple(sorted(first.countries))
        assert bool(first.countries) == first.candidate
    strict = detect_dyads(SEED_TITLE, SEED_TEXT, final_threshold=0.999, candidate_threshold=0.99)
    assert not strict.bilateral and not strict.candidate


def test_direction_from_the_headline() -> None:
    result = detect_dyads(
        "Algeria expels French diplomats in widening row with Paris",
        "Algiers ordered twelve French embassy staff to leave.",
    )
    assert result.countries == ("DZ", "FR") and (result.actor, result.target) == ("DZ", "FR")
    symmetric = detect_dyads("India and Russia sign oil deal", "New Delhi and Moscow agreed terms.")
    assert symmetric.actor is None and symmetric.target is None


def test_leaders_resolve_with_their_dates() -> None:
    gaz = load_gazetteer()
    sense = gaz.forms[("Biden",)]
    assert sense.country == "US" and sense.kind == "leader"
    in_office = detect_dyads(
        "Biden meets Modi", "The two leaders discussed trade.", datetime(2023, 6, 22, tzinfo=UTC)
    )
    later = detect_dyads(
        "Biden meets Modi", "The two leaders discussed trade.", datetime(2026, 6, 22, tzinfo=UTC)
    )
    assert in_office.countries == ("IN", "US")
    assert later.score <= in_office.score


def test_gazetteer_covers_g20_and_sixty_more_with_leaders() -> None:
    gaz = load_gazetteer()
    leader_countries = {s.country for s in gaz.forms.values() if s.kind == "leader"}
    g20 = {
        "AR",
        "AU",
        "BR",
        "CA",
        "CN",
        "FR",
        "DE",
        "IN",
        "ID",
        "IT",
        "JP",
        "KR",
        "MX",
        "RU",
        "SA",
        "ZA",
        "TR",
        "GB",
        "US",
    }
    assert g20 <= leader_countries
    assert len(leader_countries - g20) >= 60
    assert len(gaz.countries) >= 240


def test_tokens_keep_abbreviations_and_drop_possessives() -> None:
    assert tokenize("U.S.-China talks; Xi's visit to N'Djamena") == [
        "U.S.",
        "-",
        "China",
        "talks",
        ";",
        "Xi",
        "visit",
        "to",
        "N'Djamena",
    ]


def test_detect_cli_reads_jsonl(tmp_path: Path) -> None:
    source = tmp_path / "items.jsonl"
    source.write_text(
        "\n".join(
            [
                json.dumps({"id": "a", "title": SEED_TITLE, "text": SEED_TEXT}),
                json.dumps({"id": "b", "title": "Floods hit Kenya", "text": "Heavy rain fell."}),
            ]
        )
        + "\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "detect", "--input", str(source)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["id"], r["bilateral"], r["countries"]) for r in rows] == [
        ("a", True, ["IN", "RU"]),
        ("b", False, []),
    ]
    assert all(0 <= r["score"] <= 1 for r in rows)


def test_office_holders_since_2000_stand_for_their_state_at_the_articles_date() -> None:
    gaz = load_gazetteer()
    assert gaz.forms[("Powell",)].country == "US" and gaz.forms[("Musharraf",)].country == "PK"
    in_2004 = datetime(2004, 10, 1, tzinfo=UTC)
    result = detect_dyads(
        "Powell meets Musharraf in Islamabad", "The two discussed the border.", in_2004
    )
    assert result.countries == ("PK", "US")
    # "King Abdullah" names Saudi Arabia's king (2005-2015) and Jordan's (since 1999): the
    # date decides, and without one the name is left out.
    assert ("King", "Abdullah") in gaz.shared_leader_forms
    from pipeline.detect import find_mentions

    def countries(when: datetime | None) -> set[str]:
        mentions, _ = find_mentions("King Abdullah speaks", "", when, gaz)
        return {m.country for m in mentions}

    assert countries(datetime(2020, 1, 1, tzinfo=UTC)) == {"JO"}
    assert countries(None) == set()
