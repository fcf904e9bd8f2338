"""The four page facts Dyad stores (title, published date, site name, language), and nothing else.

``trafilatura.extract_metadata`` also looks for authors, categories, tags, the licence and a
canonical URL; issue 14 measured 40 % of extraction time there (author 20 %, categories/tags
8 %), all of it for fields Dyad never stores. ``page_metadata`` calls trafilatura's own helpers
for the four fields in the order ``extract_metadata`` uses them, so the values are trafilatura's:

- ``examine_meta``: OpenGraph and ``<meta>`` tags (``og:title``, ``og:site_name``,
  ``application-name``, ``twitter:site`` ...) in one pass over the ``<head>``;
- ``extract_meta_json``: JSON-LD (``headline``, the publisher's ``name``) overrides them;
- ``extract_title``: a lone ``<h1>``, title-like elements, then ``<title>``, when the tags had none;
- ``extract_sitename``: the part of ``<title>`` that names the site, else the URL's host;
- htmldate's ``find_date`` (trafilatura's own dependency) with ``extensive_search=False`` (no
  guessing from arbitrary text) and ``original_date=True`` (published, not updated);
- the language is the page's ``<html lang>`` (trafilatura reports none without a language
  filter).

On the 181 pages of the public article-extraction benchmark the three fields equal those of
``trafilatura.extract_metadata`` on every page (``bench/bench_extract.py`` prints the count).
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass
from typing import Any

import lxml.html
from htmldate import find_date
from trafilatura import metadata as trafilatura_metadata
from trafilatura.utils import line_processing

from pipeline.textclean import clean_text

# htmldate's options, as trafilatura is given them (``date_extraction_params``): no guessing from
# arbitrary text, the published date rather than the last update.
DATE_OPTIONS: dict[str, Any] = {"extensive_search": False, "original_date": True}
_LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class PageMetadata:
    """What ``page_metadata`` found; None where the page says nothing."""

    title: str | None = None
    date: str | None = None
    site_name: str | None = None
    language: str | None = None


def _tidy(value: str | None, cap: int) -> str | None:
    """trafilatura's own tidying (entities, spaces), then ours (controls out, one line, a cap)."""
    if not value:
        return None
    return clean_text(line_processing(html.unescape(value)), cap, single_line=True) or None


def _site_name(declared: str | None, tree: lxml.html.HtmlElement, url: str | None) -> str | None:
    """The site's name as ``extract_metadata`` settles it: declared, from ``<title>``, else the
    host of the page's (canonical) URL."""
    name = declared or trafilatura_metadata.extract_sitename(tree)
    if name:
        name = name.lstrip("@")
        if name and "." not in name and not name[0].isupper():
            name = name.title()
        return name
    match = trafilatura_metadata.META_URL.match(url or "")
    return match[1] if match else None


def page_metadata(tree: lxml.html.HtmlElement, url: str) -> PageMetadata:
    """Title, published date (YYYY-MM-DD), site name and language of the page ``tree`` (a whole
    document, ``<head>`` included; it is only read). Pure; never raises for odd markup."""
    found = trafilatura_metadata.examine_meta(tree)
    try:
        found = trafilatura_metadata.extract_meta_json(tree, found)
    except Exception as exc:  # trafilatura's own guard: its JSON-LD reader has had bugs
        _LOG.debug("JSON-LD metadata unreadable on %s: %s", url, exc)
    page_url = found.url or trafilatura_metadata.extract_url(tree, url) or url
    return PageMetadata(
        title=_tidy(found.title or trafilatura_metadata.extract_title(tree), 1024),
        date=_tidy(find_date(tree, url=page_url, **DATE_OPTIONS), 40),
        site_name=_tidy(_site_name(found.sitename, tree, page_url), 500),
        language=_tidy(tree.get("lang"), 20),
    )
