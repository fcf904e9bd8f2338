"""Bilateral-relations detection: is this article about the relations between two countries?

What counts is defined by the labelling rules (the project's ``docs/detection.md`` and the
README beside ``tests/data/real_news.jsonl``): the main subject is an interaction between exactly
two countries acting as states (talks and visits, agreements, trade disputes between
governments, aid, sanctions, threats and accusations, clashes between their forces, extradition,
espionage, expelled diplomats). Not bilateral: one country's own affairs that name another,
multilateral events, a country and an organisation, a state against non-state actors (hostages,
insurgents), commercial or private matters, third-party commentary, sport.

How, in three pure steps:

1. ``mentions.find_mentions``: one n-gram matcher over title, lead and body finds every country
   name, adjective, capital, metonym and office holder (dated), after disambiguation.
2. ``features.article_candidates``: the pairs among the most-mentioned countries and the
   headline's, each with one feature vector (where the countries appear, pair patterns, cue
   words, multilateral/organisation/non-state/sport/commercial signals, share of mentions,
   leaders, headline actor/target, text length).
3. ``model.DetectionModel``: learned logistic-regression weights give each pair a calibrated
   probability; the article's pair is the most probable one. ``bilateral`` is probability >=
   the ``final`` threshold, ``candidate`` is probability >= the ``candidate`` threshold (lower:
   what an LLM is asked to confirm).
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from pipeline.detect.features import read_article
from pipeline.detect.gazetteer import Gazetteer, gazetteer_version, load_gazetteer
from pipeline.detect.model import DetectionModel, load_model
from pipeline.records import DyadDetection


def detection_version(
    gaz: Gazetteer | None = None,
    model: DetectionModel | None = None,
    candidate_threshold: float | None = None,
    final_threshold: float | None = None,
) -> str:
    """What a stored detection was made with: gazetteer, model and any threshold overrides.
    Articles stored with another version are detected again. Without ``gaz``, the version comes
    from the gazetteer's files, which is cheaper than building it."""
    words = gaz.version if gaz else gazetteer_version()
    model = model or load_model()
    made_with = f"{words}.{model.version}.{candidate_threshold}.{final_threshold}"
    return hashlib.sha256(made_with.encode("utf-8")).hexdigest()[:16]  # fits the 20-char column


def detect_dyads(
    title: str,
    text: str,
    published: datetime | None = None,
    *,
    gaz: Gazetteer | None = None,
    model: DetectionModel | None = None,
    candidate_threshold: float | None = None,
    final_threshold: float | None = None,
) -> DyadDetection:
    """Decide whether the article's main subject is the relationship between two countries.

    Pure and deterministic: the same title, text and date give the same answer. ``score`` is the
    calibrated probability of the most probable pair; ``bilateral`` is true exactly when it
    reaches the final threshold and ``candidate`` when it reaches the candidate threshold (the
    model's own thresholds unless given). ``countries`` is that pair (sorted ISO 3166-1
    alpha-2) whenever the article is a candidate, else (). Evidence lists what resolved to which
    country and where.
    """
    gaz = gaz or load_gazetteer()
    model = model or load_model()
    low = model.candidate_threshold if candidate_threshold is None else candidate_threshold
    high = model.final_threshold if final_threshold is None else final_threshold
    read = read_article(title, text, published, gaz)
    mentions, signals, candidates = read.mentions, read.signals, read.candidates
    # plain dicts, validated into Evidence records in one pass with the result (pydantic's core)
    evidence = [
        {"text": m.text, "country": m.country, "kind": m.kind, "where": m.where}
        for m in mentions[:60]
    ]
    best = None
    probability = 0.0
    words_score = model.words_score(signals.words) if candidates else 0.0
    for candidate in candidates:
        p = model.probability(candidate.features, words_score)
        if best is None or p > probability:
            best, probability = candidate, p
    probability = round(probability, 4)
    is_candidate = best is not None and probability >= low
    bilateral = best is not None and probability >= high
    chosen = best if best is not None and is_candidate else None
    pair = chosen.pair if chosen else ()
    actor, target = chosen.direction if chosen and chosen.direction else (None, None)
    return DyadDetection.model_validate(
        {
            "bilateral": bilateral,
            "candidate": is_candidate or bilateral,
            "countries": pair,
            "score": probability,
            "actor": actor,
            "target": target,
            "third_countries": tuple(c for c in signals.ranked if c not in pair),
            "cues": tuple(signals.cue_words),
            "evidence": evidence,
            "gazetteer_version": detection_version(
                gaz, model, candidate_threshold, final_threshold
            ),
        }
    )
