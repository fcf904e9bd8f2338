"""One HTTP exchange (no redirects, no retries): the seam between Dyad and the network.

``LiveExchanger`` talks to real servers through httpx with the SSRF-guarded backend, a deadline
enforced around the body stream, and a body cap counted after decompression with a bounded
decoder (``zlib.decompressobj`` with ``max_length``), so a gzip bomb costs at most the cap.
``pipeline.http.warc`` provides the recording and replaying exchangers behind the same protocol.
"""

from __future__ import annotations

import ssl
import time
import zlib
from dataclasses import dataclass, field
from typing import Protocol

import httpx

from pipeline.config import HttpSettings
from pipeline.errors import (
    BlockedAddress,
    ConnectFailed,
    FetchTimeout,
    InvalidURL,
    TLSFailed,
    TooLarge,
    UnsupportedEncoding,
)
from pipeline.http.guard import GuardedBackend


@dataclass(frozen=True)
class Exchange:
    """One request's answer. ``headers`` keep their received order, names lower-cased; the body
    is decoded from its Content-Encoding, and that header is removed."""

    url: str
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    request_headers: tuple[tuple[str, str], ...] = field(default=())

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        lowered = name.lower()
        return next((v for k, v in self.headers if k == lowered), None)


class Exchanger(Protocol):
    """Performs one GET and returns its answer, or raises a ``FetchError``."""

    network: bool

    def exchange(self, url: str, headers: dict[str, str], max_bytes: int) -> Exchange: ...

    def close(self) -> None: ...


class _Inflater:
    """Bounded decoder for gzip/deflate bodies: never produces more than the caller allows."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._decoder = zlib.decompressobj(47 if encoding in ("gzip", "x-gzip") else 15)
        self._started = False

    def feed(self, chunk: bytes, limit: int) -> bytes:
        """Decode ``chunk``; raise ``TooLarge`` as soon as the output would exceed ``limit``."""
        out = bytearray()
        data = chunk
        while data:
            try:
                piece = self._decoder.decompress(data, limit - len(out) + 1)
            except zlib.error as exc:
                if self.encoding == "deflate" and not self._started:
                    # Some servers send raw deflate without the zlib header.
                    self._decoder = zlib.decompressobj(-15)
                    self._started = True
                    continue
                raise UnsupportedEncoding(f"corrupt {self.encoding} body: {exc}") from exc
            self._started = True
            out += piece
            if len(out) > limit:
                raise TooLarge(f"body exceeds {limit} bytes after decompression")
            data = self._decoder.unconsumed_tail
            if self._decoder.eof:
                break
        return bytes(out)


def parse_content_encoding(value: str | None) -> str | None:
    """The single Content-Encoding we will decode (gzip/deflate), None for identity.

    Raises ``UnsupportedEncoding`` for br, zstd, compress or stacked encodings: we cannot bound
    their decoders, so we refuse them (we only ever advertise gzip and deflate).
    """
    codings = [c.strip().lower() for c in (value or "").split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings:
        return None
    if len(codings) > 1:
        raise UnsupportedEncoding(f"stacked content encodings refused: {value}")
    if codings[0] not in ("gzip", "x-gzip", "deflate"):
        raise UnsupportedEncoding(f"content encoding {codings[0]!r} refused")
    return codings[0]


def _is_tls_error(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(current):
            return True
        current = current.__cause__ or current.__context__
    return False


class LiveExchanger:
    """Real network exchanges through httpx, SSRF-guarded, deadline- and size-bounded."""

    network = True

    def __init__(self, settings: HttpSettings) -> None:
        self.settings = settings
        transport = httpx.HTTPTransport(verify=True, retries=0)
        # httpx does not expose the network backend; the pool is httpcore's and takes one.
        transport._pool._network_backend = GuardedBackend(
            allow_private=settings.allow_private_networks, allowlist=settings.private_allowlist
        )
        self._client = httpx.Client(
            transport=transport,
            follow_redirects=False,
            trust_env=False,  # a proxy from the environment would bypass the address guard
            headers={
                "User-Agent": settings.user_agent_header,
                "Accept-Encoding": "gzip, deflate",
            },
        )

    def exchange(self, url: str, headers: dict[str, str], max_bytes: int) -> Exchange:
        """GET ``url`` once. Raises ``FetchError`` subclasses; never returns a partial body."""
        s = self.settings
        started = time.monotonic()
        deadline = started + s.deadline
        timeout = httpx.Timeout(
            connect=min(s.connect_timeout, s.deadline),
            read=min(s.read_timeout, s.deadline),
            write=min(s.read_timeout, s.deadline),
            pool=s.deadline,
        )
        try:
            with self._client.stream("GET", url, headers=headers, timeout=timeout) as response:
                body = _read_bounded(response, max_bytes, deadline, url)
                received = tuple(
                    (k.lower(), v)
                    for k, v in response.headers.multi_items()
                    if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")
                )
                sent = tuple((k.lower(), v) for k, v in response.request.headers.multi_items())
                return Exchange(url, response.status_code, received, body, sent)
        except BlockedAddress as exc:
            exc.item = url
            raise
        except httpx.ConnectTimeout as exc:
            raise FetchTimeout(
                f"connect timed out after {s.connect_timeout:g} s", item=url, during_connect=True
            ) from exc
        except httpx.TimeoutException as exc:
            raise FetchTimeout(f"no data for {s.read_timeout:g} s", item=url) from exc
        except httpx.ConnectError as exc:
            if _is_tls_error(exc):
                raise TLSFailed(f"TLS verification failed: {exc}", item=url) from exc
            raise ConnectFailed(f"connection failed: {exc}", item=url) from exc
        except (httpx.UnsupportedProtocol, httpx.InvalidURL) as exc:
            raise InvalidURL(f"not a fetchable URL: {exc}", item=url) from exc
        except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as exc:
            raise ConnectFailed(f"connection broken: {exc}", item=url) from exc
        except ssl.SSLError as exc:
            raise TLSFailed(f"TLS failed: {exc}", item=url) from exc

    def close(self) -> None:
        self._client.close()


def _read_bounded(response: httpx.Response, max_bytes: int, deadline: float, url: str) -> bytes:
    encoding = parse_content_encoding(response.headers.get("content-encoding"))
    declared = response.headers.get("content-length", "")
    if encoding is None and declared.isdigit() and int(declared) > max_bytes:
        raise TooLarge(f"Content-Length {declared} exceeds the {max_bytes}-byte cap", item=url)
    inflater = _Inflater(encoding) if encoding else None
    out = bytearray()
    raw_total = 0
    for chunk in response.iter_raw():
        if time.monotonic() > deadline:
            raise FetchTimeout("whole-request deadline passed while reading the body", item=url)
        raw_total += len(chunk)
        if raw_total > max_bytes:
            raise TooLarge(f"body exceeds the {max_bytes}-byte cap", item=url)
        try:
            data = inflater.feed(chunk, max_bytes - len(out)) if inflater else chunk
        except (TooLarge, UnsupportedEncoding) as exc:
            exc.item = url
            raise
        if len(out) + len(data) > max_bytes:
            raise TooLarge(f"body exceeds the {max_bytes}-byte cap", item=url)
        out += data
    if time.monotonic() > deadline:
        raise FetchTimeout("whole-request deadline passed while reading the body", item=url)
    return bytes(out)
