"""Extraction benchmark: figures, not pass/fail. Needs ../shared/corpus/articles (181 real pages).

Times three ways of extracting the same 181 pages of the public article-extraction benchmark,
one process, after the same preparation (page styles applied, hidden parts removed):

  (a) fast: trafilatura with ``fast=True, favor_precision=True`` only (Dyad before issue 13);
  (b) dyad: ``pipeline.extract.extract_article``: the fast pass, and the full pass only when the
      fast text looks short;
  (c) full: ``favor_precision=True`` without ``fast`` on every page.

The benchmark's ground truth is not in the corpus, so quality is shown as closeness to (c):
the mean token-level F1 (bag of whitespace tokens) of (a) and (b) against (c) per page. It stops
with a message when the corpus is absent; it never falls back to generated pages.

CPU time (not wall time) is measured, so other work on the machine disturbs it less.

Usage: python bench/bench_extract.py [--rounds 2] [--pages ../shared/corpus/articles/html]
"""

from __future__ import annotations

import argparse
import gzip
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import lxml.etree
import trafilatura

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipeline.errors import NoExtractableText  # noqa: E402
from pipeline.extract import (  # noqa: E402
    decode_html,
    extract_article,
    trafilatura_document,
)
from pipeline.textclean import apply_page_styles, clean_text, drop_invisible  # noqa: E402

PAGES = ROOT.parent / "shared" / "corpus" / "articles" / "html"
URL = "https://bench.example/article"


def _trafilatura(html: str, fast: bool) -> str:
    tree = trafilatura.utils.load_html(apply_page_styles(html))
    drop_invisible(tree)
    lxml.etree.strip_attributes(tree, "style")
    document = trafilatura_document(tree, URL, fast=fast, with_metadata=True)
    return clean_text(getattr(document, "text", None) or "", 200_000) if document else ""


def _dyad(html: str) -> str:
    try:
        return extract_article(html, URL).text
    except NoExtractableText:
        return ""


MODES: dict[str, Callable[[str], str]] = {
    "(a) fast": lambda html: _trafilatura(html, fast=True),
    "(b) dyad": _dyad,
    "(c) full": lambda html: _trafilatura(html, fast=False),
}


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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="best of this many rounds")
    parser.add_argument("--pages", type=Path, default=PAGES, help="folder of *.html.gz pages")
    args = parser.parse_args()
    files = sorted(args.pages.glob("*.html.gz"))
    if not files:
        print(
            f"bench_extract needs the article corpus at {args.pages}; not found, nothing measured."
        )
        return 0
    pages = [decode_html(gzip.decompress(f.read_bytes()))[0] for f in files]
    texts: dict[str, list[str]] = {}
    seconds: dict[str, float] = {}
    for name, run in MODES.items():
        best = float("inf")
        for _ in range(args.rounds):
            started = time.process_time()
            texts[name] = [run(html) for html in pages]
            best = min(best, time.process_time() - started)
        seconds[name] = best
    print(f"{len(pages)} pages, best of {args.rounds} rounds, CPU time of one process")
    reference = texts["(c) full"]
    for name in MODES:
        f1 = [token_f1(t, r) for t, r in zip(texts[name], reference, strict=True)]
        empty = sum(1 for t in texts[name] if not t)
        print(
            f"{name}: {1000 * seconds[name] / len(pages):6.2f} ms/page "
            f"({seconds[name] / seconds['(a) fast']:.2f}x (a)), "
            f"mean token F1 vs (c) {sum(f1) / len(f1):.4f}, pages without text {empty}, "
            f"characters {sum(map(len, texts[name]))}"
        )
    print("F1 against the benchmark's own ground truth is not measured here (not in the corpus).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
