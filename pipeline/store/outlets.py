"""Which outlet an article is from: the name of its own feed.

The same page is often listed by more than one feed (syndicated wire copy, an aggregator, a
partner's "more news" feed). The article's outlet is the feed on its own site, the one whose
host is the page's (``news.world-desk.example`` for a World Desk page, whichever other feeds
list it); when no listing feed is on the page's site, the feed that listed it first. Taking the
alphabetically first feed name instead made a World Desk page listed by Asia Ledger's feed
"Asia Ledger", so a story from both outlets showed "1 outlet(s)" beside two links.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.store.tables import EntryRow, FeedRow


class Listing(NamedTuple):
    """One feed's listing of a page."""

    feed_name: str
    feed_urls: tuple[str, ...]  # the feed's URL and, when it moved, where it answers now
    first_seen: datetime
    entry_id: int


def _site(url: str | None) -> str:
    host = (urlsplit(url or "").hostname or "").lower()
    return host.removeprefix("www.")


def same_site(page_url: str | None, feed_url: str | None) -> bool:
    """True when a feed is on the page's site: the same host (``www.`` aside), or one host a
    subdomain of the other (``feeds.example.org`` for ``example.org`` pages)."""
    page, feed = _site(page_url), _site(feed_url)
    if not page or not feed:
        return False
    return page == feed or page.endswith(f".{feed}") or feed.endswith(f".{page}")


def pick_outlet(page_url: str | None, listings: Iterable[Listing]) -> str:
    """The outlet of a page from the feeds that list it: the first feed on the page's own site,
    else the first feed to list it ("" when no feed lists it)."""
    ordered = sorted(listings, key=lambda listing: (listing.first_seen, listing.entry_id))
    own = [
        listing.feed_name
        for listing in ordered
        if any(same_site(page_url, url) for url in listing.feed_urls)
    ]
    return own[0] if own else (ordered[0].feed_name if ordered else "")


def article_outlets(
    session: Session, article_ids: Any, page_urls: dict[int, str]
) -> dict[int, str]:
    """The outlet of each of ``article_ids`` (a list or a subquery of ids; only their entries
    are read, through the entries' article index), by ``pick_outlet``; ``page_urls`` maps
    article ids to their page URLs. Articles no feed lists are left out."""
    stmt = (
        select(
            EntryRow.article_id,
            FeedRow.name,
            FeedRow.url,
            FeedRow.final_url,
            EntryRow.first_seen_at,
            EntryRow.id,
        )
        .join(FeedRow, FeedRow.id == EntryRow.feed_id)
        .where(EntryRow.article_id.in_(article_ids))
    )
    listings: dict[int, list[Listing]] = {}
    for article_id, name, url, final_url, seen, entry_id in session.execute(stmt):
        urls = (url, final_url) if final_url else (url,)
        listings.setdefault(article_id, []).append(Listing(name, urls, seen, entry_id))
    return {aid: pick_outlet(page_urls.get(aid), found) for aid, found in listings.items()}
