"""Extraction benchmark: figures, not pass/fail. Needs ../shared/corpus/articles (181 real pages).

On the 181 pages of the public article-extraction benchmark, in one process, it times three ways
of getting an article's text and metadata from the same decoded page (CPU time, each pass over
all pages, the three interleaved pass after pass, Dyad's caches of parsed styles emptied
before each; medians of ``--passes``):

  floor: what Dyad did before the hidden-text filter (issue 13): lxml parse, comments/scripts
         and inline ``display:none`` removed, then trafilatura with ``fast=True,
         favor_precision=True`` and its full metadata (author, categories, tags, date search);
  dyad:  ``pipeline.extract.extract_article``: the page's ``<style>`` applied and everything
         hidden from readers removed, the four metadata fields Dyad keeps, the fast pass and
         the full pass only when the fast text looks short;
  full:  Dyad's preparation, then ``favor_precision=True`` without ``fast`` on every page (the
         mode issue 13's reporter measured best): the reference for Dyad's text.

It prints ms/page for each, Dyad against the floor (target: at most 1.20x), the token agreement
of Dyad's text with the full mode's (bag-of-words F1, and pages where the texts are equal), and
how often Dyad's title, date and site name equal those of ``trafilatura.extract_metadata`` on
the same page and those the floor stored. The benchmark's ground truth is not in the corpus, so
F1 against it is not measured here. Without the corpus it says so and stops with exit 2.

Usage: python bench/bench_extract.py [--passes 3] [--pages ../shared/corpus/articles/html]
"""

from __future__ import annotations

import argparse
import gzip
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import trafilatura
from trafilatura.metadata import extract_metadata

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.errors import NoExtractableText  # noqa: E402
from pipeline.extract import (  # noqa: E402
    TRAFILATURA_CONFIG,
    decode_html,
    extract_article,
    readable_page,
    trafilatura_document,
)
from pipeline.extract.metadata import DATE_OPTIONS  # noqa: E402
from pipeline.textclean import (  # noqa: E402
    clean_text,
    drop_hidden,
    drop_non_text,
    styled_document,
    visibility,
)

PAGES = ROOT.parent / "shared" / "corpus" / "articles" / "html"
URL = "https://bench.example/article"
FIELDS = ("title", "date", "site_name")
_OLD_HIDDEN_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0", re.I
)

Result = dict[str, Any]


def _tidy(value: Any, cap: int) -> str | None:
    return clean_text(str(value), cap, single_line=True) or None if value else None


def floor(html: str) -> Result:
    """``extract_article`` as it was before issue 13 (commit 4608b16), same decoded input."""
    tree = trafilatura.utils.load_html(html)
    drop_non_text(tree)
    for node in list(tree.iter()):
        if isinstance(node.tag, str) and node.getparent() is not None:
            attrib = node.attrib
            hidden = "hidden" in attrib or attrib.get("aria-hidden", "").lower() == "true"
            if hidden or _OLD_HIDDEN_STYLE.search(attrib.get("style", "")):
                node.drop_tree()
    document = trafilatura.bare_extraction(
        tree,
        url=URL,
        fast=True,
        favor_precision=True,
        include_comments=False,
        include_tables=False,
        include_images=False,
        include_links=False,
        deduplicate=False,
        with_metadata=True,
        date_extraction_params=dict(DATE_OPTIONS),
        config=TRAFILATURA_CONFIG,
    )
    text = clean_text(getattr(document, "text", None) or "", 200_000) if document else ""
    return {
        "text": text,
        "title": _tidy(getattr(document, "title", None), 1024),
        "date": _tidy(getattr(document, "date", None), 40),
        "site_name": _tidy(getattr(document, "sitename", None), 500),
    }


def dyad(html: str) -> Result:
    try:
        return extract_article(html, URL).model_dump()
    except NoExtractableText:
        return {"text": ""}


def full(html: str) -> Result:
    tree, _ = readable_page(html, URL)
    document = trafilatura_document(tree, URL, fast=False)
    return {"text": clean_text(getattr(document, "text", None) or "", 200_000) if document else ""}


def trafilatura_metadata(html: str) -> Result:
    """trafilatura's own ``extract_metadata`` on the page Dyad reads its metadata from."""
    tree = styled_document(html, trafilatura.utils.load_html)
    drop_hidden(tree)
    found = extract_metadata(tree, URL, dict(DATE_OPTIONS), False)
    return {
        "title": _tidy(found.title, 1024),
        "date": _tidy(found.date, 40),
        "site_name": _tidy(found.sitename, 500),
    }


MODES: dict[str, Callable[[str], Result]] = {"floor": floor, "dyad": dyad, "full": full}


def token_f1(candidate: str, reference: str) -> float:
    """F1 of the bags of whitespace tokens (1.0 when both are empty)."""
    a, b = Counter(candidate.split()), Counter(reference.split())
    if not a and not b:
        return 1.0
    overlap = sum((a & b).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(a.values()), overlap / sum(b.values())
    return 2 * precision * recall / (precision + recall)


def _clear_caches() -> None:
    """Forget parsed style attributes, so no pass profits from the pages of the one before."""
    visibility.declarations.cache_clear()
    visibility._parsed.cache_clear()


def timed_passes(pages: list[str], passes: int) -> tuple[dict[str, float], dict[str, list[Result]]]:
    """Median CPU seconds per mode over ``passes`` interleaved passes, and each mode's results."""
    seconds: dict[str, list[float]] = {name: [] for name in MODES}
    results: dict[str, list[Result]] = {}
    for _ in range(passes):
        for name, run in MODES.items():
            _clear_caches()
            started = time.process_time()
            results[name] = [run(html) for html in pages]
            seconds[name].append(time.process_time() - started)
    return {name: statistics.median(s) for name, s in seconds.items()}, results


def agreement(results: dict[str, list[Result]], pages: list[str]) -> None:
    dyad_texts = [r["text"] for r in results["dyad"]]
    full_texts = [r["text"] for r in results["full"]]
    f1 = [token_f1(a, b) for a, b in zip(dyad_texts, full_texts, strict=True)]
    equal = sum(a == b for a, b in zip(dyad_texts, full_texts, strict=True))
    print(
        f"dyad text vs full: mean token F1 {sum(f1) / len(f1):.4f}, equal on {equal}/{len(f1)} "
        f"pages; pages without text: floor {sum(not t['text'] for t in results['floor'])}, "
        f"dyad {sum(not t for t in dyad_texts)}, full {sum(not t for t in full_texts)}"
    )
    reference = [trafilatura_metadata(html) for html in pages]
    with_text = [i for i, r in enumerate(results["dyad"]) if r["text"]]
    for field in FIELDS:
        same_trafilatura = sum(results["dyad"][i][field] == reference[i][field] for i in with_text)
        same_floor = sum(results["dyad"][i][field] == results["floor"][i][field] for i in with_text)
        found = sum(bool(results["dyad"][i][field]) for i in with_text)
        found_floor = sum(bool(results["floor"][i][field]) for i in with_text)
        print(
            f"{field:9}: dyad = trafilatura.extract_metadata on {same_trafilatura}/{len(with_text)}"
            f", = floor on {same_floor}/{len(with_text)}; found by dyad {found}, by floor "
            f"{found_floor}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=3, help="median of this many passes")
    parser.add_argument("--pages", type=Path, default=PAGES, help="folder of *.html.gz pages")
    args = parser.parse_args()
    files = sorted(args.pages.glob("*.html.gz"))
    if not files:
        print(
            f"bench_extract needs the real article pages in {args.pages} (../shared/corpus); "
            "none found, nothing measured. Give --pages DIR.",
            file=sys.stderr,
        )
        return 2
    pages = [decode_html(gzip.decompress(f.read_bytes()))[0] for f in files]
    for html in pages[:3]:  # imports and caches warm before the first timed pass
        dyad(html), floor(html)
    seconds, results = timed_passes(pages, args.passes)
    per_page = {name: 1000 * s / len(pages) for name, s in seconds.items()}
    print(
        f"{len(pages)} pages from {args.pages}; CPU time of one process, median of "
        f"{args.passes} interleaved passes"
    )
    for name in MODES:
        print(f"{name:5}: {per_page[name]:6.2f} ms/page")
    print(f"dyad / floor: {seconds['dyad'] / seconds['floor']:.2f}x (target <= 1.20x)")
    agreement(results, pages)
    print("F1 against the benchmark's own ground truth is not measured here (not in the corpus).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
