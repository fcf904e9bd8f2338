"""Labelled items and how detection is scored on them (training, tests and the benchmark).

A labelled item follows the labelling rules (``tests/data/README.md``): ``bilateral``,
``countries`` (the sorted pair, empty when not bilateral), ``borderline``, ``note``, and for
bilateral items the PLOVER ``event_type`` with ``actor``/``target`` when the interaction has a
direction. ``split_of`` puts each id once and for all in train (60%), dev (20%) or test (20%) by
a hash of the id, so adding items never moves old ones.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LabelledArticle:
    id: str
    title: str
    text: str
    bilateral: bool
    countries: tuple[str, ...]
    borderline: bool
    note: str = ""
    event_type: str | None = None
    actor: str | None = None
    target: str | None = None
    source: str = ""

    @property
    def split(self) -> str:
        """train, dev or test (fixed by the id)."""
        return split_of(self.id)


def split_of(item_id: str) -> str:
    """train (60%), dev (20%) or test (20%), by the first 8 hex digits of sha256(id)."""
    bucket = int(hashlib.sha256(item_id.encode("utf-8")).hexdigest()[:8], 16) % 100
    return "train" if bucket < 60 else "dev" if bucket < 80 else "test"


def load_labelled(path: Path) -> list[LabelledArticle]:
    """Every item of a labelled JSONL file, in file order."""
    items = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        items.append(
            LabelledArticle(
                id=row["id"],
                title=row["title"],
                text=row["text"],
                bilateral=bool(row["bilateral"]),
                countries=tuple(row["countries"]),
                borderline=bool(row["borderline"]),
                note=row.get("note") or "",
                event_type=row.get("event_type"),
                actor=row.get("actor"),
                target=row.get("target"),
                source=row.get("source") or "",
            )
        )
    return items


@dataclass(frozen=True)
class Scores:
    """Detection quality on a set of items (pair accuracy: right pair among true positives)."""

    items: int
    positives: int
    precision: float
    recall: float
    f1: float
    pair_accuracy: float

    def line(self) -> str:
        return (
            f"precision {self.precision:.3f}  recall {self.recall:.3f}  F1 {self.f1:.3f}  "
            f"pair accuracy {self.pair_accuracy:.3f}  ({self.items} items, "
            f"{self.positives} bilateral)"
        )


def score(
    items: Iterable[LabelledArticle],
    predict: Callable[[LabelledArticle], tuple[bool, tuple[str, ...]]],
) -> Scores:
    """Precision, recall, F1 (an article is right when it is called bilateral, whatever pair)
    and pair accuracy (of the true positives, how many have the labelled pair)."""
    tp = fp = fn = pair_ok = n = positives = 0
    for item in items:
        n += 1
        positives += item.bilateral
        called, pair = predict(item)
        if item.bilateral and called:
            tp += 1
            pair_ok += tuple(pair) == item.countries
        elif item.bilateral:
            fn += 1
        elif called:
            fp += 1
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(n, positives, precision, recall, f1, pair_ok / tp if tp else 0.0)
