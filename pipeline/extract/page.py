"""Article pages to clean text and metadata, with trafilatura (this module runs in the extraction
workers; the process that opens the pool never imports it, nor trafilatura).

``decode_html`` turns bytes into text by our own order: byte-order mark, then the HTTP charset,
then a ``<meta>`` charset (each only if the bytes really decode with it), then charset_normalizer's
detection, then UTF-8 with replacement. ``extract_article`` is pure: elements hidden from readers,
comments and scripts are removed, then trafilatura extracts the main text with these options:

- ``favor_precision=True``: boilerplate (related links, newsletters) costs more than a lost line;
  the text goes to detection and an LLM summary.
- ``fast=True`` first, and the full extraction (with its readability/jusText fallbacks) only
  when the fast text looks short: under ``FALLBACK_CHARS`` characters or under
  ``FALLBACK_SHARE`` of the page's visible paragraph text. ``fast=True`` with
  ``favor_precision`` drops recall on the public article-extraction benchmark (issue 13: F1
  0.942 against 0.957 without ``fast``); on its 181 pages (``bench/bench_extract.py``) the
  fallback runs on 15 pages and the text equals the full extraction's on every page.
- Before trafilatura, the page's own ``<style>`` rules are applied and elements hidden from
  readers removed (``pipeline.textclean.visibility``); style attributes are then stripped, as
  trafilatura drops any element whose style merely mentions "hidden" or "border".
- ``include_comments=False``, ``include_tables=False``, ``include_images/links=False``: reader
  comments and tables are not the story.
- ``deduplicate=False``: trafilatura's dedup cache is process-wide, so output would depend on
  which pages came earlier; Dyad deduplicates by URL and content hash instead.
- ``with_metadata=False``: the four fields Dyad stores (title, published date, site name,
  language) are read by ``pipeline.extract.metadata`` with trafilatura's own helpers, after the
  hidden parts are gone and while ``<head>`` is still there (before issue 14 ``<head>`` was
  removed first, so ``og:title``, ``og:site_name`` and the ``<meta>`` dates were never seen);
  trafilatura's author, categories, tags and licence searches are not run.
- trafilatura's signal-based ``EXTRACTION_TIMEOUT`` is off: signals do not work outside the main
  thread, and ``ExtractorPool`` enforces a real wall-clock limit.
"""

from __future__ import annotations

import codecs
import re
from copy import deepcopy
from typing import Any

import charset_normalizer
import lxml.etree
import lxml.html
import trafilatura
from trafilatura.settings import DEFAULT_CONFIG

from pipeline.errors import ExtractError, ExtractionCrashed, NoExtractableText
from pipeline.extract import check_complexity
from pipeline.extract.metadata import PageMetadata, page_metadata
from pipeline.records import ExtractedPage
from pipeline.textclean import clean_text, drop_hidden, drop_non_text, styled_document

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.I)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
MIN_TEXT_CHARS = 40
FALLBACK_CHARS = 250
FALLBACK_SHARE = 0.5

TRAFILATURA_CONFIG = deepcopy(DEFAULT_CONFIG)
TRAFILATURA_CONFIG["DEFAULT"]["EXTRACTION_TIMEOUT"] = "0"
TRAFILATURA_CONFIG["DEFAULT"]["MIN_EXTRACTED_SIZE"] = "100"


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name.strip().strip("'\"")).name
    except LookupError:
        return None


def _strict(body: bytes, codec: str | None) -> str | None:
    if codec is None:
        return None
    try:
        return body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def charset_from_content_type(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a Content-Type header, if any."""
    match = re.search(r"charset\s*=\s*[\"']?([^;\"'\s]+)", content_type or "", re.I)
    return match.group(1) if match else None


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """``body`` as text and the codec used: BOM, HTTP charset, meta charset, detection, UTF-8."""
    for bom, codec in _BOMS:
        if body.startswith(bom):
            exact = codec if codec == "utf-8" else _bom_codec(bom)
            return body[len(bom) :].decode(exact, errors="replace"), codec
    http_codec = _codec(charset_from_content_type(content_type))
    text = _strict(body, http_codec)
    if text is not None and http_codec:
        return text, http_codec
    match = _META_CHARSET.search(body[:8192])
    meta_codec = _codec(match.group(1).decode("ascii", "ignore")) if match else None
    text = _strict(body, meta_codec)
    if text is not None and meta_codec:
        return text, meta_codec
    guessed = detect_codec(body)
    if guessed is not None:
        text = _strict(body, guessed)
        if text is not None:
            return text, guessed
    return body.decode("utf-8", errors="replace"), "utf-8"


def detect_codec(body: bytes) -> str | None:
    """charset_normalizer's guess, preferring windows-1252 among near-ties.

    Short Western European texts score almost the same in cp1252, cp1250 and cp1257; the web's
    legacy default (WHATWG) is windows-1252, so it wins a tie within 0.05 chaos.
    """
    matches = list(charset_normalizer.from_bytes(body[:200_000]))
    if not matches:
        return None
    best = min(matches, key=lambda m: m.chaos)
    near = [m.encoding for m in matches if m.chaos <= best.chaos + 0.05]
    return "cp1252" if "cp1252" in near else str(matches[0].encoding)


def _bom_codec(bom: bytes) -> str:
    return {
        codecs.BOM_UTF32_LE: "utf-32-le",
        codecs.BOM_UTF32_BE: "utf-32-be",
        codecs.BOM_UTF16_LE: "utf-16-le",
        codecs.BOM_UTF16_BE: "utf-16-be",
    }[bom]


def trafilatura_document(tree: lxml.html.HtmlElement, url: str, *, fast: bool) -> Any:
    """trafilatura's document for ``tree`` with Dyad's options, text only (no metadata).
    ``bench/bench_extract.py`` compares the passes with it."""
    return trafilatura.bare_extraction(
        tree,
        url=url,
        fast=fast,
        favor_precision=True,
        include_comments=False,
        include_tables=False,
        include_images=False,
        include_links=False,
        deduplicate=False,
        with_metadata=False,
        config=TRAFILATURA_CONFIG,
    )


def _document_text(document: Any, text_max_chars: int) -> str:
    return clean_text(getattr(document, "text", None) or "", text_max_chars) if document else ""


def _looks_short(text: str, tree: lxml.html.HtmlElement) -> bool:
    """Whether the fast pass probably missed part of the article: under ``FALLBACK_CHARS``, or
    under ``FALLBACK_SHARE`` of the visible text of the page's paragraphs."""
    if len(text) < FALLBACK_CHARS:
        return True
    paragraphs = sum(len(p.text_content()) for p in tree.iter("p"))
    return len(text) < FALLBACK_SHARE * paragraphs


def readable_page(html: str, url: str) -> tuple[lxml.html.HtmlElement, PageMetadata]:
    """The page's tree with the page's styles judged and everything a reader would not see
    removed (hidden parts, comments, scripts, ``<head>``, style attributes), and its metadata,
    read after the hidden parts went and before ``<head>`` did. Raises ``NoExtractableText``."""
    try:
        tree = styled_document(html, trafilatura.utils.load_html)
    except (ValueError, lxml.etree.LxmlError) as exc:
        raise NoExtractableText(f"unparseable HTML: {exc}", item=url) from exc
    if tree is None:
        raise NoExtractableText("unparseable HTML", item=url)
    drop_hidden(tree)
    metadata = page_metadata(tree, url)
    drop_non_text(tree)
    # The page's rules are now in style attributes, and trafilatura discards any element whose
    # style merely contains "hidden" or "border" (overflow:hidden is everywhere): visibility has
    # been judged above, so trafilatura sees no styles.
    lxml.etree.strip_attributes(tree, "style")
    return tree, metadata


def extract_article(html: str, url: str, *, text_max_chars: int = 200_000) -> ExtractedPage:
    """Main text and metadata of an article page. Pure (no I/O).

    Raises ``NoExtractableText`` when the page holds no readable article text.
    """
    if not html.strip():
        raise NoExtractableText("empty page", item=url)
    tree, metadata = readable_page(html, url)
    text = _document_text(trafilatura_document(tree, url, fast=True), text_max_chars)
    if _looks_short(text, tree):
        fuller = _document_text(trafilatura_document(tree, url, fast=False), text_max_chars)
        if len(fuller) > len(text):
            text = fuller
    if len(text) < MIN_TEXT_CHARS:
        raise NoExtractableText("no extractable article text", item=url)
    return ExtractedPage(
        url=url,
        title=metadata.title,
        date=metadata.date,
        site_name=metadata.site_name,
        language=metadata.language,
        text=text,
    )


def extract_page(
    body: bytes, content_type: str | None, url: str, max_tags: int, text_max_chars: int
) -> ExtractedPage:
    """Decode and extract a fetched page in this process (the pool runs this in a worker)."""
    check_complexity(body, max_tags)
    html, codec = decode_html(body, content_type)
    page = extract_article(html, url, text_max_chars=text_max_chars)
    return page.model_copy(update={"encoding": codec})


def worker_extract(
    body: bytes, content_type: str | None, url: str, max_tags: int, text_max_chars: int
) -> tuple[str, Any]:
    """Runs in a worker: never raises, returns ("ok", page) or ("error", the ExtractError)."""
    try:
        return "ok", extract_page(body, content_type, url, max_tags, text_max_chars)
    except ExtractError as exc:
        return "error", exc
    except MemoryError:
        return "error", ExtractionCrashed("extraction exceeded the memory limit", item=url)
    except Exception as exc:  # a bug or parser crash on one page must not end the run
        return "error", ExtractionCrashed(
            f"extractor crashed: {type(exc).__name__}: {exc}", item=url
        )
