"""The labelled development set for detection: our own items plus the offline sample."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pipeline.config import SAMPLE_DIR
from pipeline.detect.labelled import LabelledArticle, score

DEV_FILE = Path(__file__).parent / "data" / "detect_dev.yaml"


@dataclass(frozen=True)
class LabelledItem:
    id: str
    title: str
    text: str
    pair: tuple[str, ...]  # sorted; () when not bilateral
    rule: str


def load_dev_set() -> list[LabelledItem]:
    """Every labelled item: detect_dev.yaml, then the sample's stories (labels in `dyad`)."""
    items = [
        LabelledItem(i["id"], i["title"], i["text"], tuple(sorted(i["y"])), i["rule"])
        for i in yaml.safe_load(DEV_FILE.read_text(encoding="utf-8"))["items"]
    ]
    stories = yaml.safe_load((SAMPLE_DIR / "stories.yaml").read_text(encoding="utf-8"))["stories"]
    items += [
        LabelledItem(
            f"sample:{s['slug']}",
            s["title"],
            "\n\n".join(s["body"]),
            tuple(sorted(s["dyad"])),
            "sample",
        )
        for s in stories
    ]
    return items


def evaluate(items: list[LabelledItem] | None = None) -> dict[str, Any]:
    """Precision, recall, F1 and pair accuracy of ``detect_dyads`` on the labelled items, and
    per rule how many items it got right."""
    from pipeline.detect import detect_dyads

    items = items if items is not None else load_dev_set()
    results = {item.id: detect_dyads(item.title, item.text) for item in items}
    per_rule: dict[str, list[bool]] = defaultdict(list)
    for item in items:
        result = results[item.id]
        per_rule[item.rule].append(
            result.bilateral and result.countries == item.pair
            if item.pair
            else not result.bilateral
        )
    as_labelled = [
        LabelledArticle(i.id, i.title, i.text, bool(i.pair), i.pair, False) for i in items
    ]
    scores = score(as_labelled, lambda a: (results[a.id].bilateral, results[a.id].countries))
    return {
        "precision": scores.precision,
        "recall": scores.recall,
        "f1": scores.f1,
        "pair_accuracy": scores.pair_accuracy,
        "per_rule": dict(per_rule),
    }
