"""The OpenAI-compatible backend: one chat completion, with Dyad's own retry rules.

Uses the official ``openai`` client (works unchanged against OpenAI, Azure OpenAI, vLLM and
Ollama through ``base_url``) with its own retries turned off, so Dyad decides: a 429 whose
Retry-After is short is waited out and retried; a long one raises ``LLMRateLimited`` (the rest
of the run is deferred); 5xx, timeouts and refused connections are retried with backoff, then
raise ``LLMUnavailable``. The timeout is explicit (``llm.timeout``, 60 s by default, not the
client's 600 s).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import openai

from pipeline.config import LLMSettings
from pipeline.errors import LLMRateLimited, LLMUnavailable
from pipeline.summarize.schema import LLMSummary

_UNSUPPORTED_KEYWORDS = (
    "maxLength",
    "minLength",
    "maxItems",
    "minItems",
    "minimum",
    "maximum",
    "title",
    "description",
    "default",
)


@dataclass(frozen=True)
class Completion:
    text: str
    finish_reason: str | None
    input_tokens: int | None
    output_tokens: int | None


def response_schema() -> dict[str, Any]:
    """The summary JSON Schema in the strict subset structured-output endpoints accept."""

    def strip(node: Any, in_properties: bool = False) -> Any:
        if isinstance(node, dict):
            return {
                k: strip(v, k == "properties" and not in_properties)
                for k, v in node.items()
                if in_properties or k not in _UNSUPPORTED_KEYWORDS
            }
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    return strip(copy.deepcopy(LLMSummary.model_json_schema()))


def _retry_after(error: openai.APIStatusError) -> float | None:
    value = error.response.headers.get("retry-after") if error.response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


class OpenAIChat:
    """Sends chat completions to an OpenAI-compatible endpoint."""

    def __init__(
        self,
        settings: LLMSettings,
        client: openai.OpenAI | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        key = settings.api_key.get_secret_value() if settings.api_key else "not-needed"
        self.client = client or openai.OpenAI(
            api_key=key, base_url=settings.base_url, timeout=settings.timeout, max_retries=0
        )
        self._sleep = sleep

    def complete(self, messages: list[dict[str, str]]) -> Completion:
        """One completion. Raises ``LLMRateLimited`` or ``LLMUnavailable``."""
        s = self.settings
        kwargs: dict[str, Any] = {
            "model": s.model,
            "messages": messages,
            "temperature": s.temperature,
            "max_tokens": s.max_output_tokens,
        }
        if s.structured_output:
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {
                    "name": "story_summary",
                    "schema": response_schema(),
                    "strict": True,
                },
            }
        attempt = 0
        while True:
            try:
                response = self.client.chat.completions.create(**kwargs)
            except openai.RateLimitError as exc:
                wait = _retry_after(exc)
                if wait is not None and wait > s.retry_after_max:
                    raise LLMRateLimited(f"rate limited for {wait:g} s", retry_after=wait) from exc
                if attempt >= s.max_retries:
                    raise LLMRateLimited(
                        "rate limited after retries", retry_after=wait or 60
                    ) from exc
                self._sleep(wait if wait is not None else 2.0 * 2**attempt)
            except (
                openai.APITimeoutError,
                openai.APIConnectionError,
                openai.InternalServerError,
            ) as exc:
                if attempt >= s.max_retries:
                    raise LLMUnavailable(f"{type(exc).__name__}: {exc}") from exc
                self._sleep(min(8.0, 0.5 * 2**attempt))
            except openai.APIStatusError as exc:
                if exc.status_code >= 500 and attempt < s.max_retries:
                    self._sleep(min(8.0, 0.5 * 2**attempt))
                else:
                    raise LLMUnavailable(f"HTTP {exc.status_code}: {str(exc)[:300]}") from exc
            else:
                choice = response.choices[0]
                usage = response.usage
                return Completion(
                    text=choice.message.content or "",
                    finish_reason=choice.finish_reason,
                    input_tokens=usage.prompt_tokens if usage else None,
                    output_tokens=usage.completion_tokens if usage else None,
                )
            attempt += 1
