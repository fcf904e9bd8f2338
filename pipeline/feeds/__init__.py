"""Feeds: the subscription list (YAML, OPML), parsing feed bytes, and polling one feed.

``parse_feed(body, url, headers, fetched_at, settings)`` is pure: it never fetches or opens
anything. feedparser gets our bytes as ``io.BytesIO`` with the response headers (for the
charset and the base URL), after any DOCTYPE internal subset and ENTITY declaration has been
cut out of the bytes (no entity expansion, no external entities, no DTD fetches). Malformed feeds
keep the entries that parsed, with a warning; a body that is not a feed raises ``NotAFeed``.

OPML import/export uses defusedxml (entity declarations, DTDs and external references refused);
listparser was considered, but it fetches URLs itself when handed one, which we never allow.
"""

from pipeline.feeds.feedlist import dump_feed_list, load_feed_list, parse_opml, render_opml
from pipeline.feeds.parse import neutralise_dtd, parse_feed, parse_published
from pipeline.feeds.poll import conditional_headers, poll_feed

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
