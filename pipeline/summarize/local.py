"""The local summariser: no network, extractive, honest about what it is.

It fills the same record as the LLM from the articles' own sentences: the earliest article's
title as headline, lead sentences that name the pair as summary and key points, the PLOVER event
type and cooperation score from the headline's cue words (``events.py``), actors from the
names detection found. Everything it writes is copied from the sources, so it is grounded by
construction, and it is stored with status "local" so readers know no model read the story.

How the sentences are chosen, so that they read well on their own:

- sentences are cut by nupunkt, not at every full stop (``sentences.py``), and a sentence that
  needs the one before it is joined to it or dropped;
- the same fact from two outlets is said once, in the words that carry more facts
  (``facts.py``: shared figures or names, the rule in full there);
- no key point says again what the summary says;
- relative days get their date from the publication date of the article they come from
  ("on Monday (23 November)", ``dates.py``).

Each side's position and the story's quotation come from the sentences attributing speech to
that country's officials or press (``positions.py``, ``voices.py``, ``quotes.py``); a side with
none says so (voice "none").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from pipeline.records import Story, StoryArticle
from pipeline.summarize.dates import absolute_dates
from pipeline.summarize.events import classify_event
from pipeline.summarize.facts import Facts, fact_count, facts_of, same_fact
from pipeline.summarize.positions import sides_of
from pipeline.summarize.schema import KeyPoint, LLMSummary
from pipeline.summarize.sentences import Passage, passages, split_sentences
from pipeline.summarize.since import Earlier, whats_new_since
from pipeline.summarize.voices import Speakers

LOCAL_MODEL = "local-extractive-v5"  # bump when the output changes, so stories are redone
PER_ARTICLE = 6  # passages read from the top of each article
SUMMARY_WORDS = 80
POINT_WORDS = 40
REPEATED = 0.6  # a key point with this share of its words already in the summary adds nothing


@dataclass(frozen=True)
class Candidate:
    """One passage that may go into the summary, with where it comes from."""

    passage: Passage
    article: int  # index of its article, oldest first
    published: datetime | None
    facts: Facts  # of the passage's own sentence: followers make no two sentences the same

    @property
    def text(self) -> str:
        """The passage's sentence with all its followers."""
        return self.passage.full

    def shown(self, limit: int) -> str:
        """The passage as shown: with the followers that fit in ``limit`` words, relative days
        dated, cut at ``limit`` words when the sentence alone is longer."""
        return _words(absolute_dates(self.passage.within(limit), self.published), limit)


def _words(text: str, limit: int) -> str:
    words = text.split()
    return text if len(words) <= limit else " ".join(words[:limit]).rstrip(",;:") + "…"


def _candidates(articles: Sequence[StoryArticle], terms: tuple[str, ...]) -> list[Candidate]:
    """The passages from the top of each article that name the pair (every passage when no
    terms are given), in article order, without exact repeats."""
    lowered = tuple(t.lower() for t in terms)
    seen: set[str] = set()
    out: list[Candidate] = []
    for index, article in enumerate(articles):
        for passage in passages(split_sentences(article.text, article.title))[:PER_ARTICLE]:
            text = passage.full
            if text in seen or (lowered and not any(t in text.lower() for t in lowered)):
                continue
            seen.add(text)
            facts = facts_of(passage.sentence, terms, article.published_at)
            out.append(Candidate(passage, index, article.published_at, facts))
    return out


def merge_same_facts(candidates: Sequence[Candidate]) -> list[Candidate]:
    """One sentence per fact: a sentence stating the same fact as an earlier one from another
    article (``same_fact``) is dropped, or takes its place when it carries more facts."""
    out: list[Candidate] = []
    for candidate in candidates:
        for position, kept in enumerate(out):
            if kept.article != candidate.article and same_fact(kept.facts, candidate.facts):
                if fact_count(candidate.facts) > fact_count(kept.facts):
                    out[position] = candidate
                break
        else:
            out.append(candidate)
    return out


def _flat(text: str) -> str:
    return " ".join(text.lower().split())


def _repeats(point: Candidate, summary: Sequence[Candidate]) -> bool:
    """True when a key point says nothing the summary does not: it is in the summary word for
    word, states the same fact as a summary sentence from another article (``same_fact``), or
    ``REPEATED`` of its content words and names are already in the summary."""
    text = " ".join(point.text.lower().split())
    if any(text in " ".join(s.text.lower().split()) for s in summary):
        return True
    if any(s.article != point.article and same_fact(point.facts, s.facts) for s in summary):
        return True
    said = set().union(*(s.facts.words | s.facts.names for s in summary))
    own = point.facts.words | point.facts.names
    return bool(own) and len(own & said) / len(own) >= REPEATED


def _summary(candidates: Sequence[Candidate]) -> tuple[str, int]:
    """The summary paragraph: the first passage, and the second when it fits whole in
    ``SUMMARY_WORDS`` words; with how many passages it used."""
    first = candidates[0].shown(SUMMARY_WORDS)
    used = len(first.split())
    if len(candidates) > 1:
        second = candidates[1].shown(SUMMARY_WORDS - used)
        if not second.endswith("…"):
            return f"{first} {second}", 2
    return first, 1


def summarize_locally(
    story: Story,
    articles: Sequence[StoryArticle],
    terms: tuple[str, ...],
    actors: Sequence[str],
    *,
    earlier: Earlier | None = None,
    speakers: Speakers | None = None,
) -> LLMSummary:
    """An extractive summary of ``story`` built only from its articles' sentences; when it
    continues an ``earlier`` story, what's new says what is new since (``since.py``); each
    side's position and the quotation are read with ``speakers`` (every country's forms;
    without them only the national agencies are known, so a side is mostly "none"). A key point
    never repeats a side's position or quote: the side shows them with their speaker."""
    ordered = sorted(articles, key=lambda a: (a.published_at is None, a.published_at, a.article_id))
    lead = ordered[0]
    number = {a.article_id: n for n, a in enumerate(articles, start=1)}  # as in the sources
    candidates = merge_same_facts(_candidates(ordered, terms))
    if not candidates:
        candidates = _candidates([lead], ())[:3]
    if not candidates:
        facts = facts_of(lead.title, terms, lead.published_at)
        candidates = [Candidate(Passage(lead.title), 0, lead.published_at, facts)]
    text, used = _summary(candidates)
    summary, rest = candidates[:used], candidates[used:]
    pair = (story.dyad[:2], story.dyad[3:])
    positions, quote = sides_of(pair, articles, speakers or Speakers(()))
    said = [_flat(t) for p in positions for t in (p.position, p.quote) if t]
    key_points = [
        KeyPoint(text=c.shown(POINT_WORDS), cites=[number[ordered[c.article].article_id]])
        for c in rest
        if not _repeats(c, summary) and not any(s in _flat(c.text) for s in said)
    ][:5]
    event, score = classify_event(lead.title, lead.text)
    return LLMSummary(
        bilateral=True,
        reject_reason=None,
        headline=_words(lead.title, 18)[:120],
        summary=text,
        key_points=key_points,
        whats_new=whats_new_since(earlier, candidates, terms)
        if earlier
        else candidates[0].shown(POINT_WORDS),
        background=candidates[-1].shown(POINT_WORDS) if len(candidates) > 1 else "",
        event_type=event,
        actor_country=story.actor,
        target_country=story.target,
        cooperation_score=score,
        actors=[],
        agreements=[],
        third_party_reactions=[],
        positions=positions,
        quote=quote,
    )
