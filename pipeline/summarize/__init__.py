"""Story summaries: prompts (versioned), the record schema, grounding, backends (OpenAI-compatible
and local), and the rules around each call (see ``service``)."""

from __future__ import annotations

from pipeline.summarize.prompts import PROMPT_VERSION
from pipeline.summarize.schema import StorySummary, SummaryStatus
from pipeline.summarize.service import StoryInput, StorySummarizer

__all__ = ["PROMPT_VERSION", "StoryInput", "StorySummarizer", "StorySummary", "SummaryStatus"]
