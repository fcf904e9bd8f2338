"""Polling one feed: a conditional GET through Dyad's HTTP client, then ``parse_feed`` in a
worker process under a wall-clock limit (feedparser took 43 s on a 40,000-item feed)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from pipeline.config import FeedSettings
from pipeline.errors import FeedParserCrashed, FeedTooSlow
from pipeline.feeds.parse import parse_feed
from pipeline.http import HttpClient
from pipeline.records import (
    FeedPoll,
    FeedValidators,
    FetchResult,
    ParsedFeed,
)

T = TypeVar("T")


class IsolatedRunner(Protocol):
    """Runs a pure function in another process under a wall-clock limit (``ExtractorPool``)."""

    def run(self, function: Callable[..., T], args: tuple[Any, ...], wall_seconds: float) -> T:
        """``function(*args)``; ``TimeoutError`` past ``wall_seconds``, ``ChildProcessError``
        when the process died."""
        ...


def parse_isolated(
    runner: IsolatedRunner,
    body: bytes,
    url: str,
    headers: Mapping[str, str],
    now: datetime,
    limits: FeedSettings,
) -> ParsedFeed:
    """``parse_feed`` in ``runner``'s worker, killed after ``limits.parse_timeout_seconds``.

    Raises ``FeedTooSlow`` past the limit, ``FeedParserCrashed`` when the worker died or ran
    out of memory, and whatever ``parse_feed`` raises (``NotAFeed``, ``DTDNotAllowed``).
    """
    seconds = limits.parse_timeout_seconds
    try:
        return runner.run(parse_feed, (body, url, dict(headers), now, limits), seconds)
    except TimeoutError as exc:
        raise FeedTooSlow(
            f"parsing the feed ({len(body)} bytes) took over {seconds:g} s; the parser was stopped",
            item=url,
        ) from exc
    except (ChildProcessError, MemoryError) as exc:
        raise FeedParserCrashed(f"the feed parser died: {exc!r}", item=url) from exc


def conditional_headers(
    validators: FeedValidators, now: datetime, unconditional_every: timedelta | None
) -> tuple[dict[str, str], bool]:
    """The request headers for a feed poll and whether this poll is deliberately unconditional.

    The stored ETag and Last-Modified strings are sent back exactly as received. Once every
    ``unconditional_every`` they are left out, to catch servers that answer 304 wrongly.
    """
    due = unconditional_every is not None and (
        validators.last_unconditional_at is None
        or now - validators.last_unconditional_at >= unconditional_every
    )
    if due:
        return {}, True
    headers: dict[str, str] = {}
    if validators.etag:
        headers["If-None-Match"] = validators.etag
    if validators.last_modified:
        headers["If-Modified-Since"] = validators.last_modified
    return headers, False


def poll_feed(
    client: HttpClient,
    url: str,
    validators: FeedValidators,
    now: datetime,
    limits: FeedSettings,
    runner: IsolatedRunner,
) -> FeedPoll:
    """Fetch one feed (conditionally) and parse it in ``runner`` (see ``parse_isolated``).
    Raises ``FetchError`` or ``FeedError``."""
    every = (
        timedelta(hours=limits.unconditional_every_hours)
        if limits.unconditional_every_hours
        else None
    )
    headers, unconditional = conditional_headers(validators, now, every)
    result: FetchResult = client.fetch(url, purpose="feed", headers=headers)
    moved = next((loc for status, loc in result.redirects if status in (301, 308)), None)
    etag = result.headers.get("etag") or validators.etag
    modified = result.headers.get("last-modified") or validators.last_modified
    if result.status == 304:
        return FeedPoll(
            url=url,
            final_url=result.final_url,
            status=304,
            etag=etag,
            last_modified=modified,
            unconditional=unconditional,
            permanent_redirect=moved,
        )
    parsed = parse_isolated(runner, result.body, result.final_url, result.headers, now, limits)
    return FeedPoll(
        url=url,
        final_url=result.final_url,
        status=result.status,
        parsed=parsed,
        etag=result.headers.get("etag"),
        last_modified=result.headers.get("last-modified"),
        unconditional=unconditional,
        permanent_redirect=moved,
    )
