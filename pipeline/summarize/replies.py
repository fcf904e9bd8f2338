"""Reading what an OpenAI-compatible server sends back, as real servers send it.

Pure functions, no I/O. ``read_completion`` turns a response body into a ``Completion`` or a named
error; ``json_text`` finds the JSON object inside a model's reply text. What they tolerate, each
seen from real servers:

- a body that is not JSON (an HTML page from a wrong base URL): ``LLMBadResponse``;
- ``choices`` empty or missing, or a choice without a message: ``LLMEmptyReply``;
- ``message.content`` null with ``message.refusal`` set (OpenAI structured outputs: "the model
  may refuse ... the refusal field will be set", platform.openai.com/docs/guides/structured-
  outputs#refusals): ``LLMRefused`` carrying the refusal text;
- reasoning before the answer, in the content as ``<think>...</think>`` (DeepSeek-R1 and Qwen3 as
  served by Ollama, llama.cpp and vLLM without a reasoning parser; ``<thinking>`` and
  ``<reasoning>`` from other fine-tunes) or beside it in ``reasoning_content`` (vLLM's reasoning
  parsers, DeepSeek's API): the block is dropped, the field ignored;
- the JSON in a Markdown code fence (```` ```json ````), common with local models, or with prose
  around it: the fence is stripped, else the outermost JSON object is taken.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from pipeline.errors import LLMBadResponse, LLMEmptyReply, LLMRefused

_REASONING = re.compile(r"^\s*<(think|thinking|reasoning)>.*?</\1>\s*", re.DOTALL | re.IGNORECASE)
# DeepSeek-R1's chat template opens the block itself, so the reply may hold only its end.
_REASONING_TAIL = re.compile(r"^.*?</(think|thinking|reasoning)>\s*", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"^\s*```[A-Za-z0-9_-]*[ \t]*\n?(.*?)\n?[ \t]*```\s*$", re.DOTALL)


@dataclass(frozen=True)
class Completion:
    """One usable reply: its text, why it stopped, and the tokens the server counted."""

    text: str
    finish_reason: str | None
    input_tokens: int | None
    output_tokens: int | None


def read_completion(body: str, content_type: str | None = None) -> Completion:
    """The completion in a chat-completions response body.

    Raises ``LLMBadResponse`` (not a chat completion), ``LLMEmptyReply`` or ``LLMRefused``.
    """
    data = _response_object(body, content_type)
    choice = _first_choice(data)
    finish = choice.get("finish_reason")
    content = _reply_content(_message(choice), finish)
    usage: dict[str, Any] = data.get("usage") or {}
    if not isinstance(usage, dict):
        usage = {}
    return Completion(
        text=content,
        finish_reason=finish if isinstance(finish, str) else None,
        input_tokens=_int(usage.get("prompt_tokens")),
        output_tokens=_int(usage.get("completion_tokens")),
    )


def _response_object(body: str, content_type: str | None) -> dict[str, Any]:
    """The body's JSON object; ``LLMBadResponse`` for non-JSON, a non-object or an error."""
    try:
        data = json.loads(body)
    except ValueError:
        kind = (content_type or "unknown content type").split(";")[0]
        start = " ".join(body[:120].split())
        raise LLMBadResponse(
            f"the endpoint answered {kind}, not a chat completion (wrong base URL?): {start!r}"
        ) from None
    if not isinstance(data, dict):
        raise LLMBadResponse(f"the endpoint answered JSON that is not an object: {body[:120]!r}")
    if "error" in data and "choices" not in data:
        error = data["error"]
        said = error.get("message") if isinstance(error, dict) else error
        raise LLMBadResponse(f"the endpoint answered 200 with an error: {said}")
    return data


def _first_choice(data: dict[str, Any]) -> dict[str, Any]:
    """The first choice (empty when not an object); ``LLMEmptyReply`` when there is none."""
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices:
        raise LLMEmptyReply("the completion has no choices")
    return choices[0] if isinstance(choices[0], dict) else {}


def _message(choice: dict[str, Any]) -> dict[str, Any]:
    """The choice's message, empty when missing or not an object."""
    message: dict[str, Any] = choice.get("message") or {}
    return message if isinstance(message, dict) else {}


def _reply_content(message: dict[str, Any], finish: Any) -> str:
    """The message's text (``""`` when cut off); ``LLMRefused`` or ``LLMEmptyReply`` for none."""
    content = message.get("content")
    refusal = message.get("refusal")
    if refusal and not content:
        raise LLMRefused(f"the model refused: {str(refusal)[:500]}")
    if isinstance(content, list):  # content parts (some gateways)
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    if not isinstance(content, str) or not content.strip():
        if finish == "content_filter":
            raise LLMRefused("the reply was withheld by the server's content filter")
        if finish != "length":
            raise LLMEmptyReply(f"the reply has no content (finish_reason {finish!r})")
        content = ""
    return content


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def json_text(reply: str) -> str:
    """The JSON object in a reply: reasoning block and code fence removed; failing a parse, the
    outermost ``{...}``. Returns the cleaned text unchanged when no object is found (the caller's
    parse then names the problem)."""
    text = _REASONING.sub("", reply, count=1)
    if text is reply or text == reply:
        text = _REASONING_TAIL.sub("", reply, count=1) if "</" in reply[:20000] else reply
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1)
    text = text.strip()
    if _parses(text):
        return text
    start = text.find("{")
    while start != -1:
        try:
            _, end = json.JSONDecoder().raw_decode(text, start)
        except ValueError:
            start = text.find("{", start + 1)
            continue
        return text[start:end]
    return text


def _parses(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False
