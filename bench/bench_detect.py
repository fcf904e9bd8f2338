"""Detection benchmark: quality on real news, behaviour on our own cases, speed.

Prints, on the test split of the labelled real-news set (tests/data/real_news.jsonl, read here
only to report): precision, recall, F1 and pair accuracy on the clear-cut items and on all items,
recall at the candidate threshold, and the local event-type accuracy with its confusion matrix;
then the cross-validated figures training chose the model by; the behaviour cases we wrote
(tests/data/detect_dev.yaml plus the offline sample); articles per second on one core for
~600-word articles (median of rounds); the founding story's result when ../shared/seed exists.

Usage: python bench/bench_detect.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.detect import detect_dyads, load_gazetteer, load_model  # noqa: E402
from pipeline.detect.labelled import LabelledArticle, load_labelled, score  # noqa: E402
from pipeline.summarize.events import classify_event  # noqa: E402
from tests.devset import evaluate, load_dev_set  # noqa: E402

REAL_NEWS = ROOT / "tests" / "data" / "real_news.jsonl"


def real_news(split: str) -> None:
    items = [i for i in load_labelled(REAL_NEWS) if i.split == split]
    model = load_model()
    results = {i.id: detect_dyads(i.title, i.text) for i in items}

    def final(item: LabelledArticle) -> tuple[bool, tuple[str, ...]]:
        r = results[item.id]
        return r.bilateral, r.countries

    def candidate(item: LabelledArticle) -> tuple[bool, tuple[str, ...]]:
        r = results[item.id]
        return r.candidate, r.countries

    clear = [i for i in items if not i.borderline]
    print(
        f"Real news, {split} split ({len(items)} items; final threshold "
        f"{model.final_threshold}, candidate {model.candidate_threshold}):"
    )
    print(f"  clear-cut  {score(clear, final).line()}")
    print(f"  all        {score(items, final).line()}")
    cand = score(items, candidate)
    print(
        f"  candidate  recall {cand.recall:.3f} (all items), {score(clear, candidate).recall:.3f}"
        f" (clear-cut); precision {cand.precision:.3f}; pair accuracy {cand.pair_accuracy:.3f}"
    )
    bilateral = [i for i in items if i.bilateral]
    confusion: Counter[tuple[str, str]] = Counter()
    for i in bilateral:
        confusion[(str(i.event_type), classify_event(i.title, i.text)[0].value)] += 1
    right = sum(n for (gold, got), n in confusion.items() if gold == got)
    print(f"  event type (local) accuracy {right / len(bilateral):.3f} ({right}/{len(bilateral)})")
    if split == "test":
        labels = sorted({g for g, _ in confusion} | {p for _, p in confusion})
        print("  confusion (rows: label, columns: local):")
        print("    " + " ".join(f"{t[:5]:>5}" for t in ["", *labels]))
        for gold in labels:
            row = [confusion[(gold, got)] for got in labels]
            if sum(row):
                print("    " + f"{gold[:5]:>5} " + " ".join(f"{n or '.':>5}" for n in row))


SHARED = ROOT.parent / "shared"


def cross_validated() -> None:
    """The out-of-fold figures training chose the model by (train + dev, 5 folds)."""
    import json

    data = json.loads((ROOT / "pipeline" / "data" / "detect_model.json").read_text())
    for name, s in data["cross_validated"].items():
        print(
            f"Cross-validated on train + dev ({name}): precision {s['precision']:.3f}  "
            f"recall {s['recall']:.3f}  F1 {s['f1']:.3f}  pair accuracy "
            f"{s['pair_accuracy']:.3f}  ({s['items']} items)"
        )


def quality() -> None:
    items = load_dev_set()
    metrics = evaluate(items)
    positives = sum(1 for i in items if i.pair)
    print(
        f"Behaviour cases we wrote: {len(items)} items ({positives} bilateral, "
        f"{len(items) - positives} not)"
    )
    print(
        f"  precision {metrics['precision']:.3f}  recall {metrics['recall']:.3f}  "
        f"F1 {metrics['f1']:.3f}  pair accuracy {metrics['pair_accuracy']:.3f}"
    )
    misses = {r: f"{sum(v)}/{len(v)}" for r, v in sorted(metrics["per_rule"].items()) if not all(v)}
    print(f"  rules with errors: {misses or 'none'}")


def speed(rounds: int) -> None:
    items = load_dev_set()
    sample = [i for i in items if i.rule == "sample"]
    articles = []
    for n, item in enumerate(sample):
        body: list[str] = []
        k = n
        while len(" ".join(body).split()) < 600:
            body.append(sample[k % len(sample)].text)
            k += 1
        articles.append((item.title, "\n\n".join(body)))
    words = statistics.mean(len(text.split()) for _, text in articles)
    load_gazetteer()
    rates = []
    for _ in range(rounds):
        started = time.perf_counter()
        for title, text in articles:
            detect_dyads(title, text)
        rates.append(len(articles) / (time.perf_counter() - started))
    print(
        f"Speed: {statistics.median(rates):.0f} articles/s on one core "
        f"({len(articles)} articles of {words:.0f} words, median of {rounds}; target >= 1000)"
    )


def seed() -> None:
    path = SHARED / "seed" / "india_russia_relations.txt"
    if not path.exists():
        print("(../shared/seed absent: founding story skipped)")
        return
    title, _, text = path.read_text(encoding="utf-8").partition("\n")
    result = detect_dyads(title, text)
    print(
        f"Founding story: bilateral={result.bilateral} pair={result.dyad} score={result.score} "
        f"third={list(result.third_countries)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    real_news("test")
    cross_validated()
    quality()
    speed(args.rounds)
    seed()


if __name__ == "__main__":
    main()
