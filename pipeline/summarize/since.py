"""What is new since the earlier story of a thread, for the local summariser's "what's new".

A story that continues an earlier one (``pipeline.threads``) should not restate it. Its
what's-new text is "Since 24 November: " followed by its own sentences whose facts the earlier
story's summary and key points do not already state (``facts.same_fact`` against each of their
sentences), in the story's order, up to ``SINCE_WORDS`` words. The date is the day the earlier
story was last reported, in the time zone its link carries (the digest's). When every sentence
repeats the earlier story, it says so rather than restating it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from pipeline.summarize.dates import day_month
from pipeline.summarize.facts import Facts, facts_of, same_fact
from pipeline.summarize.sentences import split_sentences
from pipeline.summary_record import ThreadLink

SINCE_WORDS = 60
MAX_CHARS = 600


class Earlier(Protocol):
    """The earlier story as the summariser gets it (``service.EarlierStory``)."""

    @property
    def link(self) -> ThreadLink: ...

    @property
    def summary(self) -> str: ...

    @property
    def key_points(self) -> tuple[str, ...]: ...


class NewSentence(Protocol):
    """A sentence of the story, with its facts and how it is shown."""

    @property
    def facts(self) -> Facts: ...

    def shown(self, limit: int) -> str: ...


def since_label(when: datetime) -> str:
    """ "Since 24 November" for a date (its own time zone's day)."""
    return f"Since {day_month(when)}"


def earlier_facts(earlier: Earlier, terms: tuple[str, ...]) -> list[Facts]:
    """The facts of each sentence of the earlier story's summary and key points."""
    texts = [earlier.summary, *earlier.key_points]
    return [facts_of(s, terms) for text in texts if text for s in split_sentences(text)]


def whats_new_since(
    earlier: Earlier, sentences: Sequence[NewSentence], terms: tuple[str, ...]
) -> str:
    """ "Since D Month: " and the sentences whose facts the earlier story did not state, or a
    line saying the sources add nothing to it."""
    known = earlier_facts(earlier, terms)
    label = since_label(earlier.link.previous_last_seen)
    new: list[str] = []
    used = 0
    for sentence in sentences:
        if any(same_fact(sentence.facts, fact) for fact in known):
            continue
        text = sentence.shown(SINCE_WORDS - used)
        if used and text.endswith("…"):
            break
        new.append(text)
        used += len(text.split())
        if used >= SINCE_WORDS:
            break
    if not new:
        return f"{label}: the sources repeat what was reported then."
    text = f"{label}: {' '.join(new)}"
    while len(text) > MAX_CHARS:  # the record's limit on what's new
        text = text[: text.rstrip("…").rfind(" ")].rstrip(",;:") + "…"
    return text
