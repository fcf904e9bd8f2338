"""Local summary benchmark: figures, not pass/fail.

1. Sentence segmentation on the labelled real-news set (tests/data/real_news.jsonl, the texts
   with two or more full stops): the regex the local summariser used before issue 15 against
   nupunkt (``pipeline.summarize.sentences``), sentences found, seconds (median of 3), and
   "likely missed" boundaries (a lower-case word of 4+ letters, then [.!?], a space and a
   capitalised word, inside one sentence).
2. The same-fact rule (``pipeline.summarize.facts.same_fact``): cross-article sentence pairs it
   joins in the offline sample's multi-outlet stories (each printed: they should be the same
   event), and pairs it joins between different real news items of the same country pair
   (mostly different events, so mostly false merges).
3. With ``../shared/corpus/articles`` (181 real pages; ``--pages`` points elsewhere): the local
   summariser's time over every page with text, each page a one-article story.

Usage: python bench/bench_local_summary.py [--pages ../shared/corpus/articles/html]
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import re
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402
from nupunkt import sent_tokenize  # noqa: E402

from pipeline.config import SAMPLE_DIR  # noqa: E402
from pipeline.detect import load_gazetteer, pair_terms  # noqa: E402
from pipeline.extract import extract_article  # noqa: E402
from pipeline.records import Story, StoryArticle  # noqa: E402
from pipeline.summarize.facts import facts_of, same_fact  # noqa: E402
from pipeline.summarize.local import _candidates, summarize_locally  # noqa: E402
from pipeline.summarize.sentences import split_sentences  # noqa: E402

PAGES = ROOT.parent / "shared" / "corpus" / "articles" / "html"
OLD_REGEX = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“])")  # the local summariser's before issue 15
MISSED = re.compile(r"\b[a-z]{4,}[.!?]\"? [A-Z][a-z]+")


def _median_seconds(work: Callable[[], object], rounds: int = 3) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def segmentation() -> None:
    rows = [json.loads(line) for line in (ROOT / "tests/data/real_news.jsonl").open()]
    texts = [" ".join(r["text"].split()) for r in rows if r["text"].count(".") >= 2]
    for name, split in (
        ("regex (before)", OLD_REGEX.split),
        ("nupunkt", sent_tokenize),
    ):
        found = [s for t in texts for s in split(t) if isinstance(s, str)]
        missed = sum(len(MISSED.findall(s)) for s in found)
        seconds = _median_seconds(lambda split=split: [split(t) for t in texts])
        print(
            f"  {name:15} {len(found):6} sentences, {seconds:.3f} s for {len(texts)} texts, "
            f"{missed} likely missed boundaries"
        )


def _sample_stories() -> dict[str, list[dict]]:
    stories = yaml.safe_load((SAMPLE_DIR / "stories.yaml").read_text())["stories"]
    groups: dict[str, list[dict]] = {}
    for story in stories:
        if story.get("dyad"):
            groups.setdefault(story["story"], []).append(story)
    return {name: members for name, members in groups.items() if len(members) > 1}


def merges() -> None:
    gazetteer = load_gazetteer()
    compared = joined = 0
    for name, members in _sample_stories().items():
        articles = [
            StoryArticle(
                article_id=n,
                url="https://sample.example/",
                outlet=m["outlet"],
                title=m["title"],
                text="\n".join(m["body"]),
                published_at=datetime.fromisoformat(m["published"].replace("Z", "+00:00")),
            )
            for n, m in enumerate(members)
        ]
        found = _candidates(articles, pair_terms(gazetteer, tuple(sorted(members[0]["dyad"]))))
        for a, b in itertools.combinations(found, 2):
            if a.article == b.article:
                continue
            compared += 1
            if same_fact(a.facts, b.facts):
                joined += 1
                print(f"  {name}: {a.passage.sentence[:70]}…\n    = {b.passage.sentence[:70]}…")
    print(f"  sample: {joined} of {compared} cross-article sentence pairs joined")
    rows = [json.loads(line) for line in (ROOT / "tests/data/real_news.jsonl").open()]
    by_pair: dict[tuple[str, ...], list[dict]] = {}
    for row in rows:
        if row["bilateral"]:
            by_pair.setdefault(tuple(row["countries"]), []).append(row)
    compared = joined = 0
    for codes, items in by_pair.items():
        terms = pair_terms(gazetteer, codes)
        sentences = [
            (i, facts_of(s, terms))
            for i, item in enumerate(items)
            for s in split_sentences(" ".join(item["text"].split()))
        ]
        for (i, a), (j, b) in itertools.combinations(sentences, 2):
            if i != j:
                compared += 1
                joined += same_fact(a, b)
    print(f"  real news, different items of one pair: {joined} of {compared} pairs joined")


def pages(folder: Path) -> None:
    if not folder.is_dir():
        print(f"  {folder} is absent: skipped")
        return
    published = datetime(2020, 3, 4, 12, tzinfo=UTC)
    articles = []
    for n, path in enumerate(sorted(folder.glob("*.html.gz"))):
        html = gzip.decompress(path.read_bytes()).decode("utf-8", "replace")
        try:
            page = extract_article(html, "https://example.org/a")
        except Exception:  # a page without text is simply not counted
            continue
        title = page.title or "Untitled page"
        articles.append(
            StoryArticle(
                article_id=n,
                url="https://example.org/a",
                outlet="x",
                title=title,
                text=page.text,
                published_at=published,
            )
        )
    story = Story(
        id="s",
        dyad="IN-RU",
        article_ids=(0,),
        outlets=("x",),
        first_seen=published,
        last_seen=published,
        content_hash="h",
    )

    def run() -> None:
        for article in articles:
            summarize_locally(story, [article], (), ())

    seconds = _median_seconds(run)
    print(
        f"  {len(articles)} real pages: {seconds:.3f} s ({1000 * seconds / len(articles):.2f} "
        "ms per one-article story)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=Path, default=PAGES)
    args = parser.parse_args()
    print("Sentence segmentation, labelled real news:")
    segmentation()
    print("Same-fact rule:")
    merges()
    print("Local summariser time:")
    pages(args.pages)


if __name__ == "__main__":
    main()
