"""A real OpenAI-compatible chat-completions server on 127.0.0.1 for tests.

It answers ``POST /v1/chat/completions`` the way the ``openai`` client expects, with a summary
derived from the request (so it is schema-valid and grounded in the articles it was sent), and
can be scripted per test: a queue of behaviours, consumed one per request, then ``default``.

Behaviours (one reply each): "ok", "429:<seconds>" (Retry-After), "500", "hang:<seconds>",
"prose", "truncated" (finish_reason=length with cut JSON), "wrong-schema", "invented" (a name and a
number absent from the sources), "html" (markup and a link), "reject" (bilateral=false), and the
replies real servers give:

- "fenced": the JSON in a ```json code fence (local models through Ollama or llama.cpp);
- "think": a ``<think>...</think>`` block before the JSON (DeepSeek-R1, Qwen3 served without a
  reasoning parser, as their chat templates emit it);
- "refusal": ``content: null`` with ``refusal`` set (OpenAI structured outputs, "Refusals");
- "empty-choices": 200 with ``choices: []``;
- "html200": 200 with an HTML page (a wrong base URL that lands on a web site);
- "401": OpenAI's answer to a wrong key (``invalid_api_key``);
- "blank": schema-valid JSON with empty strings; "wrong-pair": THREATEN, US -> CN, -9 whatever
  the pair; "pair-reacts": one of the pair listed as a third party reacting;
- "context-400": OpenAI's 400 ``context_length_exceeded`` (vLLM and llama-cpp-python send the same
  message, as the llama-cpp-python test saw).

Rules (``FakeLLM(rules=...)``) answer every request the way a kind of server is documented to:

- "openai-reasoning": for o-series and gpt-5 models, 400 ``unsupported_parameter`` to
  ``max_tokens`` and 400 ``unsupported_value`` to a temperature other than 1, with OpenAI's
  messages (platform.openai.com/docs/guides/reasoning; the errors quoted in
  github.com/teilomillet/gollm/issues/33 and griptape-ai/ComfyUI-Griptape/issues/312);
- "no-json-schema": llama-cpp-python's server, whose ``response_format`` takes only ``text`` or
  ``json_object`` (+ ``schema``): HTTP 500 "Input should be 'text' or 'json_object'" to
  ``json_schema`` (as measured against llama-cpp-python 0.3.36);
- "json-schema-400": OpenAI's answer for a model without structured outputs: 400 "Invalid
  parameter: 'response_format' of type 'json_schema' is not supported with this model."
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
        "key_points": [{"text": t, "cites": [1]} for t in sentences[1:3] or [headline]],
        "whats_new": sentences[0] if sentences else summary,
        "background": sentences[-1] if sentences else summary,
        "event_type": "CONSULT",
        "actor_country": a,
        "target_country": b,
        "cooperation_score": 3,
        "actors": [],
        "agreements": [],
        "third_party_reactions": [],
        "positions": [
            {
                "country": c,
                "voice": "none",
                "position": "",
                "speaker": None,
                "quote": None,
                "cites": [],
            }
            for c in (a, b)
            if c
        ],
        "quote": None,
    }


class FakeLLM:
    """The server; ``behaviours`` is consumed one per request; ``requests`` records them."""

    def __init__(self, default: str = "ok", rules: tuple[str, ...] = ()) -> None:
        self.default = default
        self.rules = set(rules)
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
                    refused = server.refusal_by_rule(body)
                    behaviour = (
                        ""
                        if refused
                        else (server.behaviours.popleft() if server.behaviours else server.default)
                    )
                if refused:
                    server._send(self, refused[0], refused[1])
                    return
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

    def refusal_by_rule(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]] | None:
        """The error a documented server gives this request, or None when it accepts it."""
        model = str(body.get("model", ""))
        fmt = (body.get("response_format") or {}).get("type")
        if "openai-reasoning" in self.rules and re.match(r"^(o\d|gpt-5)", model):
            if "max_tokens" in body:
                return 400, {"error": {
                    "message": "Unsupported parameter: 'max_tokens' is not supported with this "
                    "model. Use 'max_completion_tokens' instead.",
                    "type": "invalid_request_error", "param": "max_tokens",
                    "code": "unsupported_parameter"}}  # fmt: skip
            if body.get("temperature", 1) != 1:
                return 400, {"error": {
                    "message": f"Unsupported value: 'temperature' does not support "
                    f"{body['temperature']} with this model. Only the default (1) value is "
                    "supported.",
                    "type": "invalid_request_error", "param": "temperature",
                    "code": "unsupported_value"}}  # fmt: skip
        if "no-json-schema" in self.rules and fmt not in (None, "text", "json_object"):
            return 500, {"error": {
                "message": "1 validation error for CreateChatCompletionRequest\n"
                "response_format.type\n  Input should be 'text' or 'json_object' "
                f"[type=literal_error, input_value='{fmt}', input_type=str]",
                "type": "internal_server_error", "param": None, "code": None}}  # fmt: skip
        if "json-schema-400" in self.rules and fmt == "json_schema":
            return 400, {"error": {
                "message": "Invalid parameter: 'response_format' of type 'json_schema' is not "
                "supported with this model.",
                "type": "invalid_request_error", "param": "response_format",
                "code": None}}  # fmt: skip
        return None

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
        if kind == "401":
            self._send(handler, 401, {"error": {
                "message": "Incorrect API key provided: sk-test. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}})  # fmt: skip
            return
        if kind == "context-400":
            self._send(handler, 400, {"error": {
                "message": "This model's maximum context length is 4096 tokens. However, you "
                "requested 9272 tokens. Please reduce the length of the messages or completion.",
                "type": "invalid_request_error", "param": "messages",
                "code": "context_length_exceeded"}})  # fmt: skip
            return
        if kind == "empty-choices":
            self._send(handler, 200, {"id": "chatcmpl-empty", "object": "chat.completion",
                                      "created": int(time.time()), "model": body.get("model"),
                                      "choices": []})  # fmt: skip
            return
        if kind == "html200":
            page = b"<!doctype html><html><head><title>Welcome</title></head><body>Hi</body></html>"
            handler.send_response(200)
            handler.send_header("Content-Type", "text/html; charset=utf-8")
            handler.send_header("Content-Length", str(len(page)))
            handler.end_headers()
            handler.wfile.write(page)
            return
        summary = summary_from_request(body)
        finish = "stop"
        refusal = None
        content: str | None
        if kind == "fenced":
            content = "```json\n" + json.dumps(summary, indent=2) + "\n```"
        elif kind == "think":
            content = (
                "<think>\nThe user wants a JSON summary. The articles describe a visit; "
                'I should fill "headline" first {not JSON}.\n</think>\n\n' + json.dumps(summary)
            )
        elif kind == "refusal":
            content, refusal = None, "I'm sorry, I can't assist with that request."
        elif kind == "blank":
            summary.update(headline="", summary="", key_points=[{"text": "", "cites": [1]}])
            content = json.dumps(summary)
        elif kind == "wrong-pair":
            summary.update(
                actor_country="US", target_country="CN", event_type="THREATEN", cooperation_score=-9
            )
            content = json.dumps(summary)
        elif kind == "pair-reacts":
            evidence = summary["summary"][:200]
            summary["third_party_reactions"] = [
                {"country": summary["actor_country"], "stance": "support", "evidence": evidence}
            ]
            content = json.dumps(summary)
        elif kind == "prose":
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
        completion_tokens = len(content or "") // 4
        self._send(handler, 200, {
            "id": "chatcmpl-test", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", "test"),
            "choices": [{"index": 0, "finish_reason": finish,
                         "message": {"role": "assistant", "content": content,
                                     "refusal": refusal}}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens},
        })  # fmt: skip
