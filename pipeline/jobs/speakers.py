"""The gazetteer's forms as the summariser reads speakers: every country's names, adjectives,
capitals and metonyms, and its office-holders with their tenures (``summarize.voices``). The
summarise stage does not import the detect stage, so the jobs layer hands them over; and the
gazetteer's reading of a sentence's country mentions, for the grounding check's speaker rule
(``GazetteerReader``, a ``summarize.speakers.CountryReader``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pipeline.detect import Gazetteer
from pipeline.detect.gazetteer import tokenize
from pipeline.detect.mentions import Mention, find_mentions
from pipeline.summarize.voices import Speakers, StateForm

_STATE_KINDS = frozenset({"name", "adjective", "capital", "metonym", "leader"})


def _text(key: tuple[str, ...]) -> str:
    return " ".join(key)  # tokens again; voices.tokens_of reads "S . Jaishankar" as "S. Jaishankar"


def speakers_of(gazetteer: Gazetteer) -> Speakers:
    """Every state form of ``gazetteer``; a surname shared by office-holders of several
    countries is kept with each holder, to be told apart by the article's date."""
    forms: list[StateForm] = []
    for key, sense in gazetteer.forms.items():
        if (
            sense.country
            and sense.kind in _STATE_KINDS
            and key not in gazetteer.shared_leader_forms
        ):
            holder = sense.surface if sense.kind == "leader" else ""
            forms.append(StateForm(_text(key), sense.country, sense.kind, holder, sense.tenures))
    for key, senses in gazetteer.shared_leader_forms.items():
        forms += [
            StateForm(_text(key), s.country, s.kind, s.surface, s.tenures)
            for s in senses
            if s.country
        ]
    return Speakers(forms)


class GazetteerReader:
    """Country mentions of a sentence as detection reads them (``gazetteer``: the loaded one)."""

    def __init__(self, gazetteer: Gazetteer | None = None) -> None:
        self.gazetteer = gazetteer

    def tokens(self, text: str) -> list[str]:
        """The sentence's tokens, as the mentions index them."""
        return tokenize(text)

    def mentions(self, sentence: str, published: datetime | None) -> Sequence[Mention]:
        """Every country mention of ``sentence``."""
        return find_mentions("", sentence, published, self.gazetteer)[0]
