"""A real OpenAI-compatible chat-completions server on 127.0.0.1 for tests.

It answers ``POST /v1/chat/completions`` the way the ``openai`` client expects, with a summary
derived from the request (so it is schema-valid and grounded in the articles it was sent), and
can be scripted per test: a queue of behaviours, consumed one per request, then ``default``.

Behaviours: "ok", "429:<seconds>" (Retry-After), "500", "hang:<seconds>", "prose", "truncated"
(finish_reason=length with cut JSON), "wrong-schema", "invented" (a name and a number absent from
the sources), "html" (markup and a link), "reject" (bilateral=false).
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_BLOCK = re.compile(r"<<<(DATA-[0-9a-f]+)\n(.*?)\n\1>>>", re.S)


def summary_from_request(body: dict[str, Any]) -> dict[str, Any]:
    """A schema-valid, grounded summary built from the first article in the request."""
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    pair = re.search(r"\(([A-Z]{2})\) and .*?\(([A-Z]{2})\)", user)
    a, b = (pair.group(1), pair.group(2)) if pair else (None, None)
    blocks = [m.group(2) for m in _BLOCK.finditer(user)]
    first = blocks[0] if blocks else ""
    title = re.search(r"Title: (.*)", first)
    headline = (title.group(1) if title else "Story")[:110]
    text = first.split("\n\n", 1)[1] if "\n\n" in first else first
    sentences = [
        s.strip() for s in re.split(r"(?<=[.!?])\s+", text.replace("\n", " ")) if s.strip()
    ]
    summary = " ".join(sentences[:1])[:500] or headline
    return {
        "bilateral": True,
        "reject_reason": None,
        "headline": headline,
        "summary": summary,
        "key_points": sentences[1:3] or [summary],
        "whats_new": sentences[0] if sentences else summary,
        "background": sentences[-1] if sentences else summary,
        "event_type": "CONSULT",
        "actor_country": a,
        "target_country": b,
        "cooperation_score": 3,
        "actors": [],
        "agreements": [],
        "third_party_reactions": [],
    }


class FakeLLM:
    """The server; ``behaviours`` is consumed one per request; ``requests`` records them."""

    def __init__(self, default: str = "ok") -> None:
        self.default = default
        self.behaviours: deque[str] = deque()
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                with server._lock:
                    server.requests.append(body)
                    behaviour = server.behaviours.popleft() if server.behaviours else server.default
                server.respond(self, behaviour, body)

        class Quiet(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                return

        self.httpd = Quiet(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def script(self, *behaviours: str) -> None:
        self.behaviours.extend(behaviours)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    @staticmethod
    def _send(handler: BaseHTTPRequestHandler, status: int, payload: dict[str, Any],
              headers: dict[str, str] | None = None) -> None:  # fmt: skip
        data = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(data)

    def respond(
        self, handler: BaseHTTPRequestHandler, behaviour: str, body: dict[str, Any]
    ) -> None:
        kind, _, arg = behaviour.partition(":")
        if kind == "429":
            self._send(
                handler,
                429,
                {"error": {"message": "rate limited", "type": "rate_limit"}},
                {"Retry-After": arg or "1"},
            )
            return
        if kind == "500":
            self._send(handler, 500, {"error": {"message": "server error", "type": "server"}})
            return
        if kind == "hang":
            time.sleep(float(arg or 5))
            return
        summary = summary_from_request(body)
        finish = "stop"
        if kind == "prose":
            content = "Here is a summary: the two countries talked about many things."
        elif kind == "truncated":
            content, finish = json.dumps(summary)[:80], "length"
        elif kind == "wrong-schema":
            content = json.dumps({"headline": 42, "extra": True})
        elif kind == "invented":
            summary["summary"] += " Pakistan pledged $12 billion, according to Zebulon Quartermain."
            content = json.dumps(summary)
        elif kind == "html":
            summary["summary"] += (
                ' <img src=x onerror=alert(1)> See <a href="http://evil.example">this</a>.'
            )
            content = json.dumps(summary)
        elif kind == "reject":
            summary["bilateral"], summary["reject_reason"] = False, "a multilateral meeting"
            content = json.dumps(summary)
        else:
            content = json.dumps(summary)
        prompt_tokens = sum(len(m["content"]) for m in body["messages"]) // 4
        self._send(handler, 200, {
            "id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", "test"),
            "choices": [{"index": 0, "finish_reason": finish,
                         "message": {"role": "assistant", "content": content}}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": len(content) // 4,
                      "total_tokens": prompt_tokens + len(content) // 4},
        })  # fmt: skip
