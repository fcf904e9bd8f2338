"""Looking inside without changing anything: the store's status, feed health, and what Dyad
extracts from a page or detects in a text (the debugging commands)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pipeline.config import Settings
from pipeline.errors import DyadError
from pipeline.jobs.runs import utc_now
from pipeline.records import DyadDetection, ExtractedPage
from pipeline.store import open_store

FEED_FIELDS = (
    "url",
    "name",
    "tags",
    "enabled",
    "last_status",
    "entries",
    "last_success_at",
    "consecutive_failures",
    "last_error_kind",
    "last_error",
    "next_poll_after",
    "warnings",
)


def store_status(settings: Settings, days: int = 7) -> dict[str, list[dict[str, Any]]]:
    """``dyad status``'s tables, by title: recent runs, feed and article states, the last
    ``days`` days' failures, summaries, LLM use and request shapes."""
    from pipeline.store.status import status_report

    with open_store(settings) as engine:
        return status_report(engine, utc_now(), timedelta(days=days))


def feed_health(settings: Settings) -> list[dict[str, Any]]:
    """Every stored feed with its health and entry count (``FEED_FIELDS``), by name."""
    from pipeline.store.feeds import feed_table

    with open_store(settings) as engine:
        rows = feed_table(engine)
    return [{k: row[k] for k in FEED_FIELDS} for row in rows]


@dataclass(frozen=True)
class ExtractOutcome:
    """What extraction made of one source: its page, or why there is none."""

    source: str
    page: ExtractedPage | None = None
    error: str | None = None


def extract_sources(settings: Settings, sources: Sequence[str]) -> Iterator[ExtractOutcome]:
    """Fetch (URLs, through Dyad's HTTP client and its rules) or read (files) each source and
    extract it as ingest would; one outcome per source, in order, never raising for one."""
    from pipeline.extract import ExtractorPool
    from pipeline.http import build_client

    with build_client(settings) as client, ExtractorPool(settings.extract) as pool:
        for source in sources:
            try:
                if source.startswith(("http://", "https://")):
                    result = client.fetch(source, purpose="page")
                    body, ctype, url = (
                        result.body,
                        result.headers.get("content-type"),
                        result.final_url,
                    )
                else:
                    path = Path(source)
                    body, ctype, url = path.read_bytes(), None, path.resolve().as_uri()
                yield ExtractOutcome(source, page=pool.extract(body, ctype, url))
            except (DyadError, OSError) as exc:
                yield ExtractOutcome(source, error=str(exc))


@dataclass(frozen=True)
class DetectOutcome:
    """Detection of one input line: its id and result, or why the line was unreadable."""

    line: int
    id: Any = None
    result: DyadDetection | None = None
    error: str | None = None


def detect_lines(settings: Settings, lines: Iterable[str]) -> Iterator[DetectOutcome]:
    """Detection over JSON lines ``{id, title, text, published?}`` with the settings'
    thresholds; blank lines are skipped; one outcome per other line, never raising for one."""
    from pipeline.detect import detect_dyads, load_gazetteer

    gazetteer = load_gazetteer()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item, dict):
                raise ValueError("a line must be a JSON object")
            published = item.get("published")
            result = detect_dyads(
                str(item.get("title") or ""),
                str(item.get("text") or ""),
                datetime.fromisoformat(published) if published else None,
                gaz=gazetteer,
                candidate_threshold=settings.detect.candidate_threshold,
                final_threshold=settings.detect.final_threshold,
            )
        except ValueError as exc:
            yield DetectOutcome(number, error=f"line {number}: {exc}")
            continue
        yield DetectOutcome(number, id=item.get("id"), result=result)
