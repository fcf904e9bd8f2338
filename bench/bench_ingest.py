"""Ingest benchmark: figures, not pass/fail.

Serves feeds and article pages from loopback servers, runs the real ingest (``run_ingest``:
feeds, pages, extraction, detection) into a fresh SQLite store, and beside it a floor: the same
number of processes as Dyad's extractor pool (``extract.workers``; 0 = one per core) running
only trafilatura with Dyad's exact options on the same articles (``bench/floor.py``). For each
it prints wall time, CPU-seconds of the whole process tree (this process, where the loopback
servers run too, and every descendant: forkserver, extraction workers), CPU-ms per article and
peak RSS of the tree (``bench/tree.py``, psutil), then Dyad's throughput against the floor's by
wall time and by CPU (target >= 0.8x). Runs alternate floor, Dyad, floor, Dyad ... and medians
of ``--repeat`` are printed; the first Dyad run of the process also starts the forkserver.

``--articles 200,1000,4000`` measures each size (pages reused round-robin under distinct URLs,
20 per feed by ``--items``) so growth is visible: flat CPU-ms per article means cost grows only
with the articles. Pages are the real article pages of ``../shared/corpus/articles/html``
(``--corpus`` names another copy); without them the benchmark says so and stops (exit 2), unless
``--generated`` asks for generated 600-word pages, which every line then names. When the corpus
has ``feeds/``, each real feed is also served from loopback and parsed (entries per feed).

Politeness is relaxed for the benchmark (no spacing, 4 requests per host at once, pages spread
over 4 loopback servers): it measures Dyad's own cost, not the delay we impose on hosts.

Usage: python bench/bench_ingest.py [--articles 400] [--repeat 3] [--items 20] [--workers N]
       [--corpus DIR] [--generated] [--no-feeds]
"""

from __future__ import annotations

import argparse
import gzip
import logging
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.tree import TreeMeter  # noqa: E402
from pipeline import jobs  # noqa: E402
from pipeline.config import Settings, load_settings  # noqa: E402
from pipeline.extract import ExtractorPool  # noqa: E402
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


@dataclass
class Figures:
    """One measured run: wall and tree CPU seconds, peak tree RSS (bytes), what it did."""

    wall: float
    cpu: float
    rss: int
    done: int = 0
    own_cpu: float = 0.0
    own_rss: int = 0
    stages: dict[str, float] = field(default_factory=dict)


def median_of(runs: list[Figures]) -> Figures:
    """The median of each figure over ``runs`` (stages too)."""
    stages = {k: statistics.median(r.stages.get(k, 0.0) for r in runs) for k in runs[0].stages}
    return Figures(
        wall=statistics.median(r.wall for r in runs),
        cpu=statistics.median(r.cpu for r in runs),
        rss=int(statistics.median(r.rss for r in runs)),
        done=min(r.done for r in runs),
        own_cpu=statistics.median(r.own_cpu for r in runs),
        own_rss=int(statistics.median(r.own_rss for r in runs)),
        stages=stages,
    )


class Site:
    """``count`` articles (page ``k mod len(pages)`` at a distinct URL) in feeds of ``items``
    entries, served by 4 loopback servers."""

    def __init__(self, pages: list[bytes], count: int, items: int) -> None:
        self.servers = [LoopbackServer() for _ in range(4)]
        self.feed_urls: list[str] = []
        for f in range(math.ceil(count / items)):
            entries = []
            for i in range(f * items, min(count, (f + 1) * items)):
                srv = self.servers[i % len(self.servers)]
                path = f"/f{f}/a{i}"
                srv.add(path, pages[i % len(pages)], content_type="text/html; charset=utf-8")
                entries.append({"title": f"Story {i}", "link": srv.url(path), "guid": str(i)})
            feed_srv = self.servers[f % len(self.servers)]
            feed_srv.add(f"/feed{f}", rss(entries), content_type="application/rss+xml")
            self.feed_urls.append(feed_srv.url(f"/feed{f}"))

    def close(self) -> None:
        """Stop the servers."""
        for srv in self.servers:
            srv.close()


def bench_settings(tmp: Path, workers: int) -> Settings:
    """Dyad's settings for a benchmark run: a fresh store in ``tmp``, politeness relaxed."""
    relaxed = {"allow_private_networks": True, "per_host_delay": 0, "per_host_concurrency": 4}
    return load_settings(
        None,
        data_dir=tmp / "var",
        http=relaxed,
        extract={"fetch_workers": 8, "workers": workers},
        feeds={"poll_workers": 8},
    )


def dyad_run(site: Site, workers: int) -> Figures:
    """One ``run_ingest`` over the site into a fresh SQLite store, measured."""
    with tempfile.TemporaryDirectory() as tmp:
        feeds = write_feeds(Path(tmp) / "feeds.yaml", site.feed_urls)
        settings = bench_settings(Path(tmp), workers)
        with TreeMeter() as meter:
            report = jobs.run_ingest(settings, feeds)
    done = report.articles.extracted + report.articles.fallback
    stages = dict(report.stage_seconds)
    own = (meter.own_cpu, meter.peak_own_rss)
    return Figures(meter.wall, meter.cpu, meter.peak_rss, done, *own, stages)


def floor_run(pages_dir: Path, count: int, processes: int) -> Figures:
    """``processes`` floor processes (``bench/floor.py``) over ``count`` articles, measured from
    when all have imported trafilatura; this process only waits, so its CPU is left out."""
    command = [sys.executable, "-m", "bench.floor", str(pages_dir), str(count)]
    running = [
        subprocess.Popen(
            [*command, str(i), str(processes)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(processes)
    ]
    for process in running:
        assert process.stdout is not None and process.stdout.readline() == "ready\n"
    with TreeMeter(include_self=False) as meter:
        for process in running:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.close()
        codes = [p.wait() for p in running]
    if any(codes):
        raise SystemExit(f"a floor process failed: exit codes {codes}")
    return Figures(meter.wall, meter.cpu, meter.peak_rss, count)


def show(label: str, fig: Figures, count: int) -> None:
    """One line of figures."""
    print(
        f"  {label:44} wall {fig.wall:6.2f} s, CPU {fig.cpu:6.2f} s "
        f"({1000 * fig.cpu / count:5.1f} ms/article), peak tree RSS {fig.rss / 2**20:4.0f} MiB"
    )


def measure_size(
    args: argparse.Namespace, pages: list[bytes], pages_dir: Path, count: int
) -> float:
    """Floor and Dyad alternately over ``count`` articles; prints the medians and returns Dyad's
    CPU-ms per article."""
    site = Site(pages, count, args.items)
    floors, runs = [], []
    try:
        for _ in range(args.repeat):
            floors.append(floor_run(pages_dir, count, args.processes))
            runs.append(dyad_run(site, args.workers))
    finally:
        site.close()
    floor, dyad = median_of(floors), median_of(runs)
    print(f"{count} articles ({len(site.feed_urls)} feeds), medians of {args.repeat}:")
    show(f"floor, trafilatura only, {args.processes} processes:", floor, count)
    show("Dyad ingest end to end:", dyad, count)
    stages = ", ".join(f"{k} {v:.2f} s" for k, v in dyad.stages.items())
    print(f"    stored {dyad.done} of {count}; stages: {stages}")
    print(
        f"    CPU in this process (HTTP, store, detection, loopback servers) {dyad.own_cpu:.2f} s, "
        f"in its descendants (extraction, feed parsing) {dyad.cpu - dyad.own_cpu:.2f} s; "
        f"peak RSS of this process {dyad.own_rss / 2**20:.0f} MiB"
    )
    print(f"    Dyad CPU per run: {', '.join(f'{r.cpu:.2f}' for r in runs)} s (in run order)")
    print(
        f"  Dyad / floor throughput: {floor.wall / dyad.wall:.2f}x by wall time, "
        f"{floor.cpu / dyad.cpu:.2f}x by CPU (target >= 0.8x)"
    )
    return 1000 * dyad.cpu / count


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
        with build_client(settings) as client, ExtractorPool(settings.extract) as pool:
            for path in files:
                url = server.add(f"/{path.name}", path.read_bytes(), content_type="application/xml")
                try:
                    poll = poll_feed(
                        client, url, FeedValidators(), jobs.utc_now(), settings.feeds, pool
                    )
                    parsed = poll.parsed
                    assert parsed is not None
                    note = " (partial: " + parsed.warnings[0][:60] + ")" if parsed.partial else ""
                    print(f"  {path.name:38} {len(parsed.entries):4d} entries{note}")
                except Exception as exc:
                    print(f"  {path.name:38}    - {type(exc).__name__}: {str(exc)[:70]}")
    finally:
        server.close()


def load_pages(args: argparse.Namespace) -> tuple[list[bytes], str]:
    """The pages to serve and how to name them; exits (2) when the real corpus is absent."""
    if args.generated:
        return generated_pages(100), "100 GENERATED 600-word pages (not real news)"
    pages = corpus_pages(args.corpus)
    if not pages:
        print(
            f"bench_ingest needs the real pages in {args.corpus / 'articles' / 'html'} "
            "(../shared/corpus); none found. Give --corpus DIR, or --generated to measure on "
            "generated pages instead.",
            file=sys.stderr,
        )
        raise SystemExit(2)
    return pages, f"{len(pages)} real article pages from {args.corpus}"


def parse_args() -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", default="400", help="sizes, comma-separated: 200,1000,4000")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size (medians printed)")
    parser.add_argument("--items", type=int, default=20, help="entries per feed")
    parser.add_argument("--workers", type=int, default=None, help="extract.workers (0 = cores)")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="folder with articles/html")
    parser.add_argument(
        "--generated", action="store_true", help="use 100 generated pages (not real news)"
    )
    parser.add_argument("--no-feeds", action="store_true", help="skip the real-feed parsing")
    args = parser.parse_args()
    args.sizes = [int(n) for n in args.articles.split(",")]
    if args.workers is None:
        args.workers = load_settings(None).extract.workers
    args.processes = args.workers or (os.cpu_count() or 1)  # as ExtractorPool counts them
    return args


def main() -> None:
    args = parse_args()
    logging.disable(logging.WARNING)  # per-article failures are counted in the report
    pages, source = load_pages(args)
    print(
        f"Pages: {source}; {args.processes} extraction processes "
        f"(extract.workers={args.workers}); floor and Dyad alternate"
    )
    per_article = {}
    with tempfile.TemporaryDirectory() as tmp:
        pages_dir = Path(tmp)
        for i, body in enumerate(pages):
            (pages_dir / f"{i:05d}.html").write_bytes(body)
        for count in args.sizes:
            per_article[count] = measure_size(args, pages, pages_dir, count)
    if len(args.sizes) > 1:
        growth = ", ".join(f"{n}: {ms:.1f}" for n, ms in per_article.items())
        print(f"Dyad CPU-ms per article by size: {growth} (flat = cost grows only with articles)")
    if not args.no_feeds:
        corpus_feeds(args.corpus)


if __name__ == "__main__":
    main()
