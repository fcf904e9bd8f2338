"""Grounding per cited article: each key point, each side's position and the quote are checked
against the articles *they* cite, not against the whole story.

- Cites must be article numbers of the story (1 to the number of articles); a key point, a
  position with a voice, or a quote that cites nothing is a problem.
- The names, numbers and quotations of a key point or a position must be in its cited articles
  (the readers of ``pipeline.summarize.grounding``). A fact that is only in another article of
  the story is named with where it is, so the regenerate round can fix the cites:
  "key_points.2 cites article 1 but '40' is only in article 2".
- A position's quote and the story's quote must be verbatim in a cited article (up to
  whitespace, quote marks and case); the speaker's name must be in a cited article and the
  cited text must tie the speaker to the country given (``pipeline.summarize.speakers``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from pipeline.summarize.grounding import (
    MARKUP,
    SourceText,
    missing_facts,
    normalise,
    verbatim_in,
)
from pipeline.summarize.schema import LLMSummary, Voice
from pipeline.summarize.speakers import CountryReader, speaker_problems


def _listed(numbers: Sequence[int]) -> str:
    """'article 1', 'articles 1 and 3', 'articles 1, 2 and 3'."""
    if len(numbers) == 1:
        return f"article {numbers[0]}"
    return "articles " + ", ".join(map(str, numbers[:-1])) + f" and {numbers[-1]}"


class _Story:
    """The story's articles as the cited checks read them."""

    def __init__(
        self,
        articles: Sequence[str],
        published: Sequence[datetime | None],
        reader: CountryReader | None = None,
    ) -> None:
        self.articles = list(articles)
        self.reader = reader
        count = len(self.articles)
        self.published = (list(published) + [None] * count)[:count]
        self.each = [
            SourceText.of([t], [d]) for t, d in zip(self.articles, self.published, strict=True)
        ]

    def cite_problems(self, field: str, cites: Sequence[int]) -> list[str]:
        """Cites that are not article numbers of the story, or none at all."""
        if not cites:
            return [f"{field} cites no article"]
        count = len(self.articles)
        return [
            f"{field} cites article {n} but the story has {count} article(s)"
            for n in dict.fromkeys(cites)
            if not 1 <= n <= count
        ]

    def cited(self, cites: Sequence[int]) -> list[int]:
        """The valid cited article numbers, each once, in order."""
        return [n for n in dict.fromkeys(cites) if 1 <= n <= len(self.articles)]

    def text_problems(self, field: str, text: str, cites: Sequence[int]) -> Iterator[str]:
        """Markup in ``text``, and its facts missing from the cited articles, with where in the
        story they are when they are elsewhere."""
        if MARKUP.search(text):
            yield f"{field} contains HTML or a link"
        cited = self.cited(cites)
        if not cited:
            return
        source = SourceText.of(
            [self.articles[n - 1] for n in cited], [self.published[n - 1] for n in cited]
        )
        for kind, value in missing_facts(text, source):
            elsewhere = [
                n
                for n, one in enumerate(self.each, start=1)
                if n not in cited and (kind, value) not in set(missing_facts(text, one))
            ]
            if elsewhere:
                yield (
                    f"{field} cites {_listed(cited)} but {value!r} is only in {_listed(elsewhere)}"
                )
            else:
                verbatim = "verbatim " if kind == "quotation" else ""
                yield f"{field}: {kind} {value!r} is not {verbatim}in the sources"

    def quote_problems(self, field: str, quote: str, cites: Sequence[int]) -> list[str]:
        """A quote not verbatim in any of the cited articles."""
        cited = self.cited(cites)
        if not cited or any(verbatim_in(quote, normalise(self.articles[n - 1])) for n in cited):
            return []
        others = [
            n
            for n in range(1, len(self.articles) + 1)
            if n not in cited and verbatim_in(quote, normalise(self.articles[n - 1]))
        ]
        where = f"; it is only in {_listed(others)}" if others else ""
        label = "quote" if field == "quote" else f"{field} quote"
        return [f"{label} {quote[:60]!r} is not verbatim in {_listed(cited)}{where}"]

    def speaker_problems(
        self, field: str, speaker: str, country: str | None, quote: str | None, cites: list[int]
    ) -> list[str]:
        """The speaker checks (``speakers.speaker_problems``) against the cited articles."""
        cited = self.cited(cites)
        if not cited:
            return []
        articles = [(self.articles[n - 1], self.published[n - 1]) for n in cited]
        return speaker_problems(field, speaker, country, quote, articles, self.reader)


def cited_problems(
    summary: LLMSummary,
    articles: Sequence[str],
    published: Sequence[datetime | None] = (),
    reader: CountryReader | None = None,
) -> list[str]:
    """Problems of the key points, positions and quote of ``summary`` against the articles
    they cite (``articles``: the story's texts in source order, ``published``: their dates;
    ``reader``: the gazetteer's reading that ties speakers to countries)."""
    story = _Story(articles, published, reader)
    problems: list[str] = []
    for number, point in enumerate(summary.key_points, start=1):
        field = f"key_points.{number}"
        problems += story.cite_problems(field, point.cites)
        problems += story.text_problems(field, point.text, point.cites)
    for number, side in enumerate(summary.positions, start=1):
        if side.voice == Voice.NONE:
            continue
        field = f"positions.{number} ({side.country})"
        problems += story.cite_problems(field, side.cites)
        problems += story.text_problems(field, side.position, side.cites)
        if side.quote:
            problems += story.quote_problems(field, side.quote, side.cites)
        if side.speaker:
            problems += story.speaker_problems(
                field, side.speaker, side.country, side.quote, side.cites
            )
    if summary.quote is not None:
        quote = summary.quote
        problems += story.cite_problems("quote", quote.cites)
        problems += story.quote_problems("quote", quote.text, quote.cites)
        problems += story.speaker_problems(
            "quote", quote.speaker, quote.country, quote.text, quote.cites
        )
    return problems
