"""A real OpenAI-compatible chat-completions server on 127.0.0.1 for tests.

It answers ``POST /v1/chat/completions`` the way the ``openai`` client expects, with a summary
derived from the request (so it is schema-valid and grounded in the articles it was sent: key
points cite the article they come from, each side's position is the first sentence quoting
someone of that country, voice "none" when there is none), and can be scripted per test: a queue of behaviours, consumed one per request, then ``default``.

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
- "wrong-cite": a key point taken from a later article, with a fact article 1 lacks, citing
  article 1; "invented-quote": a side's position with a quote no article has; "wrong-side": the
  second side is the US whatever the pair; "three-sides": a third position;
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


_SPEECH = (
    r"said|says|told|called|praised|warned|added|stated|insisted|declared|urged|described|"
    r"accused|welcomed|vowed|promised|stressed"
)
_SPEAKER_WORDS = r"(?:[A-Z][\w'’.-]*|spokesperson|spokesman|spokeswoman|officials?|minister)"
_SPEAKER_BEFORE = re.compile(rf"((?:{_SPEAKER_WORDS}\s+)*{_SPEAKER_WORDS})\s+(?:{_SPEECH})\b")
_SPEAKER_AFTER = re.compile(rf"\b(?:{_SPEECH}),?\s+((?:{_SPEAKER_WORDS}\s+)*{_SPEAKER_WORDS})")
_QUOTED = re.compile(r"[\"“]([^\"“”]+)[\"”]")


def _articles(user: str) -> list[tuple[str, list[str]]]:
    """Each data block's title and sentences, in article order."""
    found = []
    for block in (m.group(2) for m in _BLOCK.finditer(user)):
        title = re.search(r"Title: (.*)", block)
        text = block.split("\n\n", 1)[1] if "\n\n" in block else block
        sentences = [
            s.strip() for s in re.split(r"(?<=[.!?])\s+", text.replace("\n", " ")) if s.strip()
        ]
        found.append((title.group(1) if title else "Story", sentences))
    return found


def _said(sentence: str) -> tuple[str, str] | None:
    """(speaker, quoted words) of a sentence reporting speech with a quotation, or None."""
    quote = next((q for q in _QUOTED.findall(sentence) if len(q.split()) >= 2), None)
    if quote is None:
        return None
    rest = _QUOTED.sub(" ", sentence)
    speaker = _SPEAKER_BEFORE.search(rest) or _SPEAKER_AFTER.search(rest)
    if speaker is None or not re.search(r"[A-Z]", speaker.group(1)):
        return None
    return speaker.group(1).strip(), quote.strip(" ,.")


def positions_from(articles: list[tuple[str, list[str]]], pair: tuple[str, str]) -> list[dict]:
    """Each country's position: the first sentence of any article that quotes someone the
    sentence ties to that country (the gazetteer's reading, as a model would read it), or
    voice "none" when no article quotes that side."""
    from pipeline.jobs.speakers import GazetteerReader
    from pipeline.summarize.speakers import name_words, speaker_country

    reader = GazetteerReader()

    found: dict[str, dict[str, Any]] = {}
    for number, (_, sentences) in enumerate(articles, start=1):
        for sentence in sentences:
            said = _said(sentence)
            if said is None or len(sentence) > 300:
                continue
            speaker, quote = said
            names = name_words(speaker.split(",", 1)[0])
            country = speaker_country(sentence, names[-1], None, reader) if names else None
            if country in pair and country not in found:
                found[country] = {"country": country, "voice": "government",
                                  "position": sentence, "speaker": speaker, "quote": quote,
                                  "cites": [number]}  # fmt: skip
    silent = {"voice": "none", "position": "", "speaker": None, "quote": None, "cites": []}
    return [found.get(c, {"country": c, **silent}) for c in pair]


def summary_from_request(body: dict[str, Any]) -> dict[str, Any]:
    """A schema-valid summary grounded in the articles it was sent: the first article's title and
    lead, a key point from each article citing it, each side's quoted position, a quote; what is
    new begins "Since <day>: " when the prompt asks for that."""
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    pair = re.search(r"\(([A-Z]{2})\) and .*?\(([A-Z]{2})\)", user)
    a, b = (pair.group(1), pair.group(2)) if pair else (None, None)
    articles = _articles(user) or [("Story", [])]
    title, sentences = articles[0]
    headline = title[:110]
    summary = " ".join(sentences[:1])[:500] or headline
    points: list[dict[str, Any]] = []
    for number, (_, lines) in enumerate(articles[:3], start=1):
        said = {" ".join(summary.lower().split())} | {p["text"].lower() for p in points}
        text = next(
            (
                t
                for t in lines[1 if number == 1 else 0 :]
                if len(t) <= 300 and t.lower() not in said
            ),
            None,
        )
        if text:  # a sentence the summary and the points before do not say already
            points.append({"text": text, "cites": [number]})
    positions = positions_from(articles, (a, b)) if a and b else []
    speaking = next((p for p in positions if p["quote"]), None)
    since = re.search(r'"whats_new" must begin "(Since [^"]*?: )"', user)
    whats_new = sentences[0] if sentences else summary
    return {
        "bilateral": True,
        "reject_reason": None,
        "headline": headline,
        "summary": summary,
        "key_points": points or [{"text": headline, "cites": [1]}],
        "whats_new": (since.group(1) if since else "") + whats_new,
        "background": sentences[-1] if sentences else summary,
        "event_type": "CONSULT",
        "actor_country": a,
        "target_country": b,
        "cooperation_score": 3,
        "actors": [],
        "agreements": [],
        "third_party_reactions": [],
        "positions": positions,
        "quote": {key: speaking[key] for key in ("speaker", "country", "cites")}
        | {"text": speaking["quote"]}
        if speaking
        else None,
    }


def wrong_cite(body: dict[str, Any]) -> dict[str, Any]:
    """A key point taken from a later article, with a name or number article 1 lacks, that
    cites article 1 (the "wrong-cite" misbehaviour)."""
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    articles = _articles(user)
    first = " ".join(articles[0][1]).lower()
    for _, sentences in articles[1:]:
        for sentence in sentences:
            facts = re.findall(r"\b(?:[A-Z][a-z]+|\d+)\b", sentence[1:])
            if len(sentence) <= 300 and any(f.lower() not in first for f in facts):
                return {"text": sentence, "cites": [1]}
    raise AssertionError("wrong-cite needs a story whose later articles add a fact")


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
        elif kind == "wrong-cite":
            summary["key_points"] = [wrong_cite(body), *summary["key_points"][:1]]
            content = json.dumps(summary)
        elif kind == "invented-quote":
            side = next(p for p in summary["positions"] if p["voice"] != "none")
            side["quote"] = "we will never accept these humiliating terms"
            content = json.dumps(summary)
        elif kind == "wrong-side":
            summary["positions"][1]["country"] = "US"
            content = json.dumps(summary)
        elif kind == "three-sides":
            summary["positions"].append(dict(summary["positions"][0]))
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
