"""The summary record: what the LLM must return, and what Dyad stores and shows.

``LLMSummary`` is the model's output contract (``extra="forbid"``, so wrong or extra fields are a
validation error); its JSON Schema is sent as the response format and kept, versioned, in
``summary.schema.json`` beside this file. ``StorySummary`` wraps it with what only Dyad knows:
sources from our records, status, grounding problems, model, prompt version, usage and cost.

Field by field (LLMSummary):

- ``bilateral`` / ``reject_reason``: the model's confirmation that the story is about relations
  between the two countries; a rejected story is stored as rejected, not summarised.
- ``headline``: one line, at most 120 characters.
- ``summary``: at most about 80 words, plain text.
- ``key_points``: up to 5 short sentences.
- ``whats_new`` / ``background``: what this story adds, versus context already known.
- ``event_type``: PLOVER category; ``actor_country`` and ``target_country``: who acted toward whom.
- ``cooperation_score``: -10 (armed conflict) to +10 (alliance-level cooperation).
- ``actors``: people and institutions (name, role, country); ``agreements``: commitments made;
  ``third_party_reactions``: other countries' stances, each with its evidence from the sources.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from pipeline.summary_record import (
    FROM_MODEL,
    MIN_HEADLINE,
    MIN_SUMMARY,
    SCHEMA_VERSION,
    Actor,
    EventType,
    KeyPoint,
    LLMSummary,
    Position,
    Quote,
    Reaction,
    Source,
    Stance,
    StorySummary,
    SummaryStatus,
    ThreadLink,
    Usage,
    Voice,
)

__all__ = [
    "FROM_MODEL",
    "MIN_HEADLINE",
    "MIN_SUMMARY",
    "SCHEMA_FILE",
    "SCHEMA_VERSION",
    "Actor",
    "EventType",
    "KeyPoint",
    "LLMSummary",
    "Position",
    "Quote",
    "Reaction",
    "Source",
    "Stance",
    "StorySummary",
    "SummaryStatus",
    "ThreadLink",
    "Usage",
    "Voice",
    "response_schema",
    "summary_json_schema",
]

# What OpenAI's strict mode does not support (platform.openai.com/docs/guides/structured-outputs,
# "Supported schemas": strings take pattern and format, numbers minimum/maximum, arrays
# minItems/maxItems; no default). Our own validation checks the string lengths on return.
_UNSUPPORTED_KEYWORDS = ("maxLength", "minLength", "title", "default")


def response_schema() -> dict[str, Any]:
    """The summary JSON Schema in the strict subset structured-output endpoints accept: every
    property required, no additional properties, only supported keywords."""

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


SCHEMA_FILE = Path(__file__).with_name("summary.schema.json")


def summary_json_schema() -> dict[str, object]:
    """The versioned JSON Schema of the stored summary record (``summary.schema.json``)."""
    schema = StorySummary.model_json_schema()
    schema["$id"] = f"https://dyad.example/schema/story-summary-v{SCHEMA_VERSION}.json"
    schema["title"] = f"Dyad story summary, schema version {SCHEMA_VERSION}"
    return schema
