"""The labelled development set for detection: our own items plus the offline sample."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from pipeline.config import SAMPLE_DIR

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
