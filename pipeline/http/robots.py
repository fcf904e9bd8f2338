"""robots.txt for article pages, per RFC 9309, parsed by protego (Scrapy's parser).

protego implements the longest-match rule, ``*`` and ``$`` wildcards and Allow/Disallow
precedence that the standard library's ``urllib.robotparser`` gets wrong. Policy for the file
itself: 2xx is parsed; 4xx means no restrictions; 5xx, timeouts, refused connections and files
over the robots size cap mean "unavailable": no page from that host is fetched until the entry
expires (short, so the next run tries again). An origin the fetch refuses for good (the SSRF
guard's ``BlockedAddress``) refuses its pages with the same error, which is not retried.
Entries are cached per origin.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from protego import Protego

from pipeline.errors import BlockedByRobots, FetchError, RobotsUnavailable
from pipeline.records import FetchResult

UNAVAILABLE_TTL = 600.0
AGENT_TOKEN = "Dyad"  # noqa: S105 (a robots.txt user-agent token, not a secret)


@dataclass
class _Entry:
    parser: Protego | None
    reason: str | None
    expires: float
    refusal: FetchError | None = None  # a permanent refusal of the origin itself (the SSRF guard)


class RobotsCache:
    """Answers "may Dyad fetch this page?" from each origin's robots.txt, fetched once per TTL."""

    def __init__(
        self,
        fetch_robots: Callable[[str], FetchResult],
        *,
        ttl: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch_robots
        self._ttl = ttl
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def check(self, url: str) -> None:
        """Return if ``url`` may be fetched; raise ``BlockedByRobots`` or ``RobotsUnavailable``."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        entry = self._entry(origin)
        if entry.refusal is not None:  # no page of a refused origin can be fetched either
            raise type(entry.refusal)(entry.refusal.message, item=url)
        if entry.parser is None:
            if entry.reason:
                raise RobotsUnavailable(f"robots.txt unavailable: {entry.reason}", item=url)
            return
        if not entry.parser.can_fetch(url, AGENT_TOKEN):
            raise BlockedByRobots("blocked by robots.txt", item=url)

    def _entry(self, origin: str) -> _Entry:
        with self._guard:
            lock = self._locks.setdefault(origin, threading.Lock())
        with lock:  # one fetch per origin even when many pages of it are in flight
            entry = self._entries.get(origin)
            if entry is None or entry.expires <= self._clock():
                entry = self._load(origin)
                self._entries[origin] = entry
            return entry

    def _load(self, origin: str) -> _Entry:
        now = self._clock()
        try:
            result = self._fetch(f"{origin}/robots.txt")
        except FetchError as exc:
            if not exc.retryable:  # e.g. BlockedAddress: asking again will not change it
                return _Entry(None, f"{exc.kind}: {exc.message}", now + self._ttl, exc)
            return _Entry(None, f"{exc.kind}: {exc.message}", now + min(self._ttl, UNAVAILABLE_TTL))
        if 200 <= result.status < 300:
            text = result.body.decode("utf-8", errors="replace")
            return _Entry(Protego.parse(text), None, now + self._ttl)
        if 400 <= result.status < 500:
            return _Entry(None, None, now + self._ttl)  # no robots.txt: everything allowed
        reason = f"HTTP {result.status}"
        return _Entry(None, reason, now + min(self._ttl, UNAVAILABLE_TTL))
