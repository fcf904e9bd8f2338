"""A story's cited parts as the digest shows them: key points, each side's position and the
representative quote with the outlets of the articles they cite, and the thread it continues.

Citations in a summary are article numbers (1 = the record's first source); here they become
outlet names, each once, in citation order. A number outside the sources names nothing (the
grounding check reports such a citation; the digest never invents an outlet for it).
"""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.digest.model import DigestPoint, DigestPosition, DigestQuote, DigestThread
from pipeline.summary_record import LLMSummary, Source, ThreadLink, Voice
from pipeline.textclean import plain_text


def cited_outlets(cites: Sequence[int], sources: Sequence[Source]) -> list[str]:
    """The outlets of the cited article numbers, each once, in citation order."""
    outlets = [sources[n - 1].outlet for n in cites if 1 <= n <= len(sources)]
    return list(dict.fromkeys(outlets))


def digest_points(summary: LLMSummary, sources: Sequence[Source]) -> list[DigestPoint]:
    """The first five key points as plain text, each with the outlets it cites."""
    return [
        DigestPoint(text=plain_text(p.text), outlets=cited_outlets(p.cites, sources))
        for p in summary.key_points[:5]
    ]


def digest_positions(
    summary: LLMSummary, sources: Sequence[Source], dyad: str, names: dict[str, str]
) -> list[DigestPosition]:
    """Each side's position in pair order, only for the pair's two countries; a side the
    summary has no position for is left out (records from before schema 3 have none)."""
    by_country = {p.country: p for p in summary.positions}
    shown = []
    for code in (dyad[:2], dyad[3:]):
        position = by_country.get(code)
        if position is None:
            continue
        silent = position.voice is Voice.NONE
        shown.append(
            DigestPosition(
                country=code,
                name=names.get(code, code),
                voice=position.voice,
                position="" if silent else plain_text(position.position),
                speaker=None if silent or not position.speaker else plain_text(position.speaker),
                quote=None if silent or not position.quote else plain_text(position.quote),
                outlets=[] if silent else cited_outlets(position.cites, sources),
            )
        )
    return shown


def digest_quote(summary: LLMSummary, sources: Sequence[Source]) -> DigestQuote | None:
    """The representative quotation with its speaker and outlets, or None."""
    quote = summary.quote
    if quote is None or not quote.text.strip():
        return None
    return DigestQuote(
        text=plain_text(quote.text),
        speaker=plain_text(quote.speaker),
        country=quote.country,
        outlets=cited_outlets(quote.cites, sources),
    )


def digest_thread(link: ThreadLink | None) -> DigestThread | None:
    """The thread a story continues, as the digest record carries it."""
    if link is None:
        return None
    return DigestThread(
        thread_id=link.thread_id,
        previous_story_id=link.previous_story_id,
        previous_headline=plain_text(link.previous_headline),
        previous_last_seen=link.previous_last_seen,
    )
