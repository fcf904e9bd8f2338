"""What the commands print: tables for people, JSON objects for scripts."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from pipeline import jobs
from pipeline.cli.app import out


def report_json(report: jobs.IngestReport) -> dict[str, Any]:
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


def print_ingest_report(report: jobs.IngestReport) -> None:
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


def print_status(report: dict[str, list[dict[str, Any]]]) -> None:
    """``dyad status``: one table per section, "none" for an empty one."""
    for title, rows in report.items():
        if not rows:
            out.print(f"{title}: none")
            continue
        table = Table(title=title, header_style="bold")
        for column in rows[0]:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*(str(v) if v is not None else "" for v in row.values()))
        out.print(table)


def print_feed_table(rows: list[dict[str, Any]], *, flag_after: int) -> None:
    """``dyad feeds list``: one row per feed; failures in red from ``flag_after`` in a row."""
    table = Table(header_style="bold")
    for column in ("feed", "status", "entries", "last success", "failures", "last error"):
        table.add_column(column, overflow="fold")
    for row in rows:
        failures = row["consecutive_failures"]
        flag = f"[red]{failures}[/red]" if failures >= flag_after else str(failures)
        last = row["last_success_at"]
        table.add_row(
            f"{row['name']}\n{row['url']}",
            row["last_status"] or "never polled",
            str(row["entries"]),
            last.strftime("%Y-%m-%d %H:%M") if last else "never",
            flag,
            row["last_error"] or row["warnings"] or "",
        )
    out.print(table)


def extract_json(outcome: jobs.ExtractOutcome) -> dict[str, Any]:
    """``dyad extract --json``'s line for one source (``error`` set when there is no page)."""
    page = outcome.page
    return {
        "source": outcome.source,
        "title": page.title if page else None,
        "text": page.text if page else None,
        "date": page.date if page else None,
        "language": page.language if page else None,
        "error": outcome.error,
    }


def print_extracted(outcome: jobs.ExtractOutcome) -> None:
    """``dyad extract``: the title, the metadata found, then the text."""
    source, page = outcome.source, outcome.page
    if page is None:
        return
    out.print(f"[bold]{page.title or '(no title)'}[/bold]")
    meta = {
        "source": source,
        "date": page.date,
        "site": page.site_name,
        "language": page.language,
        "encoding": page.encoding,
    }
    out.print("  ".join(f"{k}: {v}" for k, v in meta.items() if v))
    out.print()
    out.print(page.text, markup=False)
    out.print()


def detect_json(outcome: jobs.DetectOutcome, *, evidence: bool) -> dict[str, Any]:
    """``dyad detect``'s line for one input: the decision, or the line's error."""
    result = outcome.result
    if result is None:
        return {
            "id": None,
            "bilateral": None,
            "countries": [],
            "probability": None,
            "candidate": None,
            "score": None,
            "error": outcome.error,
        }
    row: dict[str, Any] = {
        "id": outcome.id,
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
    return row
