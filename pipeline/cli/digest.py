"""``dyad digest`` and ``dyad send``: build the digest for a date, write it, mail it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from pipeline import jobs
from pipeline.cli.app import current_settings, fail, out


def _parse_day(value: str | None) -> Any:
    from datetime import date

    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"not a date (YYYY-MM-DD): {value!r}") from exc


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
    settings = current_settings()
    try:
        built = jobs.build_digest(settings, _parse_day(date), days=days)
        written = jobs.write_outputs(settings, built, chosen, out_dir)
    except jobs.DyadError as exc:
        raise fail(exc) from exc
    stories = sum(len(d.stories) for d in built.dyads)
    out.print(
        f"{built.id}: {len(built.dyads)} pairs, {stories} stories "
        f"({built.window_start:%Y-%m-%d %H:%M} to {built.window_end:%Y-%m-%d %H:%M} UTC)"
    )
    for kind, path in written.items():
        out.print(f"  {kind:5} {path}")
    if "atom" in written and not settings.digest.site_url:
        out.print(f"note: {jobs.SITE_URL_UNSET}")


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

    settings = current_settings()
    if to:
        try:
            to = [Recipient(address=a).address for a in to]
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from exc
    try:
        built = jobs.build_digest(settings, _parse_day(date), days=days)
        written = jobs.write_outputs(settings, built, ["html"])
        report = jobs.send_digest(settings, built, to=to, force=force)
    except jobs.DyadError as exc:
        raise fail(exc) from exc
    if not report.results:
        out.print("no recipients configured (settings: recipients)")
    for result in report.results:
        where = f" -> {result.path}" if result.path else ""
        out.print(
            f"{result.recipient}: {result.status}{where}"
            + (f" ({result.detail})" if result.detail else "")
        )
    out.print(f"digest HTML: {written['html']}")
    if report.undelivered:
        raise typer.Exit(1)
