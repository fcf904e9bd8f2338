"""Clustering benchmark: N real articles of ONE pair, as a busy pair's week would bring them.

The articles are real texts, nobody's on this project: the main text of the 181 real pages of
``../shared/corpus/articles/html`` as Dyad extracts it (``pipeline.extract.extract_article``;
pages without text are skipped), then the 3,248 items of ``../shared/corpus/stories/stories.jsonl``
(AG News and BBC; headline + text). Together they are put in a fixed order (by the SHA-256 of
their ids: page file name, item id), the first N are taken, all get the same pair (US-CN), 50
outlet names in turn, and first-seen times spread evenly over ``--days`` (default 7, the window
``dyad cluster`` uses); they are then clustered with the ``cluster.*`` defaults
(``pipeline.cluster``). Most of these texts are unrelated to one another; AG News holds several
agencies' versions of some events, which should become small stories.

Printed per size: candidate pairs (article pairs offered to the exact check), candidates per
article, exact comparisons (article vs story member), the largest story, the story count and
how many have 2+ articles, and time (median of ``--rounds``; CPU seconds of this process beside
wall seconds). Targets (issue 14): candidates <= 20x the article count and largest story <= 50
at 2,000 articles.

Without the corpus it stops with exit 2 and says so, unless ``--generated`` asks for generated
texts (random words over a 30,000-word vocabulary; see ``generated_texts``), which the output names.

Usage: python bench/bench_cluster.py [--articles 500,1000,2000] [--days 7] [--rounds 3]
       [--corpus ../shared/corpus] [--generated]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.cluster import (  # noqa: E402
    ClusterInput,
    ClusterRule,
    ClusterStats,
    candidate_probability,
    cluster_with_stats,
)
from pipeline.config.sections import ClusterSettings  # noqa: E402
from pipeline.errors import NoExtractableText  # noqa: E402
from pipeline.extract import decode_html, extract_article  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"
START = datetime(2026, 11, 18, tzinfo=UTC)


def real_texts(corpus: Path) -> list[tuple[str, str]]:
    """(id, text) of the corpus's real pages and news items, in the benchmark's fixed order."""
    texts: list[tuple[str, str]] = []
    for page in sorted((corpus / "articles" / "html").glob("*.html.gz")):
        html, _ = decode_html(gzip.decompress(page.read_bytes()))
        try:
            extracted = extract_article(html, f"https://bench.example/{page.name}")
        except NoExtractableText:
            continue
        texts.append((page.name.split(".")[0], f"{extracted.title or ''}\n{extracted.text}"))
    for line in (corpus / "stories" / "stories.jsonl").read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        texts.append((item["id"], f"{item['title']}\n{item['text']}"))
    return sorted(texts, key=lambda t: hashlib.sha256(t[0].encode()).hexdigest())


def _word(rank: int) -> str:
    letters = ""
    while True:
        rank, digit = divmod(rank, 26)
        letters += chr(ord("a") + digit)
        if not rank:
            return f"zq{letters}"


def generated_texts(count: int) -> list[tuple[str, str]]:
    """``count`` unrelated texts of 80-400 random words, seeded: 30,000 words, weights
    ``1 / (rank + 300)`` (pairwise Jaccard near the real texts': median 0.015, 90th percentile
    0.026)."""
    rng = random.Random(14)
    vocabulary = [_word(rank) for rank in range(30_000)]
    weights = [1 / (rank + 300) for rank in range(len(vocabulary))]
    return [
        (f"gen-{n}", " ".join(rng.choices(vocabulary, weights, k=rng.randint(80, 400))))
        for n in range(count)
    ]


def articles_of_one_pair(texts: list[tuple[str, str]], days: float) -> list[ClusterInput]:
    """The texts as articles of one pair, first seen evenly over ``days``."""
    step = timedelta(days=days) / max(len(texts), 1)
    return [
        ClusterInput(
            article_id=n,
            dyad="CN-US",
            seen_at=START + n * step,
            text=text,
            outlet=f"outlet-{n % 50}",
            canonical_url=f"https://bench.example/{ident}",
        )
        for n, (ident, text) in enumerate(texts)
    ]


def measure(articles: list[ClusterInput], rule: ClusterRule, rounds: int) -> None:
    walls, cpus = [], []
    stats = ClusterStats()
    stories = []
    for _ in range(rounds):
        wall, cpu = time.perf_counter(), time.process_time()
        stories, stats = cluster_with_stats(articles, rule)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    n = len(articles)
    multi = sum(1 for s in stories if len(s.article_ids) > 1)
    print(
        f"  {n:>5} articles: {stats.candidates:>7} candidate pairs "
        f"({stats.candidates / n:5.2f} per article; target <= 20: "
        f"{'yes' if stats.candidates <= 20 * n else 'NO'}), "
        f"{stats.comparisons} exact comparisons; largest story {stats.largest} "
        f"(target <= 50: {'yes' if stats.largest <= 50 else 'NO'}), {stats.stories} stories "
        f"({multi} with 2+ articles); {statistics.median(cpus):.2f} CPU-s, "
        f"{statistics.median(walls):.2f} s wall (median of {rounds})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", default="500,1000,2000", help="comma-separated sizes")
    parser.add_argument("--days", type=float, default=7.0, help="first-seen spread of the articles")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--generated", action="store_true", help="generated texts, no corpus")
    parser.add_argument("--num-perm", type=int, help="instead of cluster.num_perm")
    parser.add_argument("--lsh-rows", type=int, help="instead of cluster.lsh_rows")
    args = parser.parse_args()
    sizes = [int(n) for n in args.articles.split(",")]
    if args.generated:
        texts, source = generated_texts(max(sizes)), "GENERATED texts (random words)"
    elif not (args.corpus / "stories" / "stories.jsonl").is_file():
        print(
            f"bench_cluster: no real corpus at {args.corpus} (stories/stories.jsonl and "
            "articles/html); give --corpus DIR, or --generated for generated texts",
            file=sys.stderr,
        )
        return 2
    else:
        texts, source = real_texts(args.corpus), f"real texts from {args.corpus}"
    if max(sizes) > len(texts):
        print(f"bench_cluster: only {len(texts)} texts, asked for {max(sizes)}", file=sys.stderr)
        return 2
    settings = ClusterSettings()
    rule = ClusterRule(
        window=timedelta(hours=settings.window_hours),
        similarity=settings.similarity,
        num_perm=args.num_perm or settings.num_perm,
        lsh_rows=args.lsh_rows or settings.lsh_rows,
        exact_neighbours=settings.exact_neighbours,
        max_story_articles=settings.max_story_articles,
    )
    curve = ", ".join(
        f"{s:.2f}: {candidate_probability(s, rule.bands, rule.lsh_rows):.2f}"
        for s in (0.05, 0.08, 0.1, 0.15, 0.2, 0.3)
    )
    print(
        f"Clustering one pair, {source}; first seen over {args.days:g} days; window "
        f"{settings.window_hours:g} h, similarity {rule.similarity}, LSH {rule.bands} bands x "
        f"{rule.lsh_rows} rows (P(candidate) at Jaccard {curve}), exact up to "
        f"{rule.exact_neighbours} neighbours, max {rule.max_story_articles} articles a story"
    )
    for size in sizes:
        measure(articles_of_one_pair(texts[:size], args.days), rule, args.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
