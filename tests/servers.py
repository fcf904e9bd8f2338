"""Real HTTP servers on 127.0.0.x for tests: one route per behaviour, every request recorded.

A route is either static (status, headers, body) or a function that writes the raw response
itself (for drips, hangs, gzip bombs and lying headers). The server counts the most requests it
had in flight at once, so politeness limits can be checked from the server's side.
"""

from __future__ import annotations

import gzip
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Handler = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    at: float


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    handler: Handler | None = None
    delay: float = 0.0


class LoopbackServer:
    """A threaded HTTP server on ``host`` (default 127.0.0.1), port chosen by the kernel."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[Seen] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        server = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                with server._lock:
                    server.requests.append(
                        Seen(
                            self.path,
                            {k.lower(): v for k, v in self.headers.items()},
                            time.monotonic(),
                        )
                    )
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    route = server.routes.get(self.path) or server.routes.get(
                        self.path.split("?")[0]
                    )
                    if route is None:
                        self._send(404, b"not found", {"Content-Type": "text/plain"})
                        return
                    if route.delay:
                        time.sleep(route.delay)
                    if route.handler is not None:
                        route.handler(self)
                    else:
                        self._send(route.status, route.body, route.headers)
                except (BrokenPipeError, ConnectionResetError):
                    pass
                finally:
                    with server._lock:
                        server.in_flight -= 1

            def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                if not any(k.lower() == "content-length" for k in headers):
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        class QuietServer(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                return  # clients hanging up mid-body is what several tests are about

        self.httpd = QuietServer((host, 0), RequestHandler)
        self.httpd.daemon_threads = True
        self.host = host
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def add(
        self,
        path: str,
        body: bytes | str = b"",
        status: int = 200,
        headers: dict[str, str] | None = None,
        handler: Handler | None = None,
        delay: float = 0.0,
        content_type: str | None = None,
    ) -> str:
        data = body.encode("utf-8") if isinstance(body, str) else body
        hdrs = dict(headers or {})
        if content_type:
            hdrs["Content-Type"] = content_type
        self.routes[path] = Route(status, data, hdrs, handler, delay)
        return self.url(path)

    def hits(self, path: str) -> list[Seen]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def drip(total_seconds: float, interval: float = 0.5) -> Handler:
    """Send headers at once, then one byte every ``interval`` seconds for ``total_seconds``."""

    def handler(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "application/rss+xml")
        h.send_header("Content-Length", str(int(total_seconds / interval) + 1))
        h.end_headers()
        end = time.monotonic() + total_seconds
        while time.monotonic() < end:
            h.wfile.write(b" ")
            h.wfile.flush()
            time.sleep(interval)

    return handler


def gzip_bomb(decompressed_mib: int, content_type: str = "application/rss+xml") -> Handler:
    """A small gzip body that inflates to ``decompressed_mib`` MiB of zeros."""
    chunk = b"\0" * 2**20
    import io

    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", compresslevel=9) as gz:
        for _ in range(decompressed_mib):
            gz.write(chunk)
    payload = buffer.getvalue()

    def handler(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Encoding", "gzip")
        h.send_header("Content-Length", str(len(payload)))
        h.end_headers()
        h.wfile.write(payload)

    handler.payload_size = len(payload)  # type: ignore[attr-defined]
    return handler


def endless(content_type: str = "text/html") -> Handler:
    """Chunked body that never ends (until the client hangs up)."""

    def handler(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", content_type)
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        block = b"<p>" + b"x" * 65536 + b"</p>"
        for _ in range(10_000):
            h.wfile.write(f"{len(block):x}\r\n".encode() + block + b"\r\n")

    return handler


def hang(seconds: float) -> Handler:
    """Accept the request and send nothing for ``seconds``."""

    def handler(h: BaseHTTPRequestHandler) -> None:
        time.sleep(seconds)

    return handler


def rss(items: list[dict[str, str]], title: str = "Test feed", extra: str = "") -> str:
    """A small RSS 2.0 document; each item dict may have title, link, guid, pubDate, description."""
    parts = []
    for item in items:
        fields = "".join(f"<{k}>{v}</{k}>" for k, v in item.items())
        parts.append(f"<item>{fields}</item>")
    return (
        f'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel><title>{title}</title>'
        f"<link>http://example.invalid/</link><description>d</description>{extra}"
        + "".join(parts)
        + "</channel></rss>"
    )


def article_html(title: str, paragraphs: list[str], extra_head: str = "") -> str:
    """A news article page with site chrome."""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title}</title>{extra_head}"
        f"</head><body><nav><a href='/'>Home</a> <a href='/world'>World</a></nav><article><h1>{title}"
        f"</h1>{body}</article><footer>Copyright Test News</footer></body></html>"
    )
