"""``dyad status``, ``dyad extract``, ``dyad detect`` and ``dyad feeds``: look inside the store,
at a page, at a text, at the feed list."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from pipeline import jobs
from pipeline.cli.app import console, current_settings, fail, out
from pipeline.cli.report import (
    detect_json,
    extract_json,
    print_extracted,
    print_feed_table,
    print_status,
)


def status() -> None:
    """Recent runs, feed health, pending and failed items, summaries and LLM usage."""
    try:
        report = jobs.store_status(current_settings())
    except jobs.DyadError as exc:
        raise fail(exc) from exc
    print_status(report)


def extract(
    sources: Annotated[list[str], typer.Argument(help="URLs or saved HTML files")],
    as_json: Annotated[bool, typer.Option("--json", help="one JSON line per input")] = False,
) -> None:
    """Print the text and metadata Dyad extracts from pages (for debugging a site)."""
    failed = 0
    for outcome in jobs.extract_sources(current_settings(), sources):
        failed += outcome.page is None
        if as_json:
            print(json.dumps(extract_json(outcome), ensure_ascii=False))
        elif outcome.page is None:
            console.print(f"[red]{outcome.source}[/red]: {outcome.error}")
        else:
            print_extracted(outcome)
    if failed == len(sources):
        raise typer.Exit(1)


def detect(
    input_file: Annotated[
        Path, typer.Option("--input", "-i", help="JSONL file of {id, title, text}; - for stdin")
    ],
    evidence: Annotated[
        bool, typer.Option("--evidence", help="add actor, target, third countries and evidence")
    ] = False,
) -> None:
    """Say which articles are about relations between two countries: one JSON line per input."""
    settings = current_settings()
    stream = sys.stdin if str(input_file) == "-" else input_file.open(encoding="utf-8")
    failed = 0
    with stream:
        for outcome in jobs.detect_lines(settings, stream):
            if outcome.error:
                failed += 1
                console.print(outcome.error, style="red", markup=False)
            print(json.dumps(detect_json(outcome, evidence=evidence), ensure_ascii=False))
    if failed:
        raise typer.Exit(1)


def feeds_list(
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per feed")] = False,
) -> None:
    """Show every feed in the store with its health: last success, failures, last error."""
    settings = current_settings()
    try:
        rows = jobs.feed_health(settings)
    except jobs.DyadError as exc:
        raise fail(exc) from exc
    if as_json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False, default=str))
        return
    print_feed_table(rows, flag_after=settings.feeds.flag_after_failures)


def feeds_import_opml(
    opml: Annotated[Path, typer.Argument(help="OPML file to read")],
    feeds: Annotated[Path | None, typer.Option(help="feed list YAML to add to")] = None,
) -> None:
    """Add the feeds of an OPML file to the feed list (existing URLs are kept as they are)."""
    settings = current_settings()
    try:
        added, listed = jobs.import_opml(settings, opml, feeds)
    except jobs.DyadError as exc:
        raise fail(exc) from exc
    out.print(f"{added} feeds added, {listed} already listed: {feeds or settings.feeds_file}")


def feeds_export_opml(
    output: Annotated[Path | None, typer.Argument(help="file to write (default: stdout)")] = None,
    feeds: Annotated[Path | None, typer.Option(help="feed list YAML to export")] = None,
) -> None:
    """Write the feed list as OPML 2.0, for any feed reader."""
    try:
        data = jobs.export_opml(current_settings(), feeds)
    except jobs.DyadError as exc:
        raise fail(exc) from exc
    if output is None:
        sys.stdout.buffer.write(data)
    else:
        output.write_bytes(data)
        out.print(f"wrote {output}")
