"""Bilateral-relations detection: the quality gate on our labelled set, and the careful-reader cases."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.detect import THRESHOLD, detect_dyads, load_gazetteer, tokenize
from tests.devset import evaluate, load_dev_set

# Floors pinned a little under the figures measured when the detector was built
# (P 0.955, R 0.987, F1 0.970, pair 1.000 on 269 items): a regression fails loudly.
FLOORS = {"precision": 0.93, "recall": 0.97, "f1": 0.95, "pair_accuracy": 0.98}

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


def test_quality_gate_on_the_labelled_set() -> None:
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
    result = detect_dyads(title, text)
    assert result.countries == expected, (result.countries, result.score, result.third_countries)
    assert result.bilateral == bool(expected)


def test_score_and_decision_agree_and_are_deterministic() -> None:
    for item in load_dev_set()[:80]:
        first = detect_dyads(item.title, item.text)
        assert first == detect_dyads(item.title, item.text)
        assert 0.0 <= first.score <= 1.0
        assert first.bilateral == (first.score >= THRESHOLD)
        assert first.countries == tuple(sorted(first.countries))


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
