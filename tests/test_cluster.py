"""Stories: what clustering groups, what it keeps apart, and what it costs (pure, no I/O)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from pipeline.cluster import ClusterInput, ClusterRule, cluster_stories, cluster_with_stats
from pipeline.config import load_settings
from pipeline.errors import ConfigError

NOW = datetime(2026, 11, 24, tzinfo=UTC)
WINDOW = timedelta(hours=72)


def words(prefix: str, count: int) -> list[str]:
    """``count`` distinct content words of letters only: ``prefix`` + 4 letters."""
    out = []
    for n in range(count):
        letters = "".join(chr(97 + (n // 26**place) % 26) for place in range(4))
        out.append(prefix + letters)
    return out


def article(n: int, text: list[str], minutes: float = 0, dyad: str = "GR-TR") -> ClusterInput:
    return ClusterInput(
        n, dyad, NOW + timedelta(minutes=minutes), " ".join(text), f"outlet{n}", f"https://o/{n}"
    )


def unrelated(count: int, seed: int = 14) -> list[list[str]]:
    """Texts of 80-400 words drawn from 30,000 (weights 1 / (rank + 300)): pairwise Jaccard
    about 0.015, as between unrelated real news items."""
    rng = random.Random(seed)
    vocabulary = words("zq", 30_000)
    weights = [1 / (rank + 300) for rank in range(len(vocabulary))]
    return [rng.choices(vocabulary, weights, k=rng.randint(80, 400)) for _ in range(count)]


def test_a_chain_of_weak_links_is_not_one_story() -> None:
    # A~B and B~C share 3 of 20 words (Jaccard 0.15); A and C share nothing.
    shared_ab, shared_bc = words("ab", 3), words("bc", 3)
    a = article(1, words("aa", 10) + shared_ab)
    b = article(2, shared_ab + words("bb", 4) + shared_bc, minutes=60)
    c = article(3, shared_bc + words("cc", 10), minutes=120)
    stories = cluster_stories([a, b, c], window=WINDOW, similarity=0.08)
    assert sorted(s.article_ids for s in stories) == [(1, 2), (3,)]
    # ... but an article close to the story as a whole joins it
    d = article(4, shared_ab + shared_bc + words("bb", 4), minutes=180)
    stories = cluster_stories([a, b, d], window=WINDOW, similarity=0.08)
    assert [s.article_ids for s in stories] == [(1, 2, 4)]


def test_a_burst_of_near_identical_articles_fills_stories_of_the_maximum_size() -> None:
    base = words("ev", 40)
    burst = [article(n, [*base, words("uq", 200)[n]], minutes=n / 4) for n in range(200)]
    stories = cluster_stories(burst, window=WINDOW, similarity=0.08, max_story_articles=50)
    assert sorted(len(s.article_ids) for s in stories) == [50, 50, 50, 50]
    assert sorted(s.article_ids[0] for s in stories) == [0, 50, 100, 150]  # in arrival order
    again = cluster_stories(burst[::-1], window=WINDOW, similarity=0.08, max_story_articles=50)
    assert {s.id for s in again} == {s.id for s in stories}  # ids from pair + earliest article


def test_candidates_for_unrelated_articles_stay_within_twenty_per_article() -> None:
    # 600 unrelated articles of one pair, all inside one window: no article is compared with all.
    texts = unrelated(600)
    items = [article(n, text, minutes=n * 2) for n, text in enumerate(texts)]
    stories, stats = cluster_with_stats(items, ClusterRule(window=WINDOW, similarity=0.08))
    assert stats.candidates <= 20 * len(items)
    assert stats.largest == 1 and len(stories) == len(items)


def test_a_story_is_found_among_many_unrelated_articles_of_its_pair() -> None:
    # Past cluster.exact_neighbours the LSH index chooses the candidates: three outlets' versions
    # of one event (Jaccard about 0.5) still become one story among 300 unrelated articles.
    event = words("ev", 30)
    items = [article(n, text, minutes=n) for n, text in enumerate(unrelated(300))]
    items += [
        article(1000 + k, event[k * 5 :] + words("o" + "abc"[k], 8), minutes=150 + k * 30)
        for k in range(3)
    ]
    stories, stats = cluster_with_stats(items, ClusterRule(window=WINDOW, similarity=0.08))
    assert stats.lsh_articles == len(items)
    (story,) = [s for s in stories if len(s.article_ids) > 1]
    assert story.article_ids == (1000, 1001, 1002)


def test_lsh_rows_must_divide_the_permutations(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError, match="lsh_rows"):
        load_settings(None, data_dir=tmp_path, cluster={"num_perm": 128, "lsh_rows": 3})
