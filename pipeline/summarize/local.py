"""The local summariser: no network, extractive, honest about what it is.

It fills the same record as the LLM from the articles' own sentences: the earliest article's
title as headline, lead sentences that name the pair as summary and key points, the PLOVER event
type and cooperation score from the headline's cue words (``events.py``), actors from the
names detection found. Everything it writes is copied from the sources, so it is grounded by
construction, and it is stored with status "local" so readers know no model read the story.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pipeline.records import Story, StoryArticle
from pipeline.summarize.events import classify_event
from pipeline.summarize.schema import LLMSummary

LOCAL_MODEL = "local-extractive-v3"  # bump when the output changes, so stories are redone

_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“])")


def _sentences(text: str, title: str = "") -> list[str]:
    out: list[str] = []
    for raw in text.split("\n"):
        paragraph = raw.strip()
        if not paragraph or paragraph == title.strip():
            continue  # extraction often keeps the headline as the first line
        out += [s.strip() for s in _SENTENCE.split(paragraph) if len(s.strip()) > 30]
    return out


def _words(text: str, limit: int) -> str:
    words = text.split()
    return text if len(words) <= limit else " ".join(words[:limit]).rstrip(",;:") + "…"


def summarize_locally(
    story: Story, articles: Sequence[StoryArticle], terms: tuple[str, ...], actors: Sequence[str]
) -> LLMSummary:
    """An extractive summary of ``story`` built only from its articles' sentences."""
    ordered = sorted(articles, key=lambda a: (a.published_at is None, a.published_at, a.article_id))
    lead = ordered[0]
    headline = _words(lead.title, 18)[:120]
    lowered_terms = tuple(t.lower() for t in terms)
    candidates: list[str] = []
    for article in ordered:
        for sentence in _sentences(article.text, article.title)[:6]:
            if sentence not in candidates and (
                not lowered_terms or any(t in sentence.lower() for t in lowered_terms)
            ):
                candidates.append(sentence)
    if not candidates:
        candidates = _sentences(lead.text, lead.title)[:3] or [lead.title]
    summary = _words(" ".join(candidates[:2]), 80)
    key_points = [_words(s, 40) for s in candidates[2:7]] or [_words(candidates[0], 40)]
    event, score = classify_event(lead.title, lead.text)
    whats_new = _words(candidates[0], 40)
    background = _words(candidates[-1], 40) if len(candidates) > 1 else ""
    return LLMSummary(
        bilateral=True,
        reject_reason=None,
        headline=headline,
        summary=summary,
        key_points=key_points[:5],
        whats_new=whats_new,
        background=background,
        event_type=event,
        actor_country=story.actor,
        target_country=story.target,
        cooperation_score=score,
        actors=[],
        agreements=[],
        third_party_reactions=[],
    )
