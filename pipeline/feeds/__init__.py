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
"""

from pipeline.feeds.feedlist import dump_feed_list, load_feed_list, parse_opml, render_opml
from pipeline.feeds.parse import parse_feed, parse_published
from pipeline.feeds.poll import conditional_headers, poll_feed
from pipeline.feeds.prolog import neutralise_dtd

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
