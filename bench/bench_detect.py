"""Detection benchmark: quality on our labelled set, speed, and decisions on real stories.

Prints precision, recall, F1 and pair accuracy over tests/data/detect_dev.yaml plus the offline
sample (with a breakdown per rule), articles per second on one core for ~600-word articles
(median of rounds), the founding story's result when ../shared/seed exists, and the
distribution of decisions over ../shared/corpus/stories/stories.jsonl when it exists (no labels
there, so only counts and the most frequent pairs).

Usage: python bench/bench_detect.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.detect import detect_dyads, load_gazetteer  # noqa: E402
from tests.devset import evaluate, load_dev_set  # noqa: E402

SHARED = ROOT.parent / "shared"


def quality() -> None:
    items = load_dev_set()
    metrics = evaluate(items)
    positives = sum(1 for i in items if i.pair)
    print(f"Labelled set: {len(items)} items ({positives} bilateral, {len(items) - positives} not)")
    print(
        f"  precision {metrics['precision']:.3f}  recall {metrics['recall']:.3f}  "
        f"F1 {metrics['f1']:.3f}  pair accuracy {metrics['pair_accuracy']:.3f}  "
        "(targets: recall >= 0.95, precision >= 0.85, pair >= 0.95)"
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


def corpus() -> None:
    path = SHARED / "corpus" / "stories" / "stories.jsonl"
    if not path.exists():
        print("(../shared/corpus/stories absent: real-story distribution skipped)")
        return
    decisions: Counter[str] = Counter()
    pairs: Counter[str] = Counter()
    scores = []
    for line in path.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        result = detect_dyads(item.get("title") or "", item.get("text") or "")
        decisions["bilateral" if result.bilateral else "not bilateral"] += 1
        scores.append(result.score)
        if result.dyad:
            pairs[result.dyad] += 1
    total = sum(decisions.values())
    print(
        f"Real stories ({total}, unlabelled): "
        + ", ".join(f"{k} {v} ({v / total:.0%})" for k, v in decisions.most_common())
    )
    print(
        f"  median score {statistics.median(scores):.2f}; top pairs: "
        + ", ".join(f"{p} {n}" for p, n in pairs.most_common(10))
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    quality()
    speed(args.rounds)
    seed()
    corpus()


if __name__ == "__main__":
    main()
