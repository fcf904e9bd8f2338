"""``dyad purge``: the retention purge."""

from __future__ import annotations

from typing import Annotated

import typer

from pipeline import jobs
from pipeline.cli.app import current_settings, fail, out


def purge(
    older_than: Annotated[
        int | None,
        typer.Option("--older-than", min=1, help="days to keep (default: retention_days)"),
    ] = None,
) -> None:
    """Delete articles, stories and logs older than DAYS; tombstones keep them from returning."""
    try:
        counts = jobs.purge(current_settings(), older_than)
    except jobs.DyadError as exc:
        raise fail(exc) from exc
    out.print("purged: " + ", ".join(f"{n} {kind}" for kind, n in counts.items()))
