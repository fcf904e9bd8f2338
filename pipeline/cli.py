"""``dyad``: the command line, thin over ``pipeline.jobs`` and the stage functions."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from pipeline import jobs
from pipeline.config import Settings, load_settings
from pipeline.errors import DyadError
from pipeline.records import IngestReport

app = typer.Typer(
    help="Dyad: bilateral-relations news pipeline.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
feeds_app = typer.Typer(
    help="The feed list: show health, import and export OPML.", no_args_is_help=True
)
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
sample_app = typer.Typer(help="The bundled offline sample.", no_args_is_help=True)
app.add_typer(feeds_app, name="feeds")
app.add_typer(db_app, name="db")
app.add_typer(sample_app, name="sample")

console = Console(stderr=True)
out = Console(highlight=False, width=None if sys.stdout.isatty() else 120)

ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="settings YAML (default: ./dyad.yaml)")
]
_state: dict[str, Any] = {}


@app.callback()
def main(
    config: ConfigOption = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="log every failure")] = False,
) -> None:
    """Dyad reads foreign-affairs feeds and keeps the articles about relations between countries."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.ERROR,
        format="%(levelname)s %(name)s: %(message)s",
    )
    _state["config"] = config


def _settings(**overrides: Any) -> Settings:
    try:
        return load_settings(
            _state.get("config"), **{k: v for k, v in overrides.items() if v is not None}
        )
    except DyadError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc


def _fail(exc: DyadError) -> typer.Exit:
    console.print(f"[red]error:[/red] {exc}")
    return typer.Exit(1)


@app.command()
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
        from pipeline.sample import build_sample

        base = _settings()
        replay = build_sample(base.sample_dir, base.data_dir / "sample" / "sample.warc.gz")
        feeds = base.data_dir / "sample" / "feeds.yaml"
    settings = _settings(replay_path=replay, record_path=record)
    try:
        if as_json:
            report = jobs.run_ingest(settings, feeds)
        else:
            report = _ingest_with_progress(settings, feeds)
    except DyadError as exc:
        raise _fail(exc) from exc
    if as_json:
        print(json.dumps(report_json(report), ensure_ascii=False))
    else:
        print_report(report)
        out.print(f"database: {settings.effective_database_url}")


def _ingest_with_progress(settings: Settings, feeds: Path | None) -> IngestReport:
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

        def progress(stage: str, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            else:
                bar.advance(tasks[stage])

        return jobs.run_ingest(settings, feeds, progress=progress)


def report_json(report: IngestReport) -> dict[str, Any]:
    """The ingest report as printed by ``--json``: totals plus one object per feed."""
    return {
        "run_id": report.run_id,
        "started_at": report.started_at.isoformat(),
        "finished_at": report.finished_at.isoformat(),
        "feeds": [
            {
                "url": f.url,
                "name": f.name,
                "status": f.status.value,
                "entries_seen": f.entries_seen,
                "entries_new": f.entries_new,
                "entries_updated": f.entries_updated,
                "entries_duplicate": f.entries_duplicate,
                "error": f.error,
                "error_kind": f.error_kind,
                "warnings": list(f.warnings),
            }
            for f in report.feeds
        ],
        "feed_counts": report.feed_counts(),
        "entries": report.entry_counts(),
        "articles": report.articles.model_dump(),
        "article_failures": [a.model_dump() for a in report.article_failures],
        "detection": report.detection.model_dump(),
        "stage_seconds": report.stage_seconds,
    }


def print_report(report: IngestReport) -> None:
    """The human-readable ingest report: totals, failed feeds and articles, time per stage."""
    fc, ec, ac = report.feed_counts(), report.entry_counts(), report.articles
    table = Table(title=f"Ingest {report.run_id}", show_header=True, header_style="bold")
    table.add_column("stage")
    table.add_column("result")
    table.add_row(
        "feeds",
        f"{fc['ok']} ok, {fc['not_modified']} not modified, {fc['failed']} failed, "
        f"{fc['deferred']} deferred, {fc['backing_off']} backing off, "
        f"{fc['duplicate']} duplicate",
    )
    table.add_row(
        "entries",
        f"{ec['new']} new, {ec['updated']} updated, {ec['duplicate']} duplicate"
        + (f", {ec['skipped']} over the cap" if ec["skipped"] else ""),
    )
    table.add_row(
        "articles",
        f"{ac.extracted} extracted, {ac.fallback} fallback (feed text), "
        f"{ac.failed} failed, {ac.deferred} deferred",
    )
    dc = report.detection
    top = ", ".join(f"{pair} ({count})" for pair, count in dc.top(5)) or "none"
    table.add_row("detection", f"{dc.checked} checked, {dc.bilateral} bilateral; top pairs: {top}")
    table.add_row("time", ", ".join(f"{k} {v:.2f} s" for k, v in report.stage_seconds.items()))
    out.print(table)
    problems = [f for f in report.feeds if f.error]
    if problems:
        failed = Table(title="Feeds with problems", header_style="bold")
        for column in ("feed", "status", "reason"):
            failed.add_column(column, overflow="fold")
        for f in problems:
            failed.add_row(f.name or f.url, f.status.value, f.error or "")
        out.print(failed)
    if report.article_failures:
        arts = Table(title="Articles not extracted from their page", header_style="bold")
        for column in ("url", "reason", "text used"):
            arts.add_column(column, overflow="fold")
        for a in report.article_failures[:50]:
            arts.add_row(a.url, f"{a.kind}: {a.message}", "feed text" if a.fallback else "none")
        if len(report.article_failures) > 50:
            arts.add_row(f"... {len(report.article_failures) - 50} more", "", "")
        out.print(arts)


def _parse_when(value: str | None) -> Any:
    from datetime import UTC, datetime

    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"not an ISO date or date-time: {value!r}") from exc
    return when if when.tzinfo else when.replace(tzinfo=UTC)


@app.command()
def summarize(
    since: Annotated[
        str | None, typer.Option(help="first-seen from (ISO; default 7 days ago)")
    ] = None,
    until: Annotated[str | None, typer.Option(help="first-seen until (ISO; default now)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
) -> None:
    """Group the window's bilateral articles into stories and summarise each story once."""
    settings = _settings()
    try:
        report = jobs.summarize_stories(
            settings, since=_parse_when(since), until=_parse_when(until)
        )
    except DyadError as exc:
        raise _fail(exc) from exc
    if as_json:
        print(report.model_dump_json())
    else:
        print_summarize_report(report)
    try:
        jobs.check_model_outcome(settings, report)
    except DyadError as exc:
        raise _fail(exc) from exc


def print_summarize_report(report: jobs.SummarizeReport) -> None:
    """The human-readable summarise report."""
    table = Table(title="Stories and summaries", header_style="bold")
    table.add_column("what")
    table.add_column("result")
    table.add_row("window", f"{report.since:%Y-%m-%d %H:%M} to {report.until:%Y-%m-%d %H:%M} UTC")
    table.add_row("stories", f"{report.stories} from {report.articles} bilateral articles")
    statuses = ", ".join(f"{n} {s}" for s, n in sorted(report.statuses.items())) or "none new"
    table.add_row(
        "summaries",
        f"{statuses}; {report.unchanged} unchanged, {report.cached} from cache, "
        f"{report.deferred} deferred, {report.waiting} waiting for a retry",
    )
    table.add_row("backend", report.backend)
    table.add_row(
        "LLM usage",
        f"{report.calls} calls, {report.input_tokens} input + "
        f"{report.output_tokens} output tokens, ${report.cost_usd:.4f}",
    )
    table.add_row("time", f"{report.seconds:.2f} s")
    out.print(table)
    for note in report.notes:
        out.print(f"note: {note}")


@app.command()
def run(
    sample: Annotated[
        bool, typer.Option("--sample", help="use the bundled offline sample")
    ] = False,
    feeds: Annotated[Path | None, typer.Option(help="feed list YAML (default: settings)")] = None,
) -> None:
    """Ingest, then summarise: the whole pipeline once."""
    ingest(feeds=feeds, replay=None, record=None, sample=sample, as_json=False)
    summarize(since=None, until=None, as_json=False)


@app.command()
def status() -> None:
    """Recent runs, feed health, pending and failed items, summaries and LLM usage."""
    from datetime import timedelta

    from pipeline.store.db import open_engine
    from pipeline.store.status import status_report

    settings = _settings()
    try:
        engine = open_engine(settings.effective_database_url)
    except DyadError as exc:
        raise _fail(exc) from exc
    report = status_report(engine, jobs.utc_now(), timedelta(days=7))
    engine.dispose()
    for title, rows in report.items():
        table = Table(title=title, header_style="bold")
        if not rows:
            out.print(f"{title}: none")
            continue
        for column in rows[0]:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*(str(v) if v is not None else "" for v in row.values()))
        out.print(table)


def _parse_day(value: str | None) -> Any:
    from datetime import date

    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"not a date (YYYY-MM-DD): {value!r}") from exc


@app.command()
def digest(
    date: Annotated[
        str | None, typer.Option("--date", help="send date YYYY-MM-DD (default today)")
    ] = None,
    days: Annotated[int, typer.Option(help="window length in days (default 1: the last 24 h)")] = 1,
    formats: Annotated[
        str, typer.Option("--format", help="comma list of json,md,html,atom")
    ] = "json,md,html,atom",
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="folder to write to (default var/digests/DATE)")
    ] = None,
) -> None:
    """Build the digest for a date and write it as JSON, Markdown, HTML (+ text) and Atom."""
    chosen = [f.strip() for f in formats.split(",") if f.strip()]
    unknown = sorted(set(chosen) - set(jobs.FORMATS))
    if unknown:
        raise typer.BadParameter(f"unknown format(s) {unknown}; choose from {list(jobs.FORMATS)}")
    settings = _settings()
    try:
        built = jobs.build_digest(settings, _parse_day(date), days=days)
        written = jobs.write_outputs(settings, built, chosen, out_dir)
    except DyadError as exc:
        raise _fail(exc) from exc
    stories = sum(len(d.stories) for d in built.dyads)
    out.print(
        f"{built.id}: {len(built.dyads)} pairs, {stories} stories "
        f"({built.window_start:%Y-%m-%d %H:%M} to {built.window_end:%Y-%m-%d %H:%M} UTC)"
    )
    for kind, path in written.items():
        out.print(f"  {kind:5} {path}")


@app.command()
def send(
    date: Annotated[
        str | None, typer.Option("--date", help="send date YYYY-MM-DD (default today)")
    ] = None,
    days: Annotated[int, typer.Option(help="window length in days")] = 1,
    to: Annotated[
        list[str] | None, typer.Option("--to", help="send only to these addresses")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="resend even if already sent")] = False,
) -> None:
    """Build the digest for a date and mail it to each recipient exactly once."""
    from pipeline.config import Recipient

    settings = _settings()
    if to:
        try:
            to = [Recipient(address=a).address for a in to]
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc
    try:
        built = jobs.build_digest(settings, _parse_day(date), days=days)
        written = jobs.write_outputs(settings, built, ["html"])
        report = jobs.send_digest(settings, built, to=to, force=force)
    except DyadError as exc:
        raise _fail(exc) from exc
    if not report.results:
        out.print("no recipients configured (settings: recipients)")
    for result in report.results:
        where = f" -> {result.path}" if result.path else ""
        out.print(
            f"{result.recipient}: {result.status}{where}"
            + (f" ({result.detail})" if result.detail else "")
        )
    out.print(f"digest HTML: {written['html']}")
    if report.count("failed") or report.count("pending"):
        raise typer.Exit(1)


@app.command()
def extract(
    sources: Annotated[list[str], typer.Argument(help="URLs or saved HTML files")],
    as_json: Annotated[bool, typer.Option("--json", help="one JSON line per input")] = False,
) -> None:
    """Print the text and metadata Dyad extracts from pages (for debugging a site)."""
    from pipeline.extract import ExtractorPool
    from pipeline.http import build_client

    settings = _settings()
    failed = 0
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
                page = pool.extract(body, ctype, url)
            except (DyadError, OSError) as exc:
                failed += 1
                message = str(exc)
                if as_json:
                    print(
                        json.dumps(
                            {
                                "source": source,
                                "title": None,
                                "text": None,
                                "date": None,
                                "language": None,
                                "error": message,
                            },
                            ensure_ascii=False,
                        )
                    )
                else:
                    console.print(f"[red]{source}[/red]: {message}")
                continue
            if as_json:
                print(
                    json.dumps(
                        {
                            "source": source,
                            "title": page.title,
                            "text": page.text,
                            "date": page.date,
                            "language": page.language,
                            "error": None,
                        },
                        ensure_ascii=False,
                    )
                )
            else:
                out.print(f"[bold]{page.title or '(no title)'}[/bold]")
                meta = {
                    "source": source,
                    "author": page.author,
                    "date": page.date,
                    "site": page.site_name,
                    "language": page.language,
                    "encoding": page.encoding,
                }
                out.print("  ".join(f"{k}: {v}" for k, v in meta.items() if v))
                out.print()
                out.print(page.text, markup=False)
                out.print()
    if failed == len(sources):
        raise typer.Exit(1)


@app.command()
def detect(
    input_file: Annotated[
        Path, typer.Option("--input", "-i", help="JSONL file of {id, title, text}; - for stdin")
    ],
    evidence: Annotated[
        bool, typer.Option("--evidence", help="add actor, target, third countries and evidence")
    ] = False,
) -> None:
    """Say which articles are about relations between two countries: one JSON line per input."""
    from datetime import datetime

    from pipeline.detect import detect_dyads, load_gazetteer

    settings = _settings()
    gazetteer = load_gazetteer()
    stream = sys.stdin if str(input_file) == "-" else input_file.open(encoding="utf-8")
    failed = 0
    with stream:
        for number, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                if not isinstance(item, dict):
                    raise ValueError("a line must be a JSON object")
                published = item.get("published")
                when = datetime.fromisoformat(published) if published else None
                result = detect_dyads(
                    str(item.get("title") or ""),
                    str(item.get("text") or ""),
                    when,
                    gaz=gazetteer,
                    candidate_threshold=settings.detect.candidate_threshold,
                    final_threshold=settings.detect.final_threshold,
                )
            except ValueError as exc:
                failed += 1
                console.print(f"[red]line {number}:[/red] {exc}")
                print(
                    json.dumps(
                        {
                            "id": None,
                            "bilateral": None,
                            "countries": [],
                            "probability": None,
                            "candidate": None,
                            "score": None,
                            "error": f"line {number}: {exc}",
                        }
                    )
                )
                continue
            row: dict[str, Any] = {
                "id": item.get("id"),
                "bilateral": result.bilateral,
                "countries": list(result.countries) if result.bilateral else [],
                "probability": result.score,
                "candidate": result.candidate,
                "candidate_countries": list(result.countries),
                "score": result.score,
            }
            if evidence:
                row |= {
                    "actor": result.actor,
                    "target": result.target,
                    "third_countries": list(result.third_countries),
                    "cues": list(result.cues),
                    "evidence": [e.model_dump() for e in result.evidence],
                }
            print(json.dumps(row, ensure_ascii=False))
    if failed:
        raise typer.Exit(1)


@feeds_app.command("list")
def feeds_list(
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per feed")] = False,
) -> None:
    """Show every feed in the store with its health: last success, failures, last error."""
    from pipeline.store.db import open_engine
    from pipeline.store.repo import feed_table

    settings = _settings()
    try:
        engine = open_engine(settings.effective_database_url)
    except DyadError as exc:
        raise _fail(exc) from exc
    rows = feed_table(engine)
    if as_json:
        for row in rows:
            print(json.dumps(_feed_json(row), ensure_ascii=False, default=str))
        return
    settings_flag = settings.feeds.flag_after_failures
    table = Table(header_style="bold")
    for column in ("feed", "status", "entries", "last success", "failures", "last error"):
        table.add_column(column, overflow="fold")
    for row in rows:
        failures = row["consecutive_failures"]
        flag = f"[red]{failures}[/red]" if failures >= settings_flag else str(failures)
        last = (
            row["last_success_at"].strftime("%Y-%m-%d %H:%M") if row["last_success_at"] else "never"
        )
        table.add_row(
            f"{row['name']}\n{row['url']}",
            row["last_status"] or "never polled",
            str(row["entries"]),
            last,
            flag,
            row["last_error"] or row["warnings"] or "",
        )
    out.print(table)


def _feed_json(row: dict[str, Any]) -> dict[str, Any]:
    keys = (
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
    return {k: row[k] for k in keys}


@feeds_app.command("import-opml")
def feeds_import_opml(
    opml: Annotated[Path, typer.Argument(help="OPML file to read")],
    feeds: Annotated[Path | None, typer.Option(help="feed list YAML to add to")] = None,
) -> None:
    """Add the feeds of an OPML file to the feed list (existing URLs are kept as they are)."""
    from pipeline.feeds import dump_feed_list, load_feed_list, parse_opml

    settings = _settings()
    target = feeds or settings.feeds_file
    try:
        imported = parse_opml(opml.read_bytes())
        current = load_feed_list(target) if target.exists() else []
    except (DyadError, OSError) as exc:
        raise _fail(exc if isinstance(exc, DyadError) else DyadError(str(exc))) from exc
    known = {f.url for f in current}
    added = [f for f in imported if f.url not in known]
    target.write_text(dump_feed_list([*current, *added]), encoding="utf-8")
    out.print(f"{len(added)} feeds added, {len(imported) - len(added)} already listed: {target}")


@feeds_app.command("export-opml")
def feeds_export_opml(
    output: Annotated[Path | None, typer.Argument(help="file to write (default: stdout)")] = None,
    feeds: Annotated[Path | None, typer.Option(help="feed list YAML to export")] = None,
) -> None:
    """Write the feed list as OPML 2.0, for any feed reader."""
    from pipeline.feeds import load_feed_list, render_opml

    settings = _settings()
    try:
        data = render_opml(load_feed_list(feeds or settings.feeds_file))
    except DyadError as exc:
        raise _fail(exc) from exc
    if output is None:
        sys.stdout.buffer.write(data)
    else:
        output.write_bytes(data)
        out.print(f"wrote {output}")


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema to the newest revision (creates it when empty)."""
    from pipeline.store.db import create_store_engine, current_revision, head_revision, upgrade

    settings = _settings()
    engine = create_store_engine(settings.effective_database_url)
    before = current_revision(engine)
    upgrade(engine)
    out.print(f"database at {head_revision()} (was {before or 'empty'})")


@sample_app.command("build")
def sample_build(
    output: Annotated[Path | None, typer.Argument(help="WARC to write")] = None,
) -> None:
    """Build the offline sample's WARC recording and feed list from its sources."""
    from pipeline.sample import build_sample

    settings = _settings()
    target = output or settings.data_dir / "sample" / "sample.warc.gz"
    path = build_sample(settings.sample_dir, target)
    out.print(f"sample recording: {path}\nsample feed list: {path.parent / 'feeds.yaml'}")


if __name__ == "__main__":
    app()
