"""The event type of a bilateral story without a model: PLOVER type and cooperation score.

Cue stems per type live in ``pipeline/data/event_cues.yaml``. The headline names the main
interaction, usually by its first verb ("Israel Kills Two Militants During Gaza Raid", "China
rebuffs Powell over Taiwan"), so the earliest cue in the headline decides; when the headline has
none, the earliest in the lead (the first two sentences); else CONSULT, the mildest type. Pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from pipeline.summarize.schema import EventType

CUES_FILE = Path(__file__).parent.parent / "data" / "event_cues.yaml"
_NOISE = re.compile(r"&lt;.*?&gt;|&lt;|&gt;|\s#\d+;|\squot;")


@dataclass(frozen=True)
class EventCues:
    pattern: re.Pattern[str]
    types: dict[str, tuple[EventType, int]]  # cue (without "*") -> (type, score)
    version: int


@lru_cache(maxsize=2)
def load_event_cues(path: Path = CUES_FILE) -> EventCues:
    """The cue table as one regular expression (longest cues first)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    types: dict[str, tuple[EventType, int]] = {}
    patterns: dict[str, str] = {}
    for name, entry in data["types"].items():
        for cue in entry["cues"]:
            raw = str(cue).lower()
            word = raw.rstrip("*")
            if word in types:
                continue  # the first type that lists a cue keeps it
            types[word] = (EventType(name), int(entry["score"]))
            patterns[word] = re.escape(word) + (r"[\w'-]*" if raw.endswith("*") else r"\b")
    ordered = sorted(patterns, key=lambda w: (-len(w), w))
    alternatives = "|".join(f"(?P<c{i}>{patterns[w]})" for i, w in enumerate(ordered))
    pattern = re.compile(rf"\b(?:{alternatives})", re.IGNORECASE)
    return EventCues(pattern, {f"c{i}": types[w] for i, w in enumerate(ordered)}, data["version"])


def _lead(text: str) -> str:
    sentences = re.split(r"(?<=[.!?])\s+", text.strip()[:1200], maxsplit=2)
    return " ".join(sentences[:2])


def classify_event(headline: str, text: str) -> tuple[EventType, int]:
    """PLOVER type and cooperation score: the earliest cue of the headline, then of the lead."""
    cues = load_event_cues()
    for part in (headline, _lead(text)):
        found = cues.pattern.search(_NOISE.sub(" ", part))
        if found and found.lastgroup:
            return cues.types[found.lastgroup]
    return EventType.CONSULT, 2
