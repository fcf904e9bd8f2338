"""The floor of ``bench_ingest``: one of N processes that only run trafilatura on pages.

Each process parses its share of the articles (``k = index, index + of, ...`` below ``count``;
article ``k`` is page ``k mod pages``) and runs trafilatura with Dyad's exact options, imported
from ``pipeline.extract.trafilatura_document`` (the fast pass Dyad runs on every page:
``trafilatura.bare_extraction``, which ``trafilatura.extract`` runs before formatting its
output). Nothing else: no decoding rules, no hidden-text filter, no fallback pass, no HTTP, no
store, no detection.

The process prints "ready" once its imports are done and waits for a line on stdin, so the
benchmark measures the extraction and not the interpreter's start-up.

Usage: python -m bench.floor PAGES_DIR COUNT INDEX OF
"""

from __future__ import annotations

import sys
from pathlib import Path

import trafilatura

from pipeline.extract import trafilatura_document


def main(folder: Path, count: int, index: int, of: int) -> None:
    """Extract this process's share of ``count`` articles from the pages in ``folder``."""
    pages = [path.read_bytes() for path in sorted(folder.iterdir())]
    print("ready", flush=True)  # imports done: the benchmark starts measuring at "go"
    sys.stdin.readline()
    for k in range(index, count, of):
        tree = trafilatura.utils.load_html(pages[k % len(pages)])
        if tree is not None:
            trafilatura_document(tree, f"https://floor.example/{k}", fast=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
