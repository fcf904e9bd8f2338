"""Bilateral-relations detection (rules and method: ``pipeline.detect.decide``)."""

from __future__ import annotations

from pipeline.detect.decide import detect_dyads, detection_version
from pipeline.detect.gazetteer import (
    GAZETTEER_DIR,
    Gazetteer,
    load_gazetteer,
    pair_terms,
    tokenize,
)
from pipeline.detect.mentions import find_mentions
from pipeline.detect.model import DetectionModel, load_model

__all__ = [
    "GAZETTEER_DIR",
    "DetectionModel",
    "Gazetteer",
    "detect_dyads",
    "detection_version",
    "find_mentions",
    "load_gazetteer",
    "load_model",
    "pair_terms",
    "tokenize",
]
