"""Where an extraction worker's CPU goes: figures, not pass/fail. Needs ../shared/corpus.

On the 181 real pages of ``../shared/corpus/articles/html``, in one process, it times each step
of what an ingest worker does with a fetched page (``pipeline.jobs.page_work.extract_and_detect``)
beside ``bench_ingest``'s floor (``bench/floor.py``: lxml parse, then trafilatura's fast pass
with Dyad's options, on the raw page), with glibc's mmap threshold pinned as in the workers and
the caches of parsed styles emptied before each loop. Each pass runs every page through the
floor, then through the worker's steps one after the other, then through ``extract_and_detect``
whole (the check that the steps add up to the real thing); CPU time, medians of ``--passes``.

The last lines say what follows for ``bench_ingest``'s ratio: the work a worker does besides
trafilatura's passes (decoding, page styles, hidden text, metadata, the full pass on short
pages, detection) costs a share of the floor by itself, so even if fetching and storing cost
nothing, Dyad / floor could not exceed floor / (the worker's total).

Usage: python bench/bench_page_work.py [--passes 3] [--corpus ../shared/corpus]
"""

from __future__ import annotations

import argparse
import gzip
import pickle
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import lxml.etree  # noqa: E402
import trafilatura  # noqa: E402

from pipeline.detect import detect_dyads, load_gazetteer  # noqa: E402
from pipeline.extract import check_complexity  # noqa: E402
from pipeline.extract import page as P  # noqa: E402
from pipeline.extract.metadata import page_metadata  # noqa: E402
from pipeline.jobs.page_work import DetectInput, extract_and_detect, text_hash  # noqa: E402
from pipeline.memory import pin_mmap_threshold  # noqa: E402
from pipeline.textclean import drop_hidden, drop_non_text, styled_document, visibility  # noqa: E402

MAX_TAGS, TEXT_MAX = 200_000, 200_000
STEPS = (
    "complexity check",
    "decode",
    "parse with page styles (css-inline + lxml)",
    "hidden text removed",
    "metadata (title, date, site, language)",
    "comments, scripts, head, styles removed",
    "trafilatura fast pass",
    "text cleaned, short-page check",
    "trafilatura full pass (short pages)",
    "detection",
    "hash and the result pickled",
)


def worker_steps(body: bytes, url: str, gaz: Any, clock: dict[str, float]) -> None:
    """``extract_and_detect``'s work on one page, step by step, CPU time added to ``clock``."""

    def step(name: str, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        started = time.process_time()
        result = function(*args, **kwargs)
        clock[name] = clock.get(name, 0.0) + time.process_time() - started
        return result

    step(STEPS[0], check_complexity, body, MAX_TAGS)
    html, _ = step(STEPS[1], P.decode_html, body, None)
    tree = step(STEPS[2], styled_document, html, trafilatura.utils.load_html)
    if tree is None:
        return
    step(STEPS[3], drop_hidden, tree)
    metadata = step(STEPS[4], page_metadata, tree, url)

    def strip(tree: Any) -> None:
        drop_non_text(tree)
        lxml.etree.strip_attributes(tree, "style")

    step(STEPS[5], strip, tree)
    document = step(STEPS[6], P.trafilatura_document, tree, url, fast=True)

    def cleaned(document: Any) -> tuple[str, bool]:
        text = P._document_text(document, TEXT_MAX)
        return text, P._looks_short(text, tree)

    text, short = step(STEPS[7], cleaned, document)
    if short:
        fuller = P._document_text(
            step(STEPS[8], P.trafilatura_document, tree, url, fast=False), TEXT_MAX
        )
        text = fuller if len(fuller) > len(text) else text
    if len(text) < P.MIN_TEXT_CHARS:
        return
    detection = step(STEPS[9], detect_dyads, metadata.title or "", text, None, gaz=gaz)
    step(STEPS[10], lambda: pickle.dumps((text_hash(text), text, metadata, detection)))


def _clear_caches() -> None:
    """Forget parsed style attributes: a worker sees each page once, not once per step loop."""
    visibility.declarations.cache_clear()
    visibility._parsed.cache_clear()


def one_pass(pages: list[bytes]) -> dict[str, float]:
    """CPU seconds of the floor, of each worker step and of ``extract_and_detect`` whole."""
    gaz = load_gazetteer()
    clock: dict[str, float] = {}
    _clear_caches()
    started = time.process_time()
    for k, body in enumerate(pages):
        tree = trafilatura.utils.load_html(body)
        if tree is not None:
            P.trafilatura_document(tree, f"https://floor.example/{k}", fast=True)
    clock["floor"] = time.process_time() - started
    for k, body in enumerate(pages):
        worker_steps(body, f"https://x.example/{k}", gaz, clock)
    given = DetectInput("", None, None, None)
    _clear_caches()
    started = time.process_time()
    for k, body in enumerate(pages):
        extract_and_detect(body, None, f"https://x.example/{k}", MAX_TAGS, TEXT_MAX, given)
    clock["whole"] = time.process_time() - started
    return clock


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    args = parser.parse_args()
    folder = args.corpus / "articles" / "html"
    if not folder.is_dir():
        print(f"needs the real pages in {folder} (../shared/corpus); not found", file=sys.stderr)
        return 2
    pages = [gzip.decompress(p.read_bytes()) for p in sorted(folder.glob("*.html.gz"))]
    pin_mmap_threshold()  # as in the extraction workers
    one_pass(pages[:5])  # imports and caches warm
    passes = [one_pass(pages) for _ in range(args.passes)]
    median = {key: statistics.median(p[key] for p in passes) for key in passes[0]}
    count, floor = len(pages), median["floor"]
    print(f"{count} real pages from {folder}, one process, CPU medians of {args.passes} passes")
    label = "floor (bench/floor.py: lxml parse + fast pass)"
    print(f"  {label:52} {1000 * floor / count:6.2f} ms/page")
    steps = 0.0
    for name in STEPS:
        seconds = median.get(name, 0.0)
        steps += seconds
        share = seconds / floor
        print(f"  {name:52} {1000 * seconds / count:6.2f} ms/page  {share:5.0%} of the floor")
    whole = median["whole"]
    print(f"  {'the steps together':52} {1000 * steps / count:6.2f} ms/page  {steps / floor:5.0%}")
    label = "extract_and_detect whole (check)"
    print(f"  {label:52} {1000 * whole / count:6.2f} ms/page  {whole / floor:5.0%}")
    trafilatura_passes = median.get(STEPS[6], 0.0) + median.get(STEPS[8], 0.0)
    besides = whole - trafilatura_passes
    print(
        f"Besides trafilatura's passes a worker spends {1000 * besides / count:.2f} ms/page "
        f"({besides / floor:.0%} of the floor). With fetching and storing free, Dyad / floor "
        f"by CPU could reach at most {floor / whole:.2f}x (bench_ingest's target: 0.8x)."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
