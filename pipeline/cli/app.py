"""The ``dyad`` Typer application: its command groups, global options, settings and errors,
and the small maintenance commands (``db upgrade``, ``sample build``)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from pipeline import jobs
from pipeline.config import Settings, load_settings

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
"""Errors and progress (stderr)."""
out = Console(highlight=False, width=None if sys.stdout.isatty() else 120)
"""Reports (stdout)."""

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


def current_settings(**overrides: Any) -> Settings:
    """The settings of this invocation (``--config``, environment, then ``overrides`` that are
    not None); invalid settings end the command with exit 2 and the reason."""
    try:
        return load_settings(
            _state.get("config"), **{k: v for k, v in overrides.items() if v is not None}
        )
    except jobs.DyadError as exc:
        print_error(exc)
        raise typer.Exit(2) from exc


def print_error(exc: jobs.DyadError) -> None:
    """``error: <message>`` on stderr, the message taken literally (brackets in it are not rich
    markup) and not re-wrapped (its own line breaks list invalid fields)."""
    console.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)


def fail(exc: jobs.DyadError) -> typer.Exit:
    """Print the error and return the exit (code 1) to raise."""
    print_error(exc)
    return typer.Exit(1)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Bring the database schema to the newest revision (creates it when empty)."""
    try:
        before, now = jobs.upgrade_store(current_settings())
    except jobs.DyadError as exc:
        raise fail(exc) from exc
    out.print(f"database at {now} (was {before or 'empty'})")


@sample_app.command("build")
def sample_build(
    output: Annotated[Path | None, typer.Argument(help="WARC to write")] = None,
) -> None:
    """Build the offline sample's WARC recording and feed list from its sources."""
    try:
        warc, feeds = jobs.build_sample(current_settings(), output)
    except jobs.DyadError as exc:
        raise fail(exc) from exc
    out.print(f"sample recording: {warc}\nsample feed list: {feeds}")
