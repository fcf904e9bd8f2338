"""Dyad's error types: every failure is a named error that knows its item and whether a retry helps.

The tree::

    DyadError                       base: item (URL, feed, id), kind (stable name), retryable
    ├── ConfigError                 bad settings or feed list
    ├── FetchError                  anything that stopped us getting a body over HTTP
    │   ├── InvalidURL              not an absolute http(s) URL (file:, data:, ...)
    │   ├── BlockedAddress          SSRF guard: the host resolves to a private/special address
    │   ├── BlockedByRobots         robots.txt disallows the page
    │   ├── RobotsUnavailable       robots.txt answered 5xx / timed out / was too large
    │   ├── FetchTimeout            connect/read timeout, whole-request deadline
    │   ├── ConnectFailed           refused / reset / DNS failure (retryable)
    │   ├── TLSFailed               certificate or handshake failure (never retried unverified)
    │   ├── TooLarge                body over the cap, counted after decompression
    │   ├── TooManyRedirects        more hops than allowed
    │   ├── UnsupportedEncoding     Content-Encoding we cannot bound (br, zstd, ...)
    │   ├── UnsupportedContentType  e.g. a PDF where an HTML page was expected
    │   ├── HTTPStatusError         4xx/5xx answer (retryable for 5xx)
    │   ├── HostDeferred            429/503 + Retry-After: host not asked before a time
    │   ├── EmptyResponse           200 with no body
    │   └── ReplayMiss              replay mode: the recording has no answer for this URL
    ├── FeedError
    │   ├── NotAFeed                HTML, JSON, garbage where a feed was expected
    │   ├── DTDNotAllowed           a DOCTYPE or ENTITY declaration survived the cut
    │   ├── FeedTooSlow             the parser hit its wall-clock limit (worker killed)
    │   └── FeedParserCrashed       the isolated parser died (memory limit, crash)
    ├── ExtractError
    │   ├── PageTooComplex          the tag pre-check refused the page
    │   ├── ExtractionTimeout       the isolated extractor hit its wall-clock limit
    │   ├── ExtractionCrashed       the isolated extractor died (memory limit, crash)
    │   └── NoExtractableText       nothing readable on the page
    ├── LLMError                    the summariser's endpoint or its output
    │   ├── LLMRateLimited          429 with a Retry-After too long to wait for (deferred)
    │   ├── LLMUnavailable          the endpoint, not the story: every story would fail alike
    │   │   ├── LLMAuthFailed       401/403: a wrong or missing key
    │   │   ├── LLMNotFound         404: a wrong base URL or model name
    │   │   └── LLMBadResponse      200 that is not a chat completion (an HTML page, no JSON)
    │   ├── LLMBadOutput            this story's reply is unusable, even after a repair
    │   │   ├── LLMRefused          the model refused (``message.refusal``); its text kept
    │   │   ├── LLMEmptyReply       no choices, or no content
    │   │   ├── LLMTruncated        cut off at the output limit, even after a larger limit
    │   │   └── LLMRequestRejected  400/422 for this request that no request change fixes
    │   ├── BudgetExhausted         the daily token budget is spent
    │   └── LLMNoSummaries          a run sent stories to the model and got no summary back
    ├── MailError                   delivering the digest to one recipient
    │   ├── MailRejected            refused for good (5xx)
    │   ├── MailDeferred            4xx, refused or dropped connection (retryable)
    │   ├── MailboxUnreadable       the mailbox of unsubscribe requests cannot be read
    │   └── BadUnsubscribeToken     a one-click unsubscribe whose token is not the address's
    ├── OPMLError                   an OPML file that is unsafe or not OPML
    └── StoreError
        └── SchemaMismatch          the database is at an older Alembic revision

Stage functions raise these; ``pipeline.jobs`` catches them per item, records a failure row and
carries on; ``retryable`` alone decides whether the item is tried again. Every error pickles as
itself (``__reduce__``), so worker processes hand theirs back unchanged. ``kind`` is what
reports, the database and ``dyad feeds list`` show.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any


class DyadError(Exception):
    """Base of every error Dyad raises on purpose."""

    kind = "error"
    retryable = False

    def __init__(self, message: str, *, item: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.item = item

    def __str__(self) -> str:
        return f"{self.message} ({self.item})" if self.item else self.message

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle as itself, whatever the subclass's constructor takes (``status``,
        ``not_before``, ...): worker processes hand their errors back unchanged."""
        return (_rebuild, (type(self), self.args, self.__dict__.copy()))


def _rebuild(cls: type[DyadError], args: tuple[Any, ...], state: dict[str, Any]) -> DyadError:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class ConfigError(DyadError):
    kind = "config"


class FetchError(DyadError):
    kind = "fetch"


class InvalidURL(FetchError):
    kind = "invalid_url"


class BlockedAddress(FetchError):
    kind = "blocked_address"


class BlockedByRobots(FetchError):
    kind = "blocked_by_robots"


class RobotsUnavailable(FetchError):
    """robots.txt answered 5xx, timed out or was too large: the site is treated as disallowed
    for now and asked again later (RFC 9309, section 2.3.1.4)."""

    kind = "robots_unavailable"
    retryable = True


class FetchTimeout(FetchError):
    """Connect timeout (retried at once), or read timeout / deadline (left for the next run)."""

    kind = "timeout"
    retryable = True

    def __init__(self, message: str, *, item: str | None = None, during_connect: bool = False):
        super().__init__(message, item=item)
        self.during_connect = during_connect


class ConnectFailed(FetchError):
    kind = "connect_failed"
    retryable = True


class TLSFailed(FetchError):
    kind = "tls"


class TooLarge(FetchError):
    kind = "too_large"


class TooManyRedirects(FetchError):
    kind = "too_many_redirects"


class UnsupportedEncoding(FetchError):
    kind = "unsupported_encoding"


class UnsupportedContentType(FetchError):
    kind = "unsupported_content_type"


class HTTPStatusError(FetchError):
    kind = "http_status"

    def __init__(self, message: str, *, status: int, item: str | None = None) -> None:
        super().__init__(message, item=item)
        self.status = status
        self.retryable = status >= 500


class HostDeferred(FetchError):
    """The host asked us (429/503 + Retry-After) not to come back before ``not_before``."""

    kind = "deferred"
    retryable = True

    def __init__(self, message: str, *, not_before: datetime, item: str | None = None) -> None:
        super().__init__(message, item=item)
        self.not_before = not_before


class EmptyResponse(FetchError):
    kind = "empty_response"


class ReplayMiss(FetchError):
    kind = "replay_miss"


class FeedError(DyadError):
    kind = "feed"


class NotAFeed(FeedError):
    kind = "not_a_feed"


class DTDNotAllowed(FeedError):
    """A DOCTYPE or ENTITY declaration is still in the feed's prolog after the DTD was cut out:
    the feed is refused rather than handed to a parser that could expand its entities."""

    kind = "dtd_not_allowed"


class FeedTooSlow(FeedError):
    """Parsing the feed took longer than ``feeds.parse_timeout_seconds``; the parser was killed."""

    kind = "parse_timeout"


class FeedParserCrashed(FeedError):
    """The isolated feed parser died (over the memory limit, or a crash)."""

    kind = "feed_parser_crashed"


class ExtractError(DyadError):
    kind = "extract"


class PageTooComplex(ExtractError):
    kind = "page_too_complex"


class ExtractionTimeout(ExtractError):
    kind = "extraction_timeout"


class ExtractionCrashed(ExtractError):
    kind = "extraction_crashed"


class NoExtractableText(ExtractError):
    kind = "no_text"


class LLMError(DyadError):
    kind = "llm"


class LLMRateLimited(LLMError):
    kind = "llm_rate_limited"
    retryable = True

    def __init__(self, message: str, *, retry_after: float, item: str | None = None) -> None:
        super().__init__(message, item=item)
        self.retry_after = retry_after


class LLMUnavailable(LLMError):
    """The endpoint failed (5xx, timeout, refused connection): every story would fail alike."""

    kind = "llm_unavailable"
    retryable = True


class LLMAuthFailed(LLMUnavailable):
    """401 or 403: the key is wrong, missing or not allowed this model."""

    kind = "llm_auth"
    retryable = False


class LLMNotFound(LLMUnavailable):
    """404: the base URL or the model name is wrong."""

    kind = "llm_not_found"
    retryable = False


class LLMBadResponse(LLMUnavailable):
    """An answer that is not a chat completion at all (an HTML page, a body without JSON)."""

    kind = "llm_bad_response"
    retryable = False


class LLMBadOutput(LLMError):
    """The model answered, but this story's reply cannot be used."""

    kind = "llm_bad_output"
    retryable = True


class LLMRefused(LLMBadOutput):
    """The model refused (``message.refusal`` set, OpenAI structured outputs)."""

    kind = "llm_refused"


class LLMEmptyReply(LLMBadOutput):
    """A completion with no choices, or a choice with no content."""

    kind = "llm_empty_reply"


class LLMTruncated(LLMBadOutput):
    """The reply was cut off at the output token limit, even after a larger limit."""

    kind = "llm_truncated"


class LLMRequestRejected(LLMBadOutput):
    """400/422 for this story's request that no change of request shape fixes."""

    kind = "llm_request_rejected"


class LLMNoSummaries(LLMError):
    """A run sent stories to the model and none came back summarised (local ones stored)."""

    kind = "llm_no_summaries"


class BudgetExhausted(LLMError):
    kind = "llm_budget"
    retryable = True


class SummaryCrashed(DyadError):
    """Making one story's summary failed with an unexpected error (a bug, not the model's
    answer): the story keeps the summary it had and the run goes on."""

    kind = "summary_crashed"


class MailError(DyadError):
    """Delivering the digest by SMTP failed for one recipient."""

    kind = "mail"


class MailRejected(MailError):
    """The server refused this recipient or message for good (5xx)."""

    kind = "mail_rejected"


class MailDeferred(MailError):
    """Temporary trouble (4xx, connection refused or dropped): try again later."""

    kind = "mail_deferred"
    retryable = True


class MailboxUnreadable(MailError):
    """No mbox file or Maildir folder at the path, or one that cannot be parsed."""

    kind = "mailbox_unreadable"


class BadUnsubscribeToken(MailError):
    """A one-click unsubscribe whose token was not made for that address on this list."""

    kind = "bad_unsubscribe_token"


class OPMLError(DyadError):
    kind = "opml"


class StoreError(DyadError):
    kind = "store"


class SchemaMismatch(StoreError):
    kind = "schema_mismatch"
