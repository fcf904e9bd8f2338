"""The local summariser: no network, extractive, honest about what it is.

It fills the same record as the LLM from the articles' own sentences: the earliest article's
title as headline, lead sentences that name the pair as summary and key points, the PLOVER event
type and cooperation score from the cue words the story uses, actors from the names detection
found. Everything it writes is copied from the sources, so it is grounded by construction, and
it is stored with status "local" so readers know no model read the story.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pipeline.records import Story, StoryArticle
from pipeline.summarize.schema import EventType, LLMSummary

LOCAL_MODEL = "local-extractive-v2"  # bump when the output changes, so stories are redone

# Cue stems -> (PLOVER event type, cooperation score). First match in the headline wins, then
# the most frequent in the text.
EVENT_CUES: tuple[tuple[str, EventType, int], ...] = (
    ("invad", EventType.ASSAULT, -9),
    ("airstrike", EventType.ASSAULT, -8),
    ("strike", EventType.ASSAULT, -7),
    ("clash", EventType.ASSAULT, -7),
    ("fire", EventType.ASSAULT, -6),
    ("troops", EventType.MOBILIZE, -5),
    ("drill", EventType.MOBILIZE, -4),
    ("sanction", EventType.SANCTION, -6),
    ("tariff", EventType.SANCTION, -4),
    ("expel", EventType.COERCE, -6),
    ("recall", EventType.PROTEST, -4),
    ("summon", EventType.PROTEST, -4),
    ("protest", EventType.PROTEST, -4),
    ("threat", EventType.THREATEN, -6),
    ("warn", EventType.THREATEN, -4),
    ("accus", EventType.ACCUSE, -4),
    ("reject", EventType.REJECT, -3),
    ("demand", EventType.REQUEST, -1),
    ("aid", EventType.AID, 5),
    ("loan", EventType.AID, 4),
    ("sign", EventType.AGREE, 6),
    ("agree", EventType.AGREE, 5),
    ("deal", EventType.AGREE, 5),
    ("pact", EventType.AGREE, 6),
    ("swap", EventType.COOPERATE, 3),
    ("exchange", EventType.COOPERATE, 3),
    ("cooperat", EventType.COOPERATE, 5),
    ("talks", EventType.CONSULT, 3),
    ("meet", EventType.CONSULT, 3),
    ("met", EventType.CONSULT, 3),
    ("visit", EventType.CONSULT, 3),
)
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


def classify_event(headline: str, text: str) -> tuple[EventType, int]:
    """PLOVER type and cooperation score from cue words (headline first, then frequency)."""
    lowered = headline.lower()
    for stem, event, score in EVENT_CUES:
        if re.search(rf"\b{re.escape(stem)}", lowered):
            return event, score
    body = text.lower()
    counts = [
        (len(re.findall(rf"\b{re.escape(stem)}", body)), -i)
        for i, (stem, _, _) in enumerate(EVENT_CUES)
    ]
    best_count, best_index = max(counts)
    if best_count == 0:
        return EventType.CONSULT, 2
    _, event, score = EVENT_CUES[-best_index]
    return event, score


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
    event, score = classify_event(lead.title, " ".join(a.text for a in articles))
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
