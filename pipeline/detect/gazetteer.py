"""The gazetteer: country names, adjectives, capitals, metonyms and leaders as one n-gram table.

Built from the data files in ``pipeline/data/gazetteer/`` (see the README there and in
``countries.yaml``): ``countries_base.yaml`` (generated from pycountry and countryinfo),
``countries.yaml`` (curated) and ``leaders.tsv`` (office-holders with dates). ``version`` is a
hash of the three files, stored with every detection so a changed gazetteer triggers re-detection.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

GAZETTEER_DIR = Path(__file__).parent.parent / "data" / "gazetteer"

# A token starts with a letter or a listed punctuation mark, never a space or a digit: the
# lookahead only lets the engine skip those positions sooner (the tokens found are the same).
_TOKEN = re.compile(
    r"(?=[^\s\d])([A-Z]\.(?:[A-Z]\.)+|[^\W\d_]+(?:['’](?![sS]\b)[^\W\d_]+)*|[.!?;:,\"“”()&\-–—/‑])"
    r"(?:['’][sS]\b)?"
)
_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'", "‘": "'"})


@dataclass(frozen=True)
class Sense:
    """What a form means: a country (None for blocker phrases), how, and its rule key."""

    country: str | None
    kind: str
    surface: str
    tenures: tuple[tuple[date, date | None], ...] = ()


@dataclass
class Gazetteer:
    forms: dict[tuple[str, ...], Sense]
    first_tokens: frozenset[str]
    max_len: int
    rules: dict[str, dict[str, Any]]
    cues: dict[str, float]
    multilateral: frozenset[str]
    version: str
    state_cues: frozenset[str] = frozenset()
    non_state: frozenset[str] = frozenset()
    organisations: frozenset[str] = frozenset()
    domain_cues: frozenset[str] = frozenset()
    action_verbs: frozenset[str] = frozenset()
    not_names: frozenset[str] = frozenset()
    names: dict[str, str] = field(default_factory=dict)  # display name per country code
    shouted: dict[str, str] = field(default_factory=dict)  # "INDIA" -> "India" for all-caps titles
    lengths: dict[str, tuple[int, ...]] = field(default_factory=dict)  # form lengths by first token
    countries: frozenset[str] = field(default_factory=frozenset)
    # leader forms that name more than one office holder ("Koizumi" no, "Singh" yes): every
    # holder, resolved by the article's date in ``mentions.find_mentions``
    shared_leader_forms: dict[tuple[str, ...], tuple[Sense, ...]] = field(default_factory=dict)
    # word group -> its words (kidnap, election, sport, talks, ...), weighed by the learned decision
    signal_words: dict[str, frozenset[str]] = field(default_factory=dict)
    # every token a form may start with -> the form's first token as stored (a shouted "INDIA"
    # -> "India"; a first token -> itself) and the lengths of the forms it starts, longest first
    starts: dict[str, tuple[str, tuple[int, ...]]] = field(default_factory=dict)
    # first token -> the second tokens of its forms of two tokens or more
    seconds: dict[str, frozenset[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        first = {**self.shouted, **{t: t for t in self.first_tokens}}
        self.starts = {t: (w, self.lengths[w]) for t, w in first.items()}
        following: dict[str, set[str]] = defaultdict(set)
        for key in self.forms:
            if len(key) > 1:
                following[key[0]].add(key[1])
        self.seconds = {w: frozenset(following[w]) for w in self.first_tokens}


def tokenize(text: str) -> list[str]:
    """Word and punctuation tokens of ``text``; "U.S." stays one token, a possessive 's is left
    out, hyphens and dashes are tokens of their own ("India-Russia" -> India, -, Russia)."""
    return _TOKEN.findall(text)


def _form_key(form: str) -> tuple[str, ...]:
    return tuple(tokenize(form))


def _parse_date(value: str) -> date:
    parts = [int(p) for p in value.split("-")]
    while len(parts) < 3:
        parts.append(1)
    return date(parts[0], parts[1], parts[2])


def _plurals(form: str) -> list[str]:
    if form.endswith(("an", "i")) and " " not in form:
        return [form, form + "s"]
    return [form]


class _Forms:
    """The surface-form table being built: a form's first sense wins unless overridden;
    forms in ``drop`` are never added; each form is also added with a typographic apostrophe."""

    def __init__(self, drop: set[str]) -> None:
        self.drop = drop
        self.table: dict[tuple[str, ...], Sense] = {}

    def add(self, form: str, sense: Sense, *, override: bool = False) -> None:
        if form in self.drop:
            return
        for variant in {form, form.replace("'", "’")}:
            key = _form_key(variant)
            if key and (override or key not in self.table):
                self.table[key] = sense

    def add_base(self, base: dict[str, Any]) -> None:
        """Names, capitals and demonyms of the generated base list."""
        for code, entry in base.items():
            for name in entry.get("names") or []:
                self.add(name, Sense(code, "name", name))
            if entry.get("capital"):
                self.add(entry["capital"], Sense(code, "capital", entry["capital"]))
            for demonym in (entry.get("demonym") or "").split(","):
                for form in _plurals(demonym.strip()) if demonym.strip() else []:
                    self.add(form, Sense(code, "adjective", form))

    def add_curated(self, countries: dict[str, Any]) -> None:
        """The curated names, adjectives, capitals and metonyms (they override the base)."""
        kinds = (
            ("name", "names"),
            ("adjective", "adjectives"),
            ("capital", "capitals"),
            ("metonym", "metonyms"),
        )
        for code, entry in countries.items():
            for kind, key in kinds:
                for value in entry.get(key) or []:
                    for form in _plurals(value) if kind == "adjective" else [value]:
                        self.add(form, Sense(code, kind, form), override=True)

    def add_leaders(self, path: Path) -> dict[tuple[str, ...], tuple[Sense, ...]]:
        """Office holders with their tenures (override everything else); returns the forms
        that name more than one holder."""
        holders: dict[tuple[str, ...], list[Sense]] = defaultdict(list)
        for (code, name), (spans, aliases) in _read_leaders(path).items():
            sense = Sense(code, "leader", name, tuple(spans))
            for form in [name, *sorted(aliases)]:
                self.add(form, sense, override=True)
                holders[_form_key(form)].append(sense)
        return {
            key: tuple(senses)
            for key, senses in holders.items()
            if len({(s.country, s.surface) for s in senses}) > 1
        }


def _read_leaders(
    path: Path,
) -> dict[tuple[str, str], tuple[list[tuple[date, date | None]], set[str]]]:
    """``leaders.tsv``: (country, name) -> (tenures, aliases); comments and blanks skipped."""
    found: dict[tuple[str, str], tuple[list[tuple[date, date | None]], set[str]]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        code, _role, name, start, end, *rest = [*line.split("\t"), "", ""][:6]
        spans, aliases = found.setdefault((code, name), ([], set()))
        spans.append((_parse_date(start), _parse_date(end) if end else None))
        aliases.update(a.strip() for a in (rest[0] if rest else "").split("|") if a.strip())
    return found


def _strings(curated: dict[str, Any], key: str, *, lower: bool = False) -> frozenset[str]:
    return frozenset(str(v).lower() if lower else str(v) for v in curated.get(key) or [])


# libyaml's loader when PyYAML was built with it (PyPI wheels are): the same documents, read
# about seven times faster than the pure-Python SafeLoader, which cost every detecting process
# a quarter of a second.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Path) -> Any:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)  # noqa: S506 (safe)


@lru_cache(maxsize=4)
def gazetteer_version(directory: Path = GAZETTEER_DIR) -> str:
    """A hash of the gazetteer's three data files: what ``Gazetteer.version`` holds, without
    building the gazetteer (which is only needed when there is text to read)."""
    digest = hashlib.sha256()
    for name in ("countries_base.yaml", "countries.yaml", "leaders.tsv"):
        digest.update((directory / name).read_bytes())
    return digest.hexdigest()[:12]


@lru_cache(maxsize=4)
def load_gazetteer(directory: Path = GAZETTEER_DIR) -> Gazetteer:
    """The gazetteer built from the data files in ``directory`` (cached per directory)."""
    base = _read_yaml(directory / "countries_base.yaml")
    curated = _read_yaml(directory / "countries.yaml")
    table = _Forms(set(curated.get("drop_everywhere", [])))
    table.add_base(base)
    table.add_curated(curated.get("countries") or {})
    shared_leader_forms = table.add_leaders(directory / "leaders.tsv")
    forms = table.table
    for blocker in curated.get("blockers") or []:
        forms[_form_key(blocker)] = Sense(None, "blocker", blocker)
    return Gazetteer(
        forms=forms,
        first_tokens=frozenset(key[0] for key in forms),
        max_len=max(len(key) for key in forms),
        rules=curated.get("ambiguous") or {},
        cues={k.lower(): float(v) for k, v in (curated.get("relation_cues") or {}).items()},
        multilateral=_strings(curated, "multilateral_cues"),
        version=gazetteer_version(directory),
        countries=frozenset(s.country for s in forms.values() if s.country),
        state_cues=_strings(curated, "state_cues", lower=True),
        non_state=_strings(curated, "non_state_groups"),
        organisations=_strings(curated, "organisations"),
        domain_cues=_strings(curated, "domain_cues", lower=True),
        action_verbs=_strings(curated, "action_verbs"),
        not_names=_strings(curated, "not_names"),
        names=_display_names(base, curated),
        shouted={k[0].upper(): k[0] for k in forms if len(k[0]) > 3 and k[0].upper() != k[0]},
        lengths=_lengths_by_first(forms),
        shared_leader_forms=shared_leader_forms,
        signal_words={
            str(group): frozenset(str(w) for w in words)
            for group, words in (curated.get("signal_words") or {}).items()
        },
    )


def _display_names(base: dict[str, Any], curated: dict[str, Any]) -> dict[str, str]:
    names = {code: (entry.get("names") or [code])[0] for code, entry in base.items()}
    for code, entry in (curated.get("countries") or {}).items():
        if entry.get("names"):
            names[str(code)] = entry["names"][0]
    return names


def pair_terms(gaz: Gazetteer, codes: tuple[str, ...]) -> tuple[str, ...]:
    """Words that name these countries in text: names, adjectives, capitals, metonyms."""
    kinds = {"name", "adjective", "capital", "metonym"}
    return tuple(
        sorted(
            {" ".join(k) for k, s in gaz.forms.items() if s.country in codes and s.kind in kinds}
        )
    )


def _lengths_by_first(forms: dict[tuple[str, ...], Sense]) -> dict[str, tuple[int, ...]]:
    lengths: dict[str, set[int]] = defaultdict(set)
    for key in forms:
        lengths[key[0]].add(len(key))
    return {word: tuple(sorted(found, reverse=True)) for word, found in lengths.items()}
