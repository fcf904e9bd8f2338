"""Ingest benchmark: figures, not pass/fail.

Serves generated feeds (and article pages) from loopback servers, runs the real ingest over them
into a fresh SQLite store, and prints articles/s end to end, time per stage and peak memory. On
the same pages it times bare ``trafilatura.extract`` in one process as the CPU floor and prints
the ratio. Pages are the real article pages of ``../shared/corpus/articles`` (``--corpus`` names
another folder); without them the benchmark says so and stops (exit 2), unless ``--generated``
asks for generated 600-word pages, which every line then names. When the corpus has ``feeds/``,
each real feed is also served from loopback and parsed, with entries per feed printed.

Politeness is relaxed for the benchmark (no spacing, 4 requests per host at once, pages spread
over 4 loopback servers): it measures Dyad's own throughput, not the delay we impose on hosts.

Usage: python bench/bench_ingest.py [--feeds 20] [--items 20] [--rounds 3] [--corpus DIR]
       [--generated]
"""

from __future__ import annotations

import argparse
import gzip
import logging
import random
import resource
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
import trafilatura

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline import jobs  # noqa: E402
from pipeline.config import load_settings  # noqa: E402
from pipeline.feeds import poll_feed  # noqa: E402
from pipeline.http import build_client  # noqa: E402
from pipeline.records import FeedValidators  # noqa: E402
from tests.conftest import write_feeds  # noqa: E402
from tests.servers import LoopbackServer, article_html, rss  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"
WORDS = (
    "minister talks border trade agreement delegation sanctions embassy summit cooperation envoy "
    "treaty visit capital officials said government security energy oil arms"
).split()


def generated_pages(count: int) -> list[bytes]:
    rng = random.Random(7)
    pages = []
    for i in range(count):
        paragraphs = [
            " ".join(rng.choice(WORDS) for _ in range(60)).capitalize() + "." for _ in range(10)
        ]
        pages.append(article_html(f"Generated story {i}", paragraphs).encode("utf-8"))
    return pages


def corpus_pages(corpus: Path) -> list[bytes]:
    folder = corpus / "articles" / "html"
    if not folder.is_dir():
        return []
    return [gzip.decompress(p.read_bytes()) for p in sorted(folder.glob("*.html.gz"))]


def bare_floor(pages: list[bytes], *, with_metadata: bool) -> float:
    """Pages/s of trafilatura.extract in this one process: its defaults (with_metadata=False),
    or Dyad's options (with_metadata=True: metadata on, fast=True)."""
    started = time.perf_counter()
    for body in pages:
        trafilatura.extract(
            body,
            favor_precision=True,
            include_comments=False,
            include_tables=False,
            with_metadata=with_metadata,
            fast=with_metadata,  # the "as Dyad extracts" floor uses Dyad's options
        )
    return len(pages) / (time.perf_counter() - started)


class TreeMemory:
    """Samples the RSS of this process plus all its descendants (extraction workers)."""

    def __init__(self) -> None:
        self.peak_total = 0
        self.peak_child = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            try:
                kids = [c.memory_info().rss for c in me.children(recursive=True)]
            except psutil.Error:
                kids = []
            self.peak_child = max([self.peak_child, *kids])
            self.peak_total = max(self.peak_total, me.memory_info().rss + sum(kids))
            time.sleep(0.05)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run_once(n_feeds: int, n_items: int, pages: list[bytes]) -> tuple[float, dict[str, float], int]:
    servers = [LoopbackServer() for _ in range(4)]
    try:
        feed_urls = []
        k = 0
        for f in range(n_feeds):
            items = []
            for i in range(n_items):
                srv = servers[k % len(servers)]
                path = f"/f{f}/a{i}"
                srv.add(path, pages[k % len(pages)], content_type="text/html; charset=utf-8")
                items.append({"title": f"Story {f}-{i}", "link": srv.url(path), "guid": f"{f}-{i}"})
                k += 1
            feed_srv = servers[f % len(servers)]
            feed_srv.add(f"/feed{f}", rss(items), content_type="application/rss+xml")
            feed_urls.append(feed_srv.url(f"/feed{f}"))
        with tempfile.TemporaryDirectory() as tmp:
            feeds = write_feeds(Path(tmp) / "feeds.yaml", feed_urls)
            relaxed = {
                "allow_private_networks": True,
                "per_host_delay": 0,
                "per_host_concurrency": 4,
            }
            settings = load_settings(
                None,
                data_dir=Path(tmp) / "var",
                http=relaxed,
                extract={"fetch_workers": 8},
                feeds={"poll_workers": 8},
            )
            started = time.perf_counter()
            report = jobs.run_ingest(settings, feeds)
            elapsed = time.perf_counter() - started
        done = report.articles.extracted + report.articles.fallback
        return done / elapsed, report.stage_seconds, done
    finally:
        for srv in servers:
            srv.close()


def corpus_feeds(corpus: Path) -> None:
    folder = corpus / "feeds"
    if not folder.is_dir():
        print(f"\n({folder} absent: real-feed parsing skipped)")
        return
    files = sorted(
        p for p in folder.iterdir() if p.is_file() and p.suffix in (".xml", ".rss", ".atom", ".rdf")
    )
    server = LoopbackServer()
    settings = load_settings(None, http={"allow_private_networks": True, "per_host_delay": 0})
    print(f"\nReal feeds from {folder} served on loopback ({len(files)} files):")
    try:
        with build_client(settings) as client:
            for path in files:
                url = server.add(f"/{path.name}", path.read_bytes(), content_type="application/xml")
                try:
                    poll = poll_feed(client, url, FeedValidators(), jobs.utc_now(), settings.feeds)
                    parsed = poll.parsed
                    assert parsed is not None
                    note = " (partial: " + parsed.warnings[0][:60] + ")" if parsed.partial else ""
                    print(f"  {path.name:38} {len(parsed.entries):4d} entries{note}")
                except Exception as exc:
                    print(f"  {path.name:38}    - {type(exc).__name__}: {str(exc)[:70]}")
    finally:
        server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=20)
    parser.add_argument("--items", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="folder with articles/html")
    parser.add_argument(
        "--generated", action="store_true", help="use 100 generated pages (not real news)"
    )
    args = parser.parse_args()
    logging.disable(logging.WARNING)  # per-article failures are counted in the report
    if args.generated:
        pages, source = generated_pages(100), "100 GENERATED 600-word pages (not real news)"
    else:
        pages = corpus_pages(args.corpus)
        source = f"{len(pages)} real article pages from {args.corpus}"
    if not pages:
        print(
            f"bench_ingest needs the real pages in {args.corpus / 'articles' / 'html'} "
            "(../shared/corpus); none found. Give --corpus DIR, or --generated to measure on "
            "generated pages instead.",
            file=sys.stderr,
        )
        raise SystemExit(2)
    total = args.feeds * args.items
    print(f"Pages: {source}; {args.feeds} feeds x {args.items} items = {total} articles per round")
    sample = pages[: min(len(pages), total)]
    floor = statistics.median(bare_floor(sample, with_metadata=False) for _ in range(args.rounds))
    floor_meta = statistics.median(
        bare_floor(sample, with_metadata=True) for _ in range(args.rounds)
    )
    print(
        f"Bare trafilatura.extract, one process: {floor:7.1f} articles/s (median of {args.rounds})"
    )
    print(f"  ... with metadata, as Dyad extracts: {floor_meta:7.1f} articles/s")
    rates, stages = [], []
    with TreeMemory() as memory:
        for _ in range(args.rounds):
            rate, stage, done = run_once(args.feeds, args.items, pages)
            rates.append(rate)
            stages.append(stage)
    rate = statistics.median(rates)
    print(
        f"Dyad ingest end to end ({done} articles): {rate:7.1f} articles/s "
        f"(median of {args.rounds})"
    )
    for key in stages[0]:
        print(f"  stage {key:9} {statistics.median(s[key] for s in stages):6.2f} s (median)")
    print(
        f"Ratio ingest / bare floor: {rate / floor:.2f}x (target >= 0.7x); "
        f"against the same-options floor: {rate / floor_meta:.2f}x"
    )
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"Peak RSS: main process {own:.0f} MiB (loopback servers included), largest extraction "
        f"worker {memory.peak_child / 2**20:.0f} MiB, "
        f"whole process tree {memory.peak_total / 2**20:.0f} MiB"
    )
    corpus_feeds(args.corpus)


if __name__ == "__main__":
    main()
