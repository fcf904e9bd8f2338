"""Bilateral-relations detection (rules and method: ``pipeline.detect.decide``)."""

from __future__ import annotations

from pipeline.detect.decide import THRESHOLD, detect_dyads, find_mentions
from pipeline.detect.gazetteer import (
    GAZETTEER_DIR,
    Gazetteer,
    load_gazetteer,
    pair_terms,
    tokenize,
)

__all__ = [
    "GAZETTEER_DIR",
    "THRESHOLD",
    "Gazetteer",
    "detect_dyads",
    "find_mentions",
    "load_gazetteer",
    "pair_terms",
    "tokenize",
]
