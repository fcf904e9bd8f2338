"""What each kind of OpenAI-compatible server accepts: provider profiles and request shapes.

Pure data and pure functions. A ``Profile`` says, for one kind of server, which token-limit
parameter to send, whether ``temperature`` may be sent, which structured-output step to start
from and how long to wait. A ``RequestShape`` is what is actually sent to one endpoint and model;
it starts from the profile and changes when the server names what it refuses
(``adapt_to_error``), and the store remembers it per endpoint and model.

The rules, with their sources:

- OpenAI: ``max_tokens`` "is now deprecated in favor of max_completion_tokens, and is not
  compatible with o-series models" (platform.openai.com/docs/api-reference/chat/create); the
  servers answer 400 ``unsupported_parameter`` "Use 'max_completion_tokens' instead" for the
  o-series and the gpt-5 family. Reasoning models accept only the default temperature (400
  ``unsupported_value``: "Only the default (1) value is supported"), and "reasoning tokens ...
  count against max_completion_tokens" (platform.openai.com/docs/guides/reasoning), so they get
  no temperature and a larger limit. Structured outputs with ``json_schema`` and ``strict``
  (platform.openai.com/docs/guides/structured-outputs).
- Azure OpenAI: the v1 API (``https://RESOURCE.openai.azure.com/openai/v1/``) takes the plain
  OpenAI client and the same parameters; reasoning models need ``max_completion_tokens``
  (learn.microsoft.com/azure/ai-foundry/openai/how-to/reasoning).
- OpenRouter: documents ``max_tokens`` and passes ``response_format`` ``json_schema`` to models
  that support it (openrouter.ai/docs/api-reference/parameters, .../structured-outputs).
- vLLM: ``max_tokens`` and ``max_completion_tokens`` both accepted; ``response_format``
  ``json_schema`` through guided decoding (docs.vllm.ai, "Structured Outputs").
- Ollama: ``max_tokens`` and ``response_format`` (``json_object``, ``json_schema``) in its
  OpenAI compatibility layer (docs.ollama.com/api/openai-compatibility); the first request loads
  the model, hence the long timeout.
- llama.cpp: llama-cpp-python's server takes ``response_format`` only as ``text`` or
  ``json_object`` with an optional ``schema`` it compiles to a grammar (its "JSON Schema mode",
  llama-cpp-python.readthedocs.io/en/latest/server/), and answers 500 to ``json_schema``;
  llama.cpp's own ``llama-server`` takes the same ``json_object`` + ``schema`` form.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from pipeline.config import LLMSettings

Structured = Literal["json_schema", "json_object", "prompt"]
LimitParam = Literal["max_completion_tokens", "max_tokens"]
ProviderName = Literal["openai", "azure", "vllm", "ollama", "llamacpp", "openrouter", "generic"]

LADDER: tuple[Structured, ...] = ("json_schema", "json_object", "prompt")


@dataclass(frozen=True)
class Profile:
    """What one kind of server accepts."""

    name: ProviderName
    limit_param: LimitParam
    temperature: bool
    structured: Structured
    schema_in_json_object: bool  # send the schema inside {"type": "json_object"} too
    timeout: float  # seconds per request


PROFILES: dict[str, Profile] = {
    "openai": Profile("openai", "max_completion_tokens", True, "json_schema", False, 60.0),
    "azure": Profile("azure", "max_completion_tokens", True, "json_schema", False, 60.0),
    "openrouter": Profile("openrouter", "max_tokens", True, "json_schema", False, 90.0),
    "vllm": Profile("vllm", "max_tokens", True, "json_schema", True, 120.0),
    "ollama": Profile("ollama", "max_tokens", True, "json_schema", False, 300.0),
    "llamacpp": Profile("llamacpp", "max_tokens", True, "json_object", True, 300.0),
    "generic": Profile("generic", "max_tokens", True, "json_schema", True, 120.0),
}


def detect_provider(base_url: str | None) -> ProviderName:
    """The profile a base URL most likely needs (``auto``): OpenAI when no URL is set."""
    if not base_url:
        return "openai"
    parts = urlsplit(base_url)
    host = (parts.hostname or "").lower()
    if host == "api.openai.com":
        return "openai"
    if host.endswith((".openai.azure.com", ".services.ai.azure.com")):
        return "azure"
    if host.endswith("openrouter.ai"):
        return "openrouter"
    if parts.port == 11434:
        return "ollama"
    return "generic"


def is_reasoning_model(model: str, patterns: tuple[str, ...] | list[str]) -> bool:
    """True when ``model`` (its last path part, e.g. ``openai/o3-mini``) matches a pattern."""
    names = {model.lower(), model.lower().rsplit("/", 1)[-1]}
    return any(fnmatch.fnmatchcase(n, p.lower()) for n in names for p in patterns)


def profile_name(llm: LLMSettings) -> ProviderName:
    """The provider profile in use (``llm.provider``, with ``auto`` resolved from the base URL)."""
    return detect_provider(llm.base_url) if llm.provider == "auto" else llm.provider


def request_timeout(llm: LLMSettings) -> float:
    """Seconds per request: ``llm.timeout``, else the profile's."""
    return llm.timeout if llm.timeout is not None else PROFILES[profile_name(llm)].timeout


def uses_reasoning_model(llm: LLMSettings) -> bool:
    """True when ``llm.model`` matches ``llm.reasoning_models``."""
    return is_reasoning_model(llm.model, llm.reasoning_models)


def output_token_limit(llm: LLMSettings) -> int:
    """The reply limit sent: ``reasoning_output_tokens`` for reasoning models (at least
    ``max_output_tokens``), else ``max_output_tokens``."""
    if uses_reasoning_model(llm):
        return max(llm.max_output_tokens, llm.reasoning_output_tokens)
    return llm.max_output_tokens


@dataclass(frozen=True)
class RequestShape:
    """What is sent to one endpoint and model: the parameters it accepts."""

    structured: Structured
    limit_param: LimitParam
    temperature: bool
    schema_in_json_object: bool
    reason: str | None = None  # why it differs from the profile, when it does

    def step_down(self, reason: str) -> RequestShape | None:
        """The next structured-output step, or None at the bottom of the ladder."""
        index = LADDER.index(self.structured)
        if index + 1 >= len(LADDER):
            return None
        return replace(self, structured=LADDER[index + 1], reason=reason)


def initial_shape(profile: Profile, reasoning: bool, structured: str) -> RequestShape:
    """The shape to start from: the profile's, with no temperature for reasoning models and the
    structured-output step forced when the settings name one (not ``auto``)."""
    start: Structured = profile.structured
    if structured in LADDER:
        start = structured
    return RequestShape(
        structured=start,
        limit_param=profile.limit_param,
        temperature=profile.temperature and not reasoning,
        schema_in_json_object=profile.schema_in_json_object,
    )


_FORMAT_REFUSED = re.compile(r"response_format|json_schema|'text' or 'json_object'", re.I)


def adapt_to_error(shape: RequestShape, status: int, message: str) -> RequestShape | None:
    """The shape to retry with after an error that names a parameter, or None when no change of
    shape can help. Any status counts (400, 422, and the 500 llama-cpp-python gives)."""
    text = message.lower()
    if status not in (400, 404, 422, 500):
        return None
    if "max_tokens" in text and "max_completion_tokens" in text:
        wanted: LimitParam = (
            "max_completion_tokens" if shape.limit_param == "max_tokens" else "max_tokens"
        )
        return replace(shape, limit_param=wanted, reason=_short(message))
    if "max_completion_tokens" in text and shape.limit_param == "max_completion_tokens":
        return replace(shape, limit_param="max_tokens", reason=_short(message))
    if "temperature" in text and shape.temperature:
        return replace(shape, temperature=False, reason=_short(message))
    if _FORMAT_REFUSED.search(message):
        if shape.structured == "json_object" and shape.schema_in_json_object and "schema" in text:
            return replace(shape, schema_in_json_object=False, reason=_short(message))
        return shape.step_down(_short(message))
    return None


def _short(message: str) -> str:
    return " ".join(message.split())[:200]
