"""``dyad ingest``, ``dyad summarize`` and ``dyad run``: the pipeline's two jobs, once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from pipeline import jobs
from pipeline.cli.app import console, current_settings, fail, out
from pipeline.cli.report import print_ingest_report, print_summarize_report, report_json
from pipeline.config import Settings


def ingest(
    feeds: Annotated[Path | None, typer.Option(help="feed list YAML (default: settings)")] = None,
    replay: Annotated[Path | None, typer.Option(help="answer every fetch from this WARC")] = None,
    record: Annotated[
        Path | None, typer.Option(help="write every HTTP exchange to this WARC")
    ] = None,
    sample: Annotated[
        bool, typer.Option("--sample", help="ingest the bundled offline sample")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="print the report as one JSON object")
    ] = False,
) -> None:
    """Poll the feeds, store new entries and extract their articles, then print a report."""
    if sample:
        replay, feeds = jobs.build_sample(current_settings())
    settings = current_settings(replay_path=replay, record_path=record)
    try:
        if as_json:
            report = jobs.run_ingest(settings, feeds)
        else:
            report = _ingest_with_progress(settings, feeds)
    except jobs.DyadError as exc:
        raise fail(exc) from exc
    if as_json:
        print(json.dumps(report_json(report), ensure_ascii=False))
    else:
        print_ingest_report(report)
        out.print(f"database: {settings.effective_database_url}")


def _ingest_with_progress(settings: Settings, feeds: Path | None) -> jobs.IngestReport:
    columns = (
        TextColumn("{task.description:<9}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(
        *columns, console=console, transient=True, disable=not console.is_terminal
    ) as bar:
        tasks: dict[str, Any] = {}
        totals: dict[str, int] = {}

        def progress(stage: str, count: int) -> None:
            # the first call opens the stage with ``count`` items, later ones add ``count``
            # more (pages are queued as feeds arrive) or, with 0, mark one item done
            if stage not in tasks:
                totals[stage] = count
                tasks[stage] = bar.add_task(stage, total=count)
            elif count:
                totals[stage] = totals.get(stage, 0) + count
                bar.update(tasks[stage], total=totals[stage])
            else:
                bar.advance(tasks[stage])

        return jobs.run_ingest(settings, feeds, progress=progress)


def _parse_when(value: str | None) -> Any:
    from datetime import UTC, datetime

    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"not an ISO date or date-time: {value!r}") from exc
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def summarize(
    since: Annotated[
        str | None, typer.Option(help="first-seen from (ISO; default 7 days ago)")
    ] = None,
    until: Annotated[str | None, typer.Option(help="first-seen until (ISO; default now)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Group the window's bilateral articles into stories and summarise each story once."""
    settings = current_settings()
    try:
        report = jobs.summarize_stories(
            settings, since=_parse_when(since), until=_parse_when(until)
        )
    except jobs.DyadError as exc:
        raise fail(exc) from exc
    if as_json:
        print(report.model_dump_json())
    else:
        print_summarize_report(report)
    try:
        jobs.check_model_outcome(settings, report)
    except jobs.DyadError as exc:
        raise fail(exc) from exc


def run(
    sample: Annotated[
        bool, typer.Option("--sample", help="use the bundled offline sample")
    ] = False,
    feeds: Annotated[Path | None, typer.Option(help="feed list YAML (default: settings)")] = None,
) -> None:
    """Ingest, then summarise: the whole pipeline once."""
    ingest(feeds=feeds, replay=None, record=None, sample=sample, as_json=False)
    summarize(since=None, until=None, as_json=False)
