"""Store-size benchmark: does a 30-day summarize grow with the store, or only with its window?

For each store size it builds a fresh store holding the same 30-day window of bilateral articles
(``--window`` of them, every size alike) plus older bilateral articles outside the window up to
the size, then times ``summarize_stories`` over that window with the local summarizer (no LLM),
which reads the window's articles with their outlets, clusters them and summarises every story.
Work proportional to the window means the same time at every size: the issue's target is the
largest size within 1.2x of the smallest.

Texts and pairs are the real bilateral items of the labelled set in ``tests/data/real_news.jsonl``
(AG News and BBC, 2004-05; ``tests/data/README.md`` gives their source and terms), reused round
robin with distinct URLs; outlets are 30 feeds. Rows are bulk-inserted (the ingest path is not
what this measures). ``--database`` takes a PostgreSQL URL; each size then uses a fresh schema.

Usage: python bench/bench_store.py [--sizes 6000,24000] [--window 3000] [--repeat 3]
       [--database postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, insert, text  # noqa: E402

from pipeline import jobs  # noqa: E402
from pipeline.config import load_settings  # noqa: E402
from pipeline.records import FeedSpec  # noqa: E402
from pipeline.store.db import open_engine  # noqa: E402
from pipeline.store.feeds import load_feeds, sync_feeds  # noqa: E402
from pipeline.store.tables import ArticleRow, EntryRow  # noqa: E402

LABELLED = ROOT / "tests" / "data" / "real_news.jsonl"
UNTIL = datetime(2026, 11, 25, 6, tzinfo=UTC)
WINDOW = timedelta(days=30)
OUTLETS = 30


def real_bilateral_items() -> list[dict[str, object]]:
    """The labelled real items a reader marked bilateral, with their pair."""
    rows = [json.loads(line) for line in LABELLED.read_text(encoding="utf-8").splitlines()]
    return [r for r in rows if r["bilateral"] and len(r["countries"]) == 2]  # type: ignore[arg-type]


def article_rows(
    items: list[dict[str, object]], count: int, start: datetime, span: timedelta, prefix: str
) -> list[dict[str, object]]:
    """``count`` article rows spread evenly over [start, start + span), texts round robin."""
    rows = []
    for n in range(count):
        item = items[n % len(items)]
        pair = sorted(item["countries"])  # type: ignore[call-overload]
        seen = start + span * (n / max(count, 1))
        rows.append(
            {
                "canonical_url": f"https://news{n % OUTLETS}.example/{prefix}/{n}",
                "url": f"https://news{n % OUTLETS}.example/{prefix}/{n}",
                "title": item["title"],
                "text": item["text"],
                "text_source": "page",
                "status": "extracted",
                "entry_hash": f"{prefix}{n}",
                "first_seen_at": seen,
                "updated_at": seen,
                "extracted_at": seen,
                "bilateral": True,
                "dyad": f"{pair[0]}-{pair[1]}",
                "detect_score": 0.9,
                "gazetteer_version": "bench",
            }
        )
    return rows


def build_store(url: str, size: int, window_articles: int) -> None:
    """A store of ``size`` articles: the fixed window plus older ones before it."""
    engine = open_engine(url)
    sync_feeds(
        engine,
        [FeedSpec(name=f"Outlet {i}", url=f"https://news{i}.example/feed") for i in range(OUTLETS)],
    )
    feeds = load_feeds(engine)
    items = real_bilateral_items()
    older = size - window_articles
    rows = article_rows(items, window_articles, UNTIL - WINDOW, WINDOW, "w") + article_rows(
        items, older, UNTIL - WINDOW - timedelta(days=365), timedelta(days=364), "o"
    )
    with engine.begin() as conn:
        ids = conn.execute(insert(ArticleRow).returning(ArticleRow.id), rows).scalars().all()
        entries = [
            {
                "feed_id": feeds[n % OUTLETS].id,
                "entry_key": f"e{n}",
                "link": row["url"],
                "article_id": article_id,
                "title": row["title"],
                "content_hash": row["entry_hash"],
                "first_seen_at": row["first_seen_at"],
                "last_seen_at": row["first_seen_at"],
            }
            for n, (article_id, row) in enumerate(zip(ids, rows, strict=True))
        ]
        conn.execute(insert(EntryRow), entries)
    engine.dispose()


def fresh_url(base: str | None, folder: Path, label: str) -> str:
    """A new empty database: a SQLite file in ``folder``, or a new schema on PostgreSQL."""
    if base is None:
        return f"sqlite:///{folder / f'{label}.db'}"
    schema = f"bench_store_{label}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    admin.dispose()
    return base + ("&" if "?" in base else "?") + f"options=-csearch_path%3D{schema}"


def time_summarize(url: str, folder: Path) -> tuple[float, int, int]:
    """Seconds of one 30-day summarize on a store never summarised, its articles and stories."""
    settings = load_settings(database_url=url, data_dir=folder)
    started = time.perf_counter()
    report = jobs.summarize_stories(
        settings, since=UNTIL - WINDOW, until=UNTIL, clock=lambda: UNTIL
    )
    return time.perf_counter() - started, report.articles, report.stories


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="6000,24000", help="store sizes, comma-separated")
    parser.add_argument("--window", type=int, default=3000, help="articles in the 30-day window")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size (median printed)")
    parser.add_argument("--database", default=None, help="a PostgreSQL URL (default: SQLite)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if min(sizes) < args.window:
        parser.error("every size must hold the window")
    logging.basicConfig(level=logging.WARNING)
    kind = "PostgreSQL" if args.database else "SQLite"
    print(f"store-size benchmark on {kind}: window {args.window} articles over 30 days, texts from")
    print(f"the {len(real_bilateral_items())} real bilateral items of {LABELLED.relative_to(ROOT)}")
    medians: dict[int, float] = {}
    for size in sizes:
        seconds = []
        for attempt in range(args.repeat):
            with tempfile.TemporaryDirectory() as tmp:
                url = fresh_url(args.database, Path(tmp), f"{size}_{attempt}")
                build_store(url, size, args.window)
                elapsed, articles, stories = time_summarize(url, Path(tmp))
            seconds.append(elapsed)
        medians[size] = statistics.median(seconds)
        runs = ", ".join(f"{s:.2f}" for s in seconds)
        print(
            f"  {size:>6} articles stored: summarize {medians[size]:.2f} s median ({runs}); "
            f"{articles} window articles, {stories} stories"
        )
    smallest, largest = min(sizes), max(sizes)
    ratio = medians[largest] / medians[smallest]
    print(f"  {largest} vs {smallest}: {ratio:.2f}x (target <= 1.2x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
