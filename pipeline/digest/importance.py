"""How much a story matters, and which pairs moved: pure functions over numbers and trends.

A story's importance adds four terms, each documented where it is computed:

- **magnitude**: ``|score|`` on the -10..+10 cooperation-conflict scale, times 1.5 below zero
  (a +6 treaty is news, a -6 expulsion more so: a breach changes a desk's morning sooner than a
  deal, and conflict is what the digest must not bury);
- **change**: ``|score - baseline| / 2``, the distance from the pair's mean score over the trend
  days before the story (0 when the pair had no scored coverage before: there is nothing to
  differ from, and the novelty term counts that case);
- **reach**: ``2 * log2(1 + outlets)``: more outlets count, with diminishing returns, so three
  outlets repeating a routine visit do not outrank a single report of a conflict;
- **novelty**: up to 3 points, ``2 * freshness + (1 if the pair was quiet before)``, where
  freshness is 1 for a story first seen at the end of the window, falling linearly to 0 at its
  start (0 when first seen before the window).

A -6 conflict reported by one outlet therefore scores 9 + 2 = 11 (plus novelty), above a +1
routine meeting reported by three (1 + 4) and a +6 agreement reported by two (6 + 3.2),
everything else equal.

A pair's *movement* is the mean score of its recent days (the digest window, at most the last
7 days of the trend) minus the mean of the days before (0, neutral, when it had no scored
coverage before). Negative moves are "heating up" (toward conflict), positive ones "cooling
down" (toward cooperation).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

from pipeline.digest.model import TrendPoint

RECENT_DAYS = 7
CONFLICT_WEIGHT = 1.5


def story_importance(
    score: int | None, outlets: int, baseline: float | None, freshness: float, quiet_before: bool
) -> float:
    """The importance of a story (>= 0; higher first), rounded to 2 decimals.

    ``score`` is the -10..+10 cooperation-conflict score (None: unknown, counts as 0),
    ``baseline`` the pair's mean score before the story (None: no scored coverage),
    ``freshness`` in [0, 1] (1 = first seen at the window's end), ``quiet_before`` whether the
    pair had no coverage at all before the story.
    """
    value = float(score or 0)
    magnitude = abs(value) * (CONFLICT_WEIGHT if value < 0 else 1.0)
    change = abs(value - baseline) / 2.0 if baseline is not None else 0.0
    reach = 2.0 * math.log2(1 + max(outlets, 0))
    novelty = 2.0 * min(max(freshness, 0.0), 1.0) + (1.0 if quiet_before else 0.0)
    return round(magnitude + change + reach + novelty, 2)


def mean_score(points: Sequence[TrendPoint]) -> float | None:
    """The article-weighted mean score of ``points`` that have one (None when none has)."""
    scored = [(p.score, max(p.articles, 1)) for p in points if p.score is not None]
    weight = sum(w for _, w in scored)
    return sum(s * w for s, w in scored) / weight if weight else None


def baseline_before(trend: Sequence[TrendPoint], day: date) -> tuple[float | None, bool]:
    """The pair's mean score over trend days before ``day``, and whether it was quiet then
    (no articles at all before ``day``)."""
    before = [p for p in trend if p.day < day]
    return mean_score(before), not any(p.articles for p in before)


def pair_movement(trend: Sequence[TrendPoint], window_days: int) -> float | None:
    """Recent mean score minus the earlier mean (earlier 0 when unscored), rounded to 1 decimal;
    None when the recent days (``window_days``, at most ``RECENT_DAYS``) have no score."""
    recent_days = max(1, min(window_days, RECENT_DAYS))
    recent, earlier = trend[-recent_days:], trend[:-recent_days]
    now = mean_score(recent)
    if now is None:
        return None
    return round(now - (mean_score(earlier) or 0.0), 1)
