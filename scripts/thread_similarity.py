"""The figures behind ``threads.similarity``: content-word Jaccard of same-pair news items that
follow one topic against items of the same pair on other topics.

Reads ``tests/data/real_news.jsonl`` (the labelled real news). Its items carry no dates and no
topic, so the pairs below were marked by hand from their headlines: pairs of bilateral items of
the same pair (all pairs but IL-PS, whose 37 items were too many to mark) that follow one topic
(a submarine incident and its aftermath, one round of Kashmir talks, one troop redeployment)
or not (a trade accord and a border shooting). Prints, with and without the pair's own names,
the AUC and how many pairs of each kind reach each threshold; with ``--sample PATH``, also the
similarity (``pipeline.threads.story_similarity``) of each two stories of one pair in an
offline sample's ``stories.yaml``.

Usage: python scripts/thread_similarity.py [--sample pipeline/data/sample/stories.yaml]
"""

from __future__ import annotations

import argparse
import html
import itertools
import json
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import yaml

from pipeline.cluster import content_words, jaccard
from pipeline.detect import load_gazetteer, pair_terms
from pipeline.threads import ThreadStory, story_similarity

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "real_news.jsonl"
THRESHOLDS = (0.05, 0.06, 0.08, 0.10, 0.12, 0.15)

SAME_TOPIC = (
    ("ag-test-5384", "ag-test-5613"),
    ("ag-test-5384", "ag-test-5723"),
    ("ag-test-5613", "ag-test-5723"),
    ("ag-test-1757", "ag-test-7146"),
    ("ag-test-5585", "ag-test-5683"),
    ("ag-test-5585", "ag-test-5813"),
    ("ag-test-5683", "ag-test-5813"),
    ("ag-test-3588", "ag-test-5810"),
    ("ag-test-7328", "bbc-business-478"),
    ("ag-test-3932", "ag-test-4262"),
    ("ag-test-3932", "ag-test-4340"),
    ("ag-test-4262", "ag-test-4340"),
    ("ag-test-186", "ag-test-212"),
    ("ag-test-2529", "ag-test-2658"),
    ("ag-test-1135", "ag-test-1225"),
    ("ag-test-1135", "ag-test-1267"),
    ("ag-test-1135", "ag-test-2291"),
    ("ag-test-1135", "ag-test-4625"),
    ("ag-test-1135", "ag-test-5441"),
    ("ag-test-1135", "ag-test-6589"),
    ("ag-test-1225", "ag-test-1267"),
    ("ag-test-1225", "ag-test-2291"),
    ("ag-test-1267", "ag-test-2291"),
    ("ag-test-4625", "ag-test-5441"),
    ("ag-test-4625", "ag-test-6589"),
    ("ag-test-5441", "ag-test-6589"),
    ("ag-test-3864", "ag-test-4326"),
    ("ag-test-1888", "ag-test-3389"),
    ("ag-test-1888", "ag-test-6062"),
    ("ag-test-1888", "ag-test-6515"),
    ("ag-test-3389", "ag-test-6062"),
    ("ag-test-3389", "ag-test-6515"),
    ("ag-test-6062", "ag-test-6515"),
    ("ag-test-7383", "ag-test-7459"),
    ("ag-test-5819", "ag-test-5823"),
    ("ag-test-2648", "ag-test-3661"),
    ("ag-test-2648", "ag-test-506"),
    ("ag-test-2648", "ag-test-6881"),
    ("ag-test-2648", "ag-test-6886"),
    ("ag-test-3661", "ag-test-506"),
    ("ag-test-3661", "ag-test-6881"),
    ("ag-test-3661", "ag-test-6886"),
    ("ag-test-506", "ag-test-6881"),
    ("ag-test-506", "ag-test-6886"),
    ("ag-test-6881", "ag-test-6886"),
    ("ag-test-1456", "ag-test-1538"),
)
OTHER_TOPIC = (
    ("ag-test-1757", "ag-test-5585"),
    ("ag-test-1757", "ag-test-5683"),
    ("ag-test-1757", "ag-test-5813"),
    ("ag-test-5585", "ag-test-7146"),
    ("ag-test-5683", "ag-test-7146"),
    ("ag-test-5813", "ag-test-7146"),
    ("ag-test-3588", "ag-test-49"),
    ("ag-test-3588", "ag-test-938"),
    ("ag-test-49", "ag-test-5726"),
    ("ag-test-49", "ag-test-5810"),
    ("ag-test-49", "ag-test-938"),
    ("ag-test-5726", "ag-test-5810"),
    ("ag-test-5726", "ag-test-938"),
    ("ag-test-5810", "ag-test-938"),
    ("ag-test-4467", "ag-test-4486"),
    ("ag-test-4467", "ag-test-4940"),
    ("ag-test-4486", "ag-test-4940"),
    ("ag-test-5126", "ag-test-5990"),
    ("ag-test-5126", "ag-test-7328"),
    ("ag-test-5126", "bbc-business-478"),
    ("ag-test-5990", "ag-test-7328"),
    ("ag-test-5990", "bbc-business-478"),
    ("ag-test-3932", "bbc-politics-192"),
    ("ag-test-3932", "bbc-politics-197"),
    ("ag-test-4262", "ag-test-5550"),
    ("ag-test-4262", "bbc-politics-192"),
    ("ag-test-4262", "bbc-politics-197"),
    ("ag-test-4340", "ag-test-5550"),
    ("ag-test-4340", "bbc-politics-192"),
    ("ag-test-4340", "bbc-politics-197"),
    ("ag-test-5550", "bbc-politics-192"),
    ("bbc-politics-192", "bbc-politics-197"),
    ("ag-test-6214", "ag-test-755"),
    ("ag-test-1135", "ag-test-7293"),
    ("ag-test-1135", "bbc-business-347"),
    ("ag-test-1225", "ag-test-7293"),
    ("ag-test-1225", "bbc-business-347"),
    ("ag-test-1267", "ag-test-7293"),
    ("ag-test-1267", "bbc-business-347"),
    ("ag-test-2291", "ag-test-7293"),
    ("ag-test-2291", "bbc-business-347"),
    ("ag-test-2477", "ag-test-7293"),
    ("ag-test-2477", "bbc-business-347"),
    ("ag-test-4625", "ag-test-7293"),
    ("ag-test-4625", "bbc-business-347"),
    ("ag-test-5441", "ag-test-7293"),
    ("ag-test-5441", "bbc-business-347"),
    ("ag-test-6589", "ag-test-7293"),
    ("ag-test-6589", "bbc-business-347"),
    ("ag-test-7293", "bbc-business-347"),
    ("ag-test-3864", "bbc-business-181"),
    ("ag-test-4179", "bbc-business-181"),
    ("ag-test-4326", "bbc-business-181"),
    ("ag-test-2341", "ag-test-4591"),
    ("ag-test-2505", "ag-test-3390"),
    ("ag-test-656", "ag-test-800"),
)


def _words(item: dict[str, str]) -> set[str]:
    return content_words(html.unescape(f"{item['title']}\n{item['text']}"))


def _auc(same: list[float], other: list[float]) -> float:
    wins = sum((s > o) + 0.5 * (s == o) for s in same for o in other)
    return wins / (len(same) * len(other))


def labelled() -> None:
    """Print the figures of the hand-marked pairs of the labelled set."""
    items = {r["id"]: r for r in map(json.loads, DATA.read_text(encoding="utf-8").splitlines())}
    gaz = load_gazetteer()
    print(f"pairs: {len(SAME_TOPIC)} same topic, {len(OTHER_TOPIC)} other topics")
    for name, keep_names in (("with the pair's names", True), ("without them", False)):
        scores: list[list[float]] = [[], []]
        for kind, pairs in enumerate((SAME_TOPIC, OTHER_TOPIC)):
            for a, b in pairs:
                codes = tuple(items[a]["countries"])
                skip = set() if keep_names else set(content_words(" ".join(pair_terms(gaz, codes))))
                scores[kind].append(jaccard(_words(items[a]) - skip, _words(items[b]) - skip))
        same, other = scores
        print(f"{name}: AUC {_auc(same, other):.3f}")
        for t in THRESHOLDS:
            linked = sum(s >= t for s in same)
            wrong = sum(o >= t for o in other)
            print(
                f"  >= {t:.2f}: same topic {linked}/{len(same)}, other topics {wrong}/{len(other)}"
            )


def sample(path: Path) -> None:
    """Print the similarity of each two stories of one pair in a sample's stories.yaml."""
    groups: dict[str, list[dict[str, object]]] = defaultdict(list)
    for item in yaml.safe_load(path.read_text(encoding="utf-8"))["stories"]:
        if item.get("dyad"):
            groups[item["story"]].append(item)
    by_pair: dict[str, list[ThreadStory]] = defaultdict(list)
    for name, articles in groups.items():
        times = sorted(datetime.fromisoformat(str(a["published"])) for a in articles)
        texts = [f"{a['title']}\n" + "\n".join(a["body"]) for a in articles]  # type: ignore[arg-type]
        dyad = "-".join(sorted(articles[0]["dyad"]))  # type: ignore[arg-type]
        words = tuple(frozenset(content_words(t)) for t in texts)
        by_pair[dyad].append(ThreadStory(name, dyad, times[0], times[-1], words))
    for dyad, stories in sorted(by_pair.items()):
        ordered = sorted(stories, key=lambda s: s.first_seen)
        for a, b in itertools.combinations(ordered, 2):
            print(
                f"{dyad} {story_similarity(a, b):.3f} {a.id} (last {a.last_seen:%d %b})"
                f" -> {b.id} (first {b.first_seen:%d %b})"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=Path, help="an offline sample's stories.yaml")
    args = parser.parse_args()
    labelled()
    if args.sample:
        sample(args.sample)


if __name__ == "__main__":
    main()
