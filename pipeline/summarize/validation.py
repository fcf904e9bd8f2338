"""Checking a model's reply against the schema and the story, and naming what is wrong.

``validated_summary`` reads a reply's JSON text into an ``LLMSummary`` (with the model-only
checks, ``FROM_MODEL``) and checks it against the story with ``story_problems``: actor and target
in the pair, country codes the gazetteer knows, third parties outside the pair, and exactly two
positions, the pair's countries in pair order (``position_problems``), a silent side ("none")
with no position, speaker, quote or cites. ``describe_invalid`` names the first problem the way
the repair prompt asks for it; ``plain_summary`` is the summary as stored, in plain text.
"""

from __future__ import annotations

import json

from pydantic import ValidationError

from pipeline.summarize.schema import FROM_MODEL, LLMSummary, Voice
from pipeline.textclean import plain_text


def validated_summary(reply: str, dyad: str, known: frozenset[str]) -> LLMSummary:
    """The summary in a reply's JSON text, checked against the schema and the story. Raises
    ``ValueError`` (a ``ValidationError`` or a story mismatch) naming the problem."""
    summary = LLMSummary.model_validate_json(reply, context=FROM_MODEL)
    problems = story_problems(summary, dyad, known)
    if problems:
        raise ValueError("; ".join(problems))
    return summary


def story_problems(summary: LLMSummary, dyad: str, known: frozenset[str]) -> list[str]:
    """Fields that do not fit the story: actor and target outside the pair (or the same
    country), country codes the gazetteer does not know, a third party that is one of the
    pair. ``known`` empty skips the gazetteer check."""
    if not summary.bilateral:
        return []
    pair = {dyad[:2], dyad[3:]}
    problems = position_problems(summary, dyad)
    for name in ("actor_country", "target_country"):
        code = getattr(summary, name)
        if code is not None and code not in pair:
            problems.append(f"{name}: {code!r} is not one of the pair {sorted(pair)}")
    if summary.actor_country and summary.actor_country == summary.target_country:
        problems.append("actor_country and target_country are the same country")
    for number, actor in enumerate(summary.actors, start=1):
        if actor.country and known and actor.country not in known:
            problems.append(f"actors.{number}.country: {actor.country!r} is not an ISO code")
    for number, reaction in enumerate(summary.third_party_reactions, start=1):
        if reaction.country in pair:
            problems.append(f"third_party_reactions.{number}: {reaction.country} is of the pair")
        elif known and reaction.country not in known:
            problems.append(
                f"third_party_reactions.{number}.country: {reaction.country!r} is not an ISO code"
            )
    return problems


def position_problems(summary: LLMSummary, dyad: str) -> list[str]:
    """What is wrong with a bilateral reply's positions: there must be exactly two, the pair's
    countries in dyad order ("IN-RU": India first); a side with voice "none" has an empty
    position, no speaker, no quote and no cites."""
    order = [dyad[:2], dyad[3:]]
    countries = [p.country for p in summary.positions]
    if countries != order:
        return [
            f"positions: {len(countries)} given for {countries}; exactly two are needed, "
            f"one per country of the pair in this order: {order}"
        ]
    problems = []
    for number, position in enumerate(summary.positions, start=1):
        if position.voice != Voice.NONE:
            continue
        extra = [
            name
            for name, filled in (
                ("position", bool(position.position.strip())),
                ("speaker", position.speaker is not None),
                ("quote", position.quote is not None),
                ("cites", bool(position.cites)),
            )
            if filled
        ]
        if extra:
            problems.append(
                f"positions.{number}: voice is none but {', '.join(extra)} filled in "
                '(a silent side has position "", speaker and quote null, cites [])'
            )
    return problems


def describe_invalid(error: ValueError, text: str) -> str:
    """What is wrong with ``text``: not JSON, not the schema, or not the story."""
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        return f"not valid JSON ({exc.msg} at character {exc.pos})"
    if not isinstance(error, ValidationError):
        return f"does not fit the story: {error}"
    first = error.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(root)"
    return f"does not match the schema: {where}: {first['msg']} ({error.error_count()} errors)"


def plain_summary(summary: LLMSummary) -> LLMSummary:
    """Every string the model wrote as plain text (``plain_text``: no tags, no links, no control
    characters), whatever the summary's status: an unverified or rejected summary is stored
    and shown as plain text too."""
    data = summary.model_dump()

    def walk(value: object) -> object:
        if isinstance(value, str):
            return plain_text(value)
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        return value

    return LLMSummary.model_validate(walk(data))
