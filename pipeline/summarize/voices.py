"""Who speaks in a sentence: a country's government, its press, or no one we can name.

The summarise stage does not read the gazetteer itself (stages do not import each other):
``pipeline.jobs`` hands it every country's forms as ``StateForm`` rows (names, adjectives,
capitals, metonyms, office-holders with their tenures) and ``Speakers`` matches them in text.

A speech verb ("said", "told", "warned", "according to", ``SPEECH``) is attributed to the noun
phrase that is its subject: the words just before it ("Russian Foreign Ministry spokeswoman
Maria Zakharova said", "Zakharova, the Russian Foreign Ministry spokeswoman, said", "officials
in Kabul said"), just after it for '"...," said X' and "according to X", or the sentence's
opening phrase for "X summoned the envoy and said" and "X protested, calling ..."; both phrases
of "X and his counterpart Y said"; "its foreign ministry said" is that of the country the
sentence opens with. Within an article, an office-holder named in full is also known by their
first and last word ("Lee" after "Lee Jae-myung", ``Speakers.aliased``). That phrase is

- the GOVERNMENT of a country when it names one of its office-holders in office on the
  article's date ("Lavrov"), or the country with an office word ("India's External Affairs
  Ministry", "Indian officials"), or the state alone by name, capital or metonym ("New Delhi
  said", "the Kremlin said");
- its PRESS when it names the country with a press word ("Russia's state news agency TASS") or
  one of the few national agencies and papers in ``PRESS_NAMES``.

Anything else attributes nothing: a phrase after a preposition ("analysts in New Delhi
said"), a pronoun, a former office-holder, a sentence saying someone kept silent ("did not
respond to requests for comment", ``SILENT``). A third country's official is attributed to that
third country, so it never speaks for either side of the pair.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from pipeline.summary_record import Voice

Tenure = tuple[date, date | None]

_PARTICIPLES = frozenset(("saying", "calling", "adding", "warning", "insisting"))
SPEECH = frozenset(
    "said says say told tells stated warned warns urged urges called calls announced announces "
    "insisted insists denied denies added adds declared stressed noted accused accuses rejected "
    "demanded pledged promised vowed condemned protested praised welcomed welcomes confirmed "
    "argued asked proposed threatened wrote complained reiterated acknowledged replied "
    "reported reports criticised criticized blamed dismissed emphasised emphasized assured "
    "rebuffed defended described denounced hailed apologised apologized responded".split()
)
_AFTER_VERB = frozenset("said says added adds wrote reported according".split())
OFFICE = frozenset(
    "ministry ministries minister ministers spokesperson spokesman spokeswoman official officials "
    "government president premier chancellor embassy ambassador envoy diplomat diplomats "
    "delegation negotiator negotiators authorities cabinet department secretary leader leadership "
    "military army navy side mea office council presidency administration".split()
)
PRESS = frozenset(
    "media press news agency newspaper daily broadcaster television tv radio outlet tabloid "
    "editorial channel".split()
)
# National agencies and papers that a sentence may name without their country.
PRESS_NAMES = {
    "TASS": "RU",
    "RIA Novosti": "RU",
    "Xinhua": "CN",
    "Global Times": "CN",
    "People's Daily": "CN",
    "KCNA": "KP",
    "Yonhap": "KR",
    "Kyodo": "JP",
    "Press Trust of India": "IN",
    "Hindustan Times": "IN",
    "Anadolu": "TR",
    "IRNA": "IR",
}
# Words of a title or an office: "Russia's defence ministry", "the Philippine coast guard".
_PORTFOLIO = frozenset(
    "state foreign external affairs senior deputy chief top commerce trade defence defense "
    "economy finance energy mines interior home justice health industry agriculture transport "
    "coast guard security national presidential ombudsman ombudswoman counterpart".split()
)
_ROLE_WORDS = OFFICE | PRESS | _PORTFOLIO | frozenset(("of", "for", "'s"))
_BEFORE_VERB = frozenset(
    "has have had also again earlier later separately publicly repeatedly previously on today "
    "yesterday monday tuesday wednesday thursday friday saturday sunday".split()
)
_PREPOSITIONS = frozenset("in from to at with of for by near across about against".split())
_LEADING = frozenset("the a an on in earlier later meanwhile but and however also then".split())
SILENT = re.compile(
    r"\b(?:did not|didn't|has not|have not|had not) (?:immediately )?(?:respond|reply|return|"
    r"comment)|\bdeclined to (?:comment|respond)|\brefused to comment|\bno immediate comment|"
    r"\bcould not be reached|\bmade no comment",
    re.I,
)
_TOKEN = re.compile(r"[A-Z]\.(?:[A-Z]\.)+|[^\W_]+(?:['’][^\W_]+)*|\S")
_POSSESSIVE = re.compile(r"^(.+?)(['’][sS])$")


@dataclass(frozen=True)
class StateForm:
    """One way text names a country or one of its office-holders (built by pipeline.jobs from
    the gazetteer): kind is name, adjective, capital, metonym, leader or press."""

    form: str
    country: str
    kind: str
    holder: str = ""  # the office-holder's full name (kind leader)
    tenures: tuple[Tenure, ...] = ()


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Mention:
    """A form found in a sentence: tokens [first, last) name ``country``."""

    first: int
    last: int
    country: str
    kind: str
    holder: str = ""


@dataclass(frozen=True)
class Attribution:
    """A speech verb of a sentence and who it is attributed to."""

    country: str
    voice: Voice
    speaker: str  # the subject phrase as the text gives it ("Foreign Minister Sergey Lavrov")
    holder: str  # the office-holder's full name, "" for an office or the press
    verb: int  # character offset of the verb in the sentence
    start: int = 0  # character offset of the subject


def tokens_of(text: str) -> list[Token]:
    """Word and punctuation tokens with their offsets; a possessive "'s" is a token of its own."""
    out: list[Token] = []
    for match in _TOKEN.finditer(text):
        word, start = match.group(), match.start()
        split = _POSSESSIVE.match(word)
        if split and len(split.group(1)) > 1:
            cut = start + len(split.group(1))
            out += [Token(split.group(1), start, cut), Token("'s", cut, match.end())]
        else:
            out.append(Token(word, start, match.end()))
    return out


def _key(tokens: list[Token]) -> tuple[str, ...]:
    return tuple(t.text for t in tokens)


def _in_office(tenures: tuple[Tenure, ...], day: date | None) -> bool:
    if day is None or not tenures:
        return True
    return any(start <= day and (end is None or day <= end) for start, end in tenures)


class Speakers:
    """Every country's forms, matched longest first on tokens (case-sensitive, as written)."""

    def __init__(self, forms: Iterable[StateForm]) -> None:
        self.table: dict[tuple[str, ...], list[StateForm]] = defaultdict(list)
        extra = [StateForm(name, code, "press") for name, code in PRESS_NAMES.items()]
        for form in [*forms, *extra]:
            key = tuple(t.text for t in tokens_of(form.form))
            if key:
                self.table[key].append(form)
        self.longest = max((len(k) for k in self.table), default=1)
        self.firsts = frozenset(k[0] for k in self.table)

    def aliased(self, text: str, day: date | None) -> Speakers:
        """These forms and, for ``text``, the first and last word of each office-holder it
        names in full ("Lee" after "Lee Jae-myung", "Abdelatty" after "Badr Abdelatty")."""
        extra: dict[tuple[str, ...], list[StateForm]] = {}
        tokens = tokens_of(text)
        for mention in self.mentions(tokens, day):
            if mention.kind != "leader" or mention.last - mention.first < 2:
                continue
            senses = self.table[_key(tokens[mention.first : mention.last])]
            sense = next(f for f in senses if f.holder == mention.holder)
            for word in (tokens[mention.first].text, tokens[mention.last - 1].text):
                if word[:1].isupper() and len(word) > 2 and (word,) not in self.table:
                    extra[(word,)] = [sense]
        if not extra:
            return self
        copy = Speakers(())
        copy.table = defaultdict(list, {**self.table, **extra})
        copy.longest, copy.firsts = self.longest, self.firsts | {k[0] for k in extra}
        return copy

    def terms(self, country: str) -> tuple[str, ...]:
        """The words naming ``country`` itself: names, adjectives, capitals, metonyms."""
        kinds = ("name", "adjective", "capital", "metonym")
        return tuple(
            sorted(
                {
                    f.form
                    for fs in self.table.values()
                    for f in fs
                    if f.country == country and f.kind in kinds
                }
            )
        )

    def mentions(self, tokens: list[Token], day: date | None) -> list[Mention]:
        """The forms in ``tokens``, longest first; an office-holder's name counts only on a day
        they held office, and a form naming several countries that day counts for none."""
        out: list[Mention] = []
        index = 0
        while index < len(tokens):
            found = (
                self._match_at(tokens, index, day) if tokens[index].text in self.firsts else None
            )
            if found is None:
                index += 1
                continue
            out.append(found)
            index = found.last
        return out

    def _match_at(self, tokens: list[Token], index: int, day: date | None) -> Mention | None:
        for size in range(min(self.longest, len(tokens) - index), 0, -1):
            key = _key(tokens[index : index + size])
            senses = [s for s in self.table.get(key, []) if _in_office(s.tenures, day)]
            if len({s.country for s in senses}) == 1:
                sense = senses[0]
                return Mention(index, index + size, sense.country, sense.kind, sense.holder)
            if key in self.table:
                return None
        return None


def _phrase_start(tokens: list[Token], end: int) -> int:
    """Where the noun phrase ending just before ``end`` starts: capitalised words, role and
    press words, possessives."""
    start = end
    while start > 0 and _in_phrase(tokens, start - 1):
        start -= 1
    if start > 1 and tokens[start - 1].text == "in" and tokens[start - 2].text.lower() in OFFICE:
        return _phrase_start(tokens, start - 1)  # "the Taliban government's spokesman in Kabul"
    return start


def _in_phrase(tokens: list[Token], index: int, extra: frozenset[str] = frozenset()) -> bool:
    """True for a word a speaker's noun phrase is made of: capitalised, a role or press word,
    a possessive, the full stop of an initial ("S. Jaishankar")."""
    word = tokens[index].text
    if word == ".":
        return index > 0 and re.fullmatch(r"[A-Z]", tokens[index - 1].text) is not None
    if word == "and":  # "mines and energy minister"
        around = tokens[index - 1 : index + 2] if index > 0 else []
        return len(around) == 3 and all(t.text.lower() in _PORTFOLIO for t in around[::2])
    return word[:1].isupper() or word.lower() in _ROLE_WORDS or word.lower() in extra


def _subject_before(tokens: list[Token], verb: int) -> tuple[int, int] | None:
    """The token span of the verb's subject before it, skipping "has", "on Monday" and an
    appositive between commas; None when it follows a preposition or is not there."""
    end = verb
    while end > 0 and tokens[end - 1].text.lower() in _BEFORE_VERB:
        end -= 1
    appositive: tuple[int, int] | None = None
    if end > 0 and tokens[end - 1].text == ",":
        comma = next(
            (i for i in range(end - 2, max(end - 14, -1), -1) if tokens[i].text == ","), -1
        )
        if comma < 1:
            return None
        appositive, end = (comma + 1, end - 1), comma
    start = _phrase_start(tokens, end)
    if start == end:
        return None
    if start > 0 and tokens[start - 1].text.lower() in _PREPOSITIONS:
        return None
    return (start, appositive[1] if appositive else end)


def _subject_after(tokens: list[Token], verb: int) -> tuple[int, int] | None:
    """The subject after "said" or "according to" ("said Foreign Minister Sergey Lavrov")."""
    start = verb + 1
    if tokens[verb].text.lower() == "according":
        if start >= len(tokens) or tokens[start].text.lower() != "to":
            return None
        start += 1
    end = start
    while end < len(tokens) and _in_phrase(tokens, end, _LEADING):
        end += 1
    closed = end == len(tokens) or tokens[end].text in ".,;:" or tokens[verb].text == "according"
    return (start, end) if end > start and closed else None


def _opening(tokens: list[Token], verb: int) -> tuple[int, int] | None:
    """The sentence's opening noun phrase, for a verb whose subject it is: "X summoned the
    envoy and said ...", "X lodged a protest, calling it ..."."""
    before = tokens[verb - 1].text if verb else ""
    if before not in ("and", ",") or (before == "," and tokens[verb].text not in _PARTICIPLES):
        return None
    end = 0
    while end < verb and _in_phrase(tokens, end, _LEADING):
        end += 1
    return (0, end) if end else None


def _subjects(tokens: list[Token], verb: int) -> list[tuple[int, int]]:
    """The subject spans of the verb at ``verb`` (two for "X and his counterpart Y said")."""
    word = tokens[verb].text.lower()
    span = _subject_before(tokens, verb) if word != "according" else None
    if span is None and word in _AFTER_VERB:
        span = _subject_after(tokens, verb)
    if span is None:
        span = _opening(tokens, verb)
    if span is None:
        return []
    joined = span[0]
    while joined > 0 and tokens[joined - 1].text.lower() in ("his", "her", "its", "their", "the"):
        joined -= 1
    if joined > 1 and tokens[joined - 1].text == "and":
        first = _phrase_start(tokens, joined - 1)
        if first < joined - 1:
            return [(first, joined - 1), span]
    return [span]


def _speaker_text(sentence: str, tokens: list[Token], span: tuple[int, int]) -> str:
    first, last = span
    while first < last - 1 and tokens[first].text.lower() in _LEADING:
        first += 1
    return sentence[tokens[first].start : tokens[last - 1].end].strip(" ,")


def _voice_of(tokens: list[Token], span: tuple[int, int], found: list[Mention]) -> Mention | None:
    """The mention that makes the phrase a state's or a press's voice, or None (rules above)."""
    inside = [m for m in found if span[0] <= m.first and m.last <= span[1]]
    if not inside and span[0] > 0 and tokens[span[0] - 1].text.lower() == "its":
        owner = next((m for m in found if m.first == 0 and m.kind == "name"), None)
        words = {t.text.lower() for t in tokens[span[0] : span[1]]}
        return owner if owner and words & OFFICE else None  # "Algeria ..., its ministry said"
    if not inside:
        return None
    leader = next((m for m in inside if m.kind == "leader"), None)
    words = {t.text.lower() for t in tokens[span[0] : span[1]]}
    if any(t.text.lower() == "former" for t in tokens[max(0, span[0] - 1) : span[1]]):
        return None
    if leader is not None:
        return leader
    head = inside[0]
    if head.kind == "press" or words & PRESS:
        return Mention(head.first, head.last, head.country, "press")
    if words & (OFFICE | _PORTFOLIO):
        return head
    others = words - {t.text.lower() for t in tokens[head.first : head.last]} - _LEADING
    if head.kind in ("name", "capital", "metonym") and not others:
        return head
    return None


def attributions(sentence: str, speakers: Speakers, day: date | None) -> list[Attribution]:
    """Every speech verb of ``sentence`` attributed to a government or press (rules above);
    none for a sentence that says someone kept silent."""
    if SILENT.search(sentence):
        return []
    tokens = tokens_of(sentence)
    found = speakers.mentions(tokens, day)
    out: list[Attribution] = []
    for index, token in enumerate(tokens):
        verb = token.text.lower()
        if verb not in SPEECH and verb not in _PARTICIPLES and verb != "according":
            continue
        for span in _subjects(tokens, index):
            mention = _voice_of(tokens, span, found)
            if mention is None:
                continue
            voice = Voice.PRESS if mention.kind == "press" else Voice.GOVERNMENT
            speaker = _speaker_text(sentence, tokens, span)
            if mention.last <= span[0]:  # the "its" of a country named earlier
                owner = sentence[tokens[mention.first].start : tokens[mention.last - 1].end]
                speaker = f"{owner}'s {speaker}"
            start = tokens[span[0]].start
            out.append(
                Attribution(mention.country, voice, speaker, mention.holder, token.start, start)
            )
    return out
