"""The one safe, polite HTTP client every fetch in Dyad goes through.

On top of an ``Exchanger`` (live network, recording, or replay) it adds: http(s)-only URLs,
at most ``max_redirects`` hops with each hop re-checked (the SSRF guard runs on every connect),
robots.txt for article pages, a per-host limit on concurrent requests and spacing between them,
retries with exponential backoff and jitter on connect failures and 5xx, and 429/503
``Retry-After`` turned into a per-host "not before" time: that host is deferred, others go on.
Content types are checked per purpose (pages must be HTML; feeds must not be binary).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Literal, Protocol

from pipeline.config import HttpSettings
from pipeline.errors import (
    ConnectFailed,
    EmptyResponse,
    FetchTimeout,
    HostDeferred,
    HTTPStatusError,
    InvalidURL,
    TooManyRedirects,
    UnsupportedContentType,
)
from pipeline.http.exchange import Exchange, Exchanger
from pipeline.http.robots import RobotsCache
from pipeline.records import FetchResult
from pipeline.urls import absolute_url, host_key, is_fetchable

Purpose = Literal["feed", "page", "robots"]

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PAGE_TYPES = frozenset({"text/html", "application/xhtml+xml", ""})
BINARY_PREFIXES = ("image/", "audio/", "video/", "font/")
BINARY_TYPES = frozenset(
    {
        "application/pdf",
        "application/zip",
        "application/gzip",
        "application/x-gzip",
        "application/msword",
        "application/vnd.ms-excel",
    }
)


def parse_retry_after(value: str | None, now: datetime, lower: float, upper: float) -> float:
    """Seconds to wait from a Retry-After value (delta-seconds or HTTP-date), clamped.

    Missing, garbage, negative or past values give ``lower``; huge ones give ``upper``.
    """
    seconds = lower
    text = (value or "").strip()
    if text.isdigit():
        seconds = float(text) if len(text) < 12 else upper
    elif text:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            when = None
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            seconds = (when - now).total_seconds()
    return max(lower, min(upper, seconds))


@dataclass
class _HostState:
    semaphore: threading.Semaphore
    lock: threading.Lock = field(default_factory=threading.Lock)
    next_start: float = 0.0
    not_before: datetime | None = None
    in_flight: int = 0


class SharedSchedule(Protocol):
    """Per-host request times shared by every process that fetches (the store implements it):
    concurrent ingests and Celery workers keep one spacing and one Retry-After per host."""

    def reserve(self, host: str, delay: float, now: float) -> float:
        """Book the host's next start (``delay`` after the previous one, ``now`` at the
        earliest; epoch seconds) and return it."""
        ...

    def defer(self, host: str, until: datetime) -> None:
        """Remember that ``host`` asked not to be called before ``until``."""
        ...

    def deferred_until(self, host: str, now: datetime) -> datetime | None:
        """The shared "not before" time of ``host``, if it is still in the future."""
        ...


class HostGate:
    """Per-host politeness: at most ``concurrency`` requests at once, ``delay`` between starts,
    and a "not before" time set by Retry-After. With a ``shared`` schedule the spacing and the
    deferrals hold across processes too (the concurrency limit stays per process)."""

    def __init__(self, concurrency: int, delay: float) -> None:
        self.concurrency = concurrency
        self.delay = delay
        self.shared: SharedSchedule | None = None
        self._hosts: dict[str, _HostState] = {}
        self._lock = threading.Lock()

    def _state(self, host: str) -> _HostState:
        with self._lock:
            state = self._hosts.get(host)
            if state is None:
                state = _HostState(threading.Semaphore(self.concurrency))
                self._hosts[host] = state
            return state

    @contextmanager
    def slot(self, host: str, *, spaced: bool) -> Iterator[None]:
        """Hold one of the host's request slots, waiting for its spacing first."""
        state = self._state(host)
        with state.semaphore:
            if spaced and self.delay > 0 and self.shared is not None:
                now = time.time()
                start = self.shared.reserve(host, self.delay, now)
                if start > now:
                    time.sleep(start - now)
            elif spaced and self.delay > 0:
                with state.lock:
                    now = time.monotonic()
                    start = max(now, state.next_start)
                    state.next_start = start + self.delay
                if start > now:
                    time.sleep(start - now)
            yield

    def defer(self, host: str, until: datetime) -> None:
        """Refuse requests to ``host`` until ``until`` (keeps the later of two deferrals)."""
        if self.shared is not None:
            self.shared.defer(host, until)
        state = self._state(host)
        with state.lock:
            if state.not_before is None or until > state.not_before:
                state.not_before = until

    def deferred_until(self, host: str, now: datetime) -> datetime | None:
        """The time before which ``host`` must not be asked, if it is still in the future."""
        if self.shared is not None:
            shared = self.shared.deferred_until(host, now)
            if shared is not None:
                return shared
        state = self._state(host)
        with state.lock:
            if state.not_before is not None and state.not_before > now:
                return state.not_before
            return None


class HttpClient:
    """Fetches URLs for a purpose and returns a ``FetchResult`` or raises a ``FetchError``."""

    def __init__(
        self,
        settings: HttpSettings,
        exchanger: Exchanger,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.exchanger = exchanger
        self.gate = HostGate(settings.per_host_concurrency, settings.per_host_delay)
        self.robots = RobotsCache(
            lambda url: self.fetch(url, purpose="robots"), ttl=settings.robots_cache_seconds
        )
        self._clock = clock
        self._sleep = sleep

    def close(self) -> None:
        """Release connections (and finish a recording)."""
        self.exchanger.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def fetch(
        self, url: str, *, purpose: Purpose = "feed", headers: dict[str, str] | None = None
    ) -> FetchResult:
        """GET ``url`` following redirects; check robots.txt (pages) and the content type.

        Returns 2xx and 304 answers (robots: any status). Raises ``InvalidURL``,
        ``BlockedAddress``, ``BlockedByRobots``, ``RobotsUnavailable``, ``FetchTimeout``,
        ``ConnectFailed``, ``TLSFailed``, ``TooLarge``, ``TooManyRedirects``,
        ``UnsupportedEncoding``, ``UnsupportedContentType``, ``HTTPStatusError``,
        ``HostDeferred``, ``EmptyResponse`` or ``ReplayMiss``.
        """
        if not is_fetchable(url):
            raise InvalidURL("only absolute http(s) URLs are fetched", item=url)
        s = self.settings
        max_bytes = {
            "feed": s.feed_max_bytes,
            "page": s.page_max_bytes,
            "robots": s.robots_max_bytes,
        }[purpose]
        started = time.monotonic()
        current = url
        hops: list[tuple[int, str]] = []
        for _hop in range(s.max_redirects + 1):
            if purpose == "page" and s.respect_robots:
                self.robots.check(current)
            answer = self._exchange_with_retries(current, dict(headers or {}), max_bytes)
            location = answer.header("location")
            if answer.status in REDIRECT_STATUSES and location:
                target = absolute_url(location, current)
                if target is None:
                    raise InvalidURL(f"redirect to a non-http(s) URL: {location[:200]}", item=url)
                hops.append((answer.status, target))
                current = target
                continue
            return self._accept(url, answer, hops, purpose, time.monotonic() - started)
        raise TooManyRedirects(f"more than {s.max_redirects} redirects", item=url)

    def _accept(
        self,
        url: str,
        answer: Exchange,
        hops: list[tuple[int, str]],
        purpose: Purpose,
        elapsed: float,
    ) -> FetchResult:
        result = FetchResult(
            url=url,
            final_url=answer.url,
            status=answer.status,
            headers=dict(answer.headers[::-1]),  # first value of repeated headers wins
            body=answer.body,
            redirects=tuple(hops),
            elapsed=round(elapsed, 4),
        )
        if purpose == "robots" or answer.status == 304:
            return result
        if answer.status >= 400 or answer.status < 200 or answer.status >= 300:
            detail = f"HTTP {answer.status}"
            if (
                answer.status == 403
                and (answer.header("cf-mitigated") or "").lower() == "challenge"
            ):
                detail += " (bot challenge page, not the content)"
            raise HTTPStatusError(detail, status=answer.status, item=answer.url)
        if not answer.body.strip():
            raise EmptyResponse("empty response body", item=answer.url)
        media = result.content_type
        if purpose == "page" and media not in PAGE_TYPES:
            raise UnsupportedContentType(f"unsupported content type {media!r}", item=answer.url)
        if purpose == "feed" and (media.startswith(BINARY_PREFIXES) or media in BINARY_TYPES):
            raise UnsupportedContentType(f"unsupported content type {media!r}", item=answer.url)
        return result

    def _exchange_with_retries(self, url: str, headers: dict[str, str], max_bytes: int) -> Exchange:
        s = self.settings
        host = host_key(url)
        attempt = 0
        while True:
            until = self.gate.deferred_until(host, self._clock())
            if until is not None:
                raise HostDeferred(
                    f"host deferred until {until:%Y-%m-%d %H:%M:%S} UTC", not_before=until, item=url
                )
            try:
                with self.gate.slot(host, spaced=self.exchanger.network):
                    answer = self.exchanger.exchange(url, headers, max_bytes)
            except (ConnectFailed, FetchTimeout) as exc:
                connect_phase = isinstance(exc, ConnectFailed) or exc.during_connect
                if not connect_phase or attempt >= s.retries:
                    raise
                self._backoff(attempt)
                attempt += 1
                continue
            retry_after = answer.header("retry-after")
            if answer.status == 429 or (answer.status == 503 and retry_after is not None):
                now = self._clock()
                wait = parse_retry_after(retry_after, now, s.retry_after_min, s.retry_after_max)
                until = now + timedelta(seconds=wait)
                self.gate.defer(host, until)
                raise HostDeferred(
                    f"HTTP {answer.status}, Retry-After {retry_after or '(none)'}: host deferred "
                    f"until {until:%Y-%m-%d %H:%M:%S} UTC",
                    not_before=until,
                    item=url,
                )
            if answer.status >= 500 and attempt < s.retries:
                self._backoff(attempt)
                attempt += 1
                continue
            return answer

    def _backoff(self, attempt: int) -> None:
        s = self.settings
        delay = min(s.backoff_max, s.backoff_base * (2**attempt)) * random.uniform(0.5, 1.5)
        self._sleep(delay)
