"""The learned decision: logistic-regression weights over ``features.FEATURES``, as reviewed data.

``pipeline/data/detect_model.json`` holds a word model (a logistic regression over the words of
the headline and lead, country names left out, whose score is the last feature) and, per
feature, the mean and scale it was standardised with and its coefficient (on the standardised
value, so coefficients compare with each other), the intercept, and the two operating points
chosen by cross-validation over the train and dev splits of the labelled real-news set:
``candidate`` (recall >= 0.95: what goes to the LLM) and ``final`` (best F1: what the local
backend and the digest use without an LLM). It is written by ``make train-detect``
(``scripts/train_detect.py``, scikit-learn, a dev dependency) and read here in pure Python: no
pickle, no numpy, no network.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from itertools import repeat
from operator import mul
from pathlib import Path

from pipeline.detect.features import FEATURES
from pipeline.errors import ConfigError

MODEL_FILE = Path(__file__).parent.parent / "data" / "detect_model.json"
MODEL_FORMAT = 1


WORDS_FEATURE = "words_score"  # the word model's score: the last feature


@dataclass(frozen=True)
class DetectionModel:
    """Weights folded for speed: probability = sigmoid(bias + sum(weight_i * x_i)), where the
    last x is the word model's score of the headline and lead (``words_score``)."""

    weights: tuple[float, ...]
    bias: float
    word_weights: dict[str, float]
    word_bias: float
    candidate_threshold: float
    final_threshold: float
    version: str

    def words_score(self, words: frozenset[str]) -> float:
        """How much the headline's and lead's words (not country names) say "bilateral"."""
        # map with a repeated default sums in C, in the same order as a generator would
        return self.word_bias + sum(map(self.word_weights.get, words, repeat(0.0)))

    def probability(self, features: tuple[float, ...], words_score: float) -> float:
        """The calibrated probability that this pair is the article's bilateral pair."""
        if len(features) != len(self.weights) - 1:
            raise ValueError(f"{len(features)} features for {len(self.weights) - 1} weights")
        z = self.bias + self.weights[-1] * words_score + sum(map(mul, self.weights, features))
        if z < -30:
            return 0.0
        return 1.0 / (1.0 + math.exp(-z))


def model_from_dict(data: dict[str, object]) -> DetectionModel:
    """A model from the JSON structure ``scripts/train_detect.py`` writes; ConfigError if the
    file does not match the features this code computes."""
    if data.get("format") != MODEL_FORMAT:
        raise ConfigError(f"detection model: format {data.get('format')!r}, expected 1")
    names: tuple[str, ...] = tuple(data["features"])  # type: ignore[arg-type]
    expected = (*FEATURES, WORDS_FEATURE)
    if names != expected:
        missing = sorted(set(expected) - set(names))
        extra = sorted(set(names) - set(expected))
        raise ConfigError(
            "detection model does not match the code's features "
            f"(missing {missing}, unknown {extra}): run make train-detect"
        )
    means = data["mean"]
    scales = data["scale"]
    coefs = data["coef"]
    weights = tuple(
        float(c) / float(s) if s else 0.0
        for c, s in zip(coefs, scales, strict=True)  # type: ignore[call-overload]
    )
    bias = float(data["intercept"]) - sum(  # type: ignore[arg-type]
        w * float(m)
        for w, m in zip(weights, means, strict=True)  # type: ignore[call-overload]
    )
    thresholds = data["thresholds"]
    words = data["words"]
    return DetectionModel(
        weights=weights,
        bias=bias,
        word_weights={str(k): float(v) for k, v in words["weights"].items()},  # type: ignore[index]
        word_bias=float(words["intercept"]),  # type: ignore[index]
        candidate_threshold=float(thresholds["candidate"]),  # type: ignore[index]
        final_threshold=float(thresholds["final"]),  # type: ignore[index]
        version=str(data["version"]),
    )


@lru_cache(maxsize=4)
def load_model(path: Path = MODEL_FILE) -> DetectionModel:
    """The shipped detection model (cached per path)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"detection model {path}: {exc}") from exc
    return model_from_dict(data)
