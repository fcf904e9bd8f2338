"""Feeds: the subscription list (YAML, OPML), parsing feed bytes, and polling one feed.

``parse_feed(body, url, headers, fetched_at, settings)`` is pure: it never fetches or opens
anything. The body is decoded by feedparser's charset rules and any DOCTYPE and ENTITY
declaration is cut out of the text (``prolog``: no entity expansion, no external entities, no
DTD fetches, in any encoding; a DTD that survives raises ``DTDNotAllowed``); feedparser then gets
UTF-8 bytes as ``io.BytesIO`` with the response headers (for the base URL). Malformed feeds keep
the entries that parsed, with a warning; a body that is not a feed raises ``NotAFeed``. The
newest ``max_items`` entries by publication date are kept. ``poll_feed`` runs ``parse_feed`` in
a worker process under ``feeds.parse_timeout_seconds`` (``FeedTooSlow`` past it).

OPML import/export uses defusedxml (entity declarations, DTDs and external references refused);
listparser was considered, but it fetches URLs itself when handed one, which we never allow.

Names load from their module on first use (``__getattr__``): an extraction worker that parses
feeds imports ``pipeline.feeds.parse`` without ``poll``'s HTTP client (httpx imports rich and
pygments for its own command line).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline.lazy import lazy_getattr

if TYPE_CHECKING:
    from pipeline.feeds.feedlist import dump_feed_list, load_feed_list, parse_opml, render_opml
    from pipeline.feeds.parse import parse_feed, parse_published
    from pipeline.feeds.poll import conditional_headers, poll_feed
    from pipeline.feeds.prolog import neutralise_dtd

_WHERE = {
    "conditional_headers": "pipeline.feeds.poll",
    "dump_feed_list": "pipeline.feeds.feedlist",
    "load_feed_list": "pipeline.feeds.feedlist",
    "neutralise_dtd": "pipeline.feeds.prolog",
    "parse_feed": "pipeline.feeds.parse",
    "parse_opml": "pipeline.feeds.feedlist",
    "parse_published": "pipeline.feeds.parse",
    "poll_feed": "pipeline.feeds.poll",
    "render_opml": "pipeline.feeds.feedlist",
}

__all__ = [
    "conditional_headers",
    "dump_feed_list",
    "load_feed_list",
    "neutralise_dtd",
    "parse_feed",
    "parse_opml",
    "parse_published",
    "poll_feed",
    "render_opml",
]


__getattr__ = lazy_getattr(__name__, _WHERE)
