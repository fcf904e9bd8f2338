"""Record every HTTP exchange to a WARC file, and answer fetches from one with no network.

warcio (the Webrecorder project's streaming WARC library) reads and writes the files. Each
exchange becomes a ``request`` record and a ``response`` record. Bodies are stored decoded (the
Content-Encoding header is dropped and Content-Length matches the stored body), so a recording
can be read with any WARC tool. Fetches that failed before an HTTP answer (timeouts, refused
connections, guard refusals) are not recorded; replaying them gives ``ReplayMiss``.

Replay answers each URL with its recorded responses in order, repeating the last one, and honours
conditional requests the way a server would: ``If-None-Match`` equal to the recorded ETag (or
``If-Modified-Since`` equal to the recorded Last-Modified) gets a 304.
"""

from __future__ import annotations

import http.client
import io
import threading
from collections import defaultdict
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from pipeline.errors import ReplayMiss
from pipeline.http.exchange import Exchange, Exchanger


class RecordingExchanger:
    """Wraps another exchanger and appends each completed exchange to a gzipped WARC file."""

    def __init__(self, inner: Exchanger, path: Path) -> None:
        self.inner = inner
        self.network = inner.network
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("wb")
        self._writer = WARCWriter(self._file, gzip=True)
        self._lock = threading.Lock()
        self._write_warcinfo()

    def _write_warcinfo(self) -> None:
        record = self._writer.create_warcinfo_record(
            self.path.name, {"software": "Dyad", "format": "WARC File Format 1.1"}
        )
        self._writer.write_record(record)

    def exchange(self, url: str, headers: dict[str, str], max_bytes: int) -> Exchange:
        """Delegate to the wrapped exchanger, then record the request and its answer."""
        result = self.inner.exchange(url, headers, max_bytes)
        self._record(result, headers)
        return result

    def _record(self, result: Exchange, headers: dict[str, str]) -> None:
        sent = list(result.request_headers) or [(k.lower(), v) for k, v in headers.items()]
        reason = http.client.responses.get(result.status, "Unknown")
        response_headers = [*result.headers, ("content-length", str(len(result.body)))]
        with self._lock:
            response = self._writer.create_warc_record(
                result.url,
                "response",
                payload=io.BytesIO(result.body),
                length=len(result.body),
                http_headers=StatusAndHeaders(
                    f"{result.status} {reason}", response_headers, protocol="HTTP/1.1"
                ),
            )
            request = self._writer.create_warc_record(
                result.url,
                "request",
                payload=io.BytesIO(b""),
                length=0,
                http_headers=StatusAndHeaders(
                    f"GET {_target(result.url)} HTTP/1.1", sent, is_http_request=True
                ),
            )
            self._writer.write_request_response_pair(request, response)
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()
        self.inner.close()


def _target(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def read_warc_responses(path: Path) -> dict[str, list[Exchange]]:
    """Every response record in ``path``, grouped by target URL in file order."""
    responses: dict[str, list[Exchange]] = defaultdict(list)
    with path.open("rb") as stream:
        for record in ArchiveIterator(stream):
            if record.rec_type != "response" or record.http_headers is None:
                continue
            url = record.rec_headers.get_header("WARC-Target-URI")
            status = int(record.http_headers.get_statuscode())
            headers = tuple(
                (k.lower(), v)
                for k, v in record.http_headers.headers
                if k.lower() not in ("content-length", "content-encoding", "transfer-encoding")
            )
            body = record.content_stream().read()
            responses[url].append(Exchange(url, status, headers, body))
    return dict(responses)


class ReplayExchanger:
    """Answers every fetch from a WARC recording; never touches the network."""

    network = False

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise ReplayMiss(f"replay file not found: {path}", item=str(path))
        self.path = path
        self._responses = read_warc_responses(path)
        self._cursor: dict[str, int] = defaultdict(int)
        self._lock = threading.Lock()

    def exchange(self, url: str, headers: dict[str, str], max_bytes: int) -> Exchange:
        """The next recorded answer for ``url`` (304 when the validators match)."""
        recorded = self._responses.get(url)
        if not recorded:
            raise ReplayMiss(f"no recorded response in {self.path.name}", item=url)
        with self._lock:
            index = min(self._cursor[url], len(recorded) - 1)
            self._cursor[url] += 1
        answer = recorded[index]
        if answer.status == 200 and _validators_match(answer, headers):
            kept = tuple((k, v) for k, v in answer.headers if k in ("etag", "last-modified"))
            return Exchange(url, 304, kept, b"")
        return answer

    def close(self) -> None:
        """Nothing to release: the recording was read into memory when opened."""


def _validators_match(answer: Exchange, headers: dict[str, str]) -> bool:
    lowered = {k.lower(): v for k, v in headers.items()}
    etag = answer.header("etag")
    modified = answer.header("last-modified")
    if etag and lowered.get("if-none-match") == etag:
        return True
    return bool(modified and lowered.get("if-modified-since") == modified)
