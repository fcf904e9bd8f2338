"""Keeping Dyad's inputs and store in shape: the feed list's OPML import and export, the
database schema, the retention purge, and the bundled offline sample."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from pipeline.config import Settings
from pipeline.errors import ConfigError, DyadError
from pipeline.jobs.runs import utc_now


def import_opml(settings: Settings, opml: Path, feeds_file: Path | None = None) -> tuple[int, int]:
    """Add the OPML file's feeds to the feed list (the settings' or ``feeds_file``); feeds
    already listed are kept as they are. Returns (added, already listed). Raises ``DyadError``
    for an unreadable or malformed file, leaving the list untouched."""
    from pipeline.feeds import dump_feed_list, load_feed_list, parse_opml

    target = feeds_file or settings.feeds_file
    try:
        imported = parse_opml(opml.read_bytes())
        current = load_feed_list(target) if target.exists() else []
    except OSError as exc:
        raise DyadError(str(exc)) from exc
    known = {f.url for f in current}
    added = [f for f in imported if f.url not in known]
    target.write_text(dump_feed_list([*current, *added]), encoding="utf-8")
    return len(added), len(imported) - len(added)


def export_opml(settings: Settings, feeds_file: Path | None = None) -> bytes:
    """The feed list (the settings' or ``feeds_file``) as an OPML 2.0 document."""
    from pipeline.feeds import load_feed_list, render_opml

    return render_opml(load_feed_list(feeds_file or settings.feeds_file))


def upgrade_store(settings: Settings) -> tuple[str | None, str]:
    """Bring the database to the newest schema (creating it when empty); returns the revision
    it was at (None: empty) and the one it is at now."""
    from pipeline.store.db import migrate

    return migrate(settings.effective_database_url)


def build_sample(settings: Settings, output: Path | None = None) -> tuple[Path, Path]:
    """Write the offline sample's WARC recording (default under the data folder) and its feed
    list beside it, unless they are current; returns both paths."""
    from pipeline.sample import build_sample as build

    path = build(settings.sample_dir, output or settings.data_dir / "sample" / "sample.warc.gz")
    return path, path.parent / "feeds.yaml"


def purge(
    settings: Settings,
    older_than_days: int | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> dict[str, int]:
    """Delete what is older than ``older_than_days`` (default ``retention_days``), keeping
    tombstones so purged items never return; returns the rows deleted by kind. Raises
    ``ConfigError`` when neither gives a number of days above 0."""
    from pipeline.store import open_store
    from pipeline.store.retention import purge_before

    days = older_than_days if older_than_days is not None else settings.retention_days
    if days <= 0:
        raise ConfigError("nothing to purge: give --older-than DAYS or set retention_days above 0")
    now = clock()
    with open_store(settings) as engine:
        return purge_before(engine, now - timedelta(days=days), now)
