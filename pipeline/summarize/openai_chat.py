"""The OpenAI-compatible backend: one chat completion, sent the way the server accepts it.

Uses the official ``openai`` client (OpenAI, Azure OpenAI's v1 API, OpenRouter, vLLM, Ollama,
llama.cpp through ``base_url``) with its own retries off, so Dyad decides:

- the request follows a ``RequestShape`` (``providers``): token-limit parameter, temperature,
  structured-output step. A 400/422/500 that names a parameter (``max_tokens``, ``temperature``,
  ``response_format``) changes the shape and the request is sent again at once; the change is
  kept in ``shape_changes`` for the store, which remembers the shape per endpoint and model;
- a 429 whose Retry-After is short is waited out and retried; a long one raises
  ``LLMRateLimited`` (the rest of the run is deferred);
- 5xx, timeouts and refused connections are retried with backoff, then raise ``LLMUnavailable``;
  401/403 raise ``LLMAuthFailed`` and 404 ``LLMNotFound`` at once (no retry helps);
- other 400s raise ``LLMRequestRejected`` (this story's request);
- the body is read by ``replies.read_completion``: an HTML page, no choices or a refusal are
  named errors, never a crash.

Every failed request is appended to ``failed_requests`` (the caller records them). The timeout
is explicit (``llm.timeout``, else the profile's), never the client's 600 s.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import openai

from pipeline.config import LLMSettings
from pipeline.errors import (
    LLMAuthFailed,
    LLMError,
    LLMNotFound,
    LLMRateLimited,
    LLMRequestRejected,
    LLMUnavailable,
)
from pipeline.summarize.prompts import schema_hint
from pipeline.summarize.providers import (
    PROFILES,
    RequestShape,
    adapt_to_error,
    initial_shape,
    output_token_limit,
    profile_name,
    request_timeout,
    uses_reasoning_model,
)
from pipeline.summarize.replies import Completion, read_completion
from pipeline.summarize.schema import response_schema

_MAX_SHAPE_CHANGES = 4


def _retry_after(error: openai.APIStatusError) -> float | None:
    value = error.response.headers.get("retry-after") if error.response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _error_text(error: openai.APIStatusError) -> str:
    body = error.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and inner.get("message"):
            return f"{inner['message']} ({json.dumps(body)[:300]})"
        return json.dumps(body)[:400]
    return str(error)[:400]


class OpenAIChat:
    """Sends chat completions to an OpenAI-compatible endpoint."""

    def __init__(
        self,
        settings: LLMSettings,
        client: openai.OpenAI | None = None,
        sleep: Callable[[float], None] = time.sleep,
        shape: RequestShape | None = None,
    ) -> None:
        self.settings = settings
        key = settings.api_key.get_secret_value() if settings.api_key else "not-needed"
        self.client = client or openai.OpenAI(
            api_key=key,
            base_url=settings.base_url,
            timeout=request_timeout(settings),
            max_retries=0,
        )
        self._sleep = sleep
        self.profile = PROFILES[profile_name(settings)]
        self.reasoning = uses_reasoning_model(settings)
        self.initial = initial_shape(self.profile, self.reasoning, settings.structured_output)
        self.shape = shape or self.initial
        self.shape_changes: list[str] = []
        self.failed_requests: list[LLMError] = []

    @property
    def endpoint(self) -> str:
        """The endpoint's base URL, as the store keys it."""
        return self.settings.base_url or "https://api.openai.com/v1"

    def request(self, messages: list[dict[str, str]], max_output_tokens: int) -> dict[str, Any]:
        """The request body for ``messages`` under the current shape."""
        s, shape = self.settings, self.shape
        hint = schema_hint(shape.structured)
        if hint:
            messages = [
                {**messages[0], "content": messages[0]["content"] + "\n\n" + hint},
                *messages[1:],
            ]
        kwargs: dict[str, Any] = {
            "model": s.model,
            "messages": messages,
            shape.limit_param: max_output_tokens,
        }
        if shape.temperature:
            kwargs["temperature"] = s.temperature
        if shape.structured == "json_schema":
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": "story_summary",
                    "schema": response_schema(),
                    "strict": True,
                },
            }
        elif shape.structured == "json_object":
            kwargs["response_format"] = {"type": "json_object"}
            if shape.schema_in_json_object:
                kwargs["response_format"]["schema"] = response_schema()
        return kwargs

    def _failed(self, error: LLMError) -> LLMError:
        self.failed_requests.append(error)
        return error

    def complete(
        self, messages: list[dict[str, str]], max_output_tokens: int | None = None
    ) -> Completion:
        """One completion. Raises ``LLMRateLimited``, ``LLMUnavailable`` (and its kinds), or
        ``LLMBadOutput`` kinds for a reply that cannot be read."""
        limit = max_output_tokens or output_token_limit(self.settings)
        attempt = changes = 0
        while True:
            kwargs = self.request(messages, limit)
            try:
                return self._send(kwargs)
            except openai.RateLimitError as exc:
                self._wait_out_rate_limit(exc, attempt)
            except openai.APIStatusError as exc:
                status, text = exc.status_code, _error_text(exc)
                if self._reshape(status, text, changes):
                    changes += 1
                    continue
                self._raise_if_unretryable(status, text, exc)
                self._retry_unavailable(f"HTTP {status}: {text}", exc, attempt)
            except (openai.APITimeoutError, openai.APIConnectionError) as exc:
                self._retry_unavailable(self._network_message(exc), exc, attempt)
            attempt += 1

    def _send(self, kwargs: dict[str, Any]) -> Completion:
        """The server's completion for ``kwargs``; an unreadable reply raises, recorded."""
        raw = self.client.chat.completions.with_raw_response.create(**kwargs)
        try:
            return read_completion(raw.text, raw.headers.get("content-type"))
        except LLMError as exc:
            raise self._failed(exc) from None

    def _wait_out_rate_limit(self, exc: openai.RateLimitError, attempt: int) -> None:
        """Records a 429 and waits; raises ``LLMRateLimited`` if too long or out of retries."""
        s = self.settings
        wait = _retry_after(exc)
        self._failed(LLMRateLimited(f"HTTP 429: {_error_text(exc)}", retry_after=wait or 0))
        if wait is not None and wait > s.retry_after_max:
            raise LLMRateLimited(f"rate limited for {wait:g} s", retry_after=wait) from exc
        if attempt >= s.max_retries:
            raise LLMRateLimited("rate limited after retries", retry_after=wait or 60) from exc
        self._sleep(wait if wait is not None else 2.0 * 2**attempt)

    def _reshape(self, status: int, text: str, changes: int) -> bool:
        """Switches to the shape the error asks for, recorded; False if none helps or none left."""
        adapted = adapt_to_error(self.shape, status, text)
        if adapted is None or changes >= _MAX_SHAPE_CHANGES:
            return False
        self._failed(LLMRequestRejected(f"HTTP {status}: {text}; sending again as {adapted}"))
        self.shape_changes.append(f"HTTP {status}: {adapted.reason}")
        self.shape = adapted
        return True

    def _raise_if_unretryable(self, status: int, text: str, exc: openai.APIStatusError) -> None:
        """Raises the recorded, named error of a 4xx that no retry helps; returns for a 5xx."""
        if status in (401, 403):
            raise self._failed(LLMAuthFailed(f"HTTP {status}: {text}")) from exc
        if status == 404:
            raise self._failed(LLMNotFound(f"HTTP 404: {text}")) from exc
        if status < 500:
            raise self._failed(LLMRequestRejected(f"HTTP {status}: {text}")) from exc

    def _network_message(self, exc: openai.APIConnectionError) -> str:
        """What went wrong on the wire: the timeout that passed, or the failed connection."""
        if isinstance(exc, openai.APITimeoutError):
            return f"no answer within {request_timeout(self.settings):g} s (llm.timeout)"
        return f"connection failed: {exc}"

    def _retry_unavailable(self, message: str, exc: openai.OpenAIError, attempt: int) -> None:
        """Records an unavailable endpoint and backs off; ``LLMUnavailable`` when out of retries."""
        self._failed(LLMUnavailable(message))
        if attempt >= self.settings.max_retries:
            raise LLMUnavailable(message) from exc
        self._sleep(min(8.0, 0.5 * 2**attempt))


__all__ = ["Completion", "OpenAIChat", "response_schema"]
