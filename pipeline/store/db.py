"""Engine creation and schema management for Dyad's store.

SQLite (the default) runs in WAL mode with a busy timeout so two writers wait for each other
instead of failing; PostgreSQL is used through its URL (``postgresql+psycopg://...``). The schema
is owned by Alembic: ``open_engine`` creates it on an empty database and refuses, naming both
revisions, to run on a database left at an older revision (``dyad db upgrade`` moves it).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from pipeline.errors import SchemaMismatch, StoreError

if TYPE_CHECKING:
    from pipeline.config import Settings

MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_BUSY_MS = 5000


def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_store_engine(url: str) -> Engine:
    """An engine for ``url`` with Dyad's connection settings (no schema check).

    Raises ``StoreError`` for a URL SQLAlchemy cannot parse, a scheme it has no dialect for
    (``foo://``), a dialect whose driver is not installed (``mysql://`` without mysqlclient),
    or a SQLite directory that cannot be created.
    """
    try:
        parsed = make_url(url)
        if parsed.get_backend_name() != "sqlite":
            return create_engine(url, pool_pre_ping=True)
    except (ArgumentError, NoSuchModuleError) as exc:
        raise StoreError(
            "database_url: unsupported or malformed URL (use sqlite:///PATH or "
            "postgresql+psycopg://USER@HOST/DB)",
            item=_scheme(url),
        ) from exc
    except ImportError as exc:
        raise StoreError(
            f"database_url: the driver for {parsed.drivername} is not installed ({exc.name})",
            item=_scheme(url),
        ) from exc
    if parsed.database and parsed.database != ":memory:":
        directory = Path(parsed.database).parent
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the database directory {directory}: {exc.strerror or exc}"
            ) from exc
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_MS / 1000})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def alembic_config(engine: Engine | None = None) -> Config:
    """Alembic configuration pointing at Dyad's migrations (and at ``engine`` when given)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    """The newest migration's revision id."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is stamped with, or None for an unmanaged database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to ``revision``."""
    command.upgrade(alembic_config(engine), revision)


def migrate(url: str) -> tuple[str | None, str]:
    """Bring the database at ``url`` to the newest revision (creating it when empty); returns the
    revision it was at (None: empty) and the head. Raises ``StoreError`` when it cannot."""
    engine = create_store_engine(url)
    try:
        before = current_revision(engine)
        upgrade(engine)
    except SQLAlchemyError as exc:
        raise StoreError(
            f"cannot upgrade the database: {_reason(exc, url)}", item=_safe(url)
        ) from exc
    finally:
        engine.dispose()
    return before, head_revision()


def open_engine(url: str) -> Engine:
    """An engine whose database is at the newest schema revision.

    An empty database is migrated to the head; one at an older revision raises
    ``SchemaMismatch`` (run ``dyad db upgrade``); one with tables but no revision raises
    ``StoreError``.
    """
    engine = create_store_engine(url)
    _check_sqlite_files(url)
    try:
        current = current_revision(engine)
    except Exception as exc:
        raise StoreError(f"cannot open the database: {_reason(exc, url)}", item=_safe(url)) from exc
    head = head_revision()
    if current == head:
        _check_server_writable(engine, url)
        return engine
    if current is None:
        tables = set(inspect(engine).get_table_names())
        if tables & {"feeds", "articles", "entries"}:
            raise StoreError("database has Dyad tables but no Alembic revision", item=_safe(url))
        upgrade(engine)
        return engine
    raise SchemaMismatch(
        f"database is at revision {current}, this Dyad needs {head}: run 'dyad db upgrade'",
        item=_safe(url),
    )


BATCH_KEYS = 500
"""Keys per ``IN (...)`` list of a batch lookup (SQLite allows 32,766 bound parameters)."""


def in_chunks(keys: Iterable[Any]) -> Iterator[list[Any]]:
    """``keys`` without repeats, in lists of at most ``BATCH_KEYS`` for ``IN (...)``."""
    unique = list(dict.fromkeys(keys))
    for start in range(0, len(unique), BATCH_KEYS):
        yield unique[start : start + BATCH_KEYS]


def upsert_insert(conn: Connection, table: Any) -> Any:
    """An INSERT for ``table`` that supports ON CONFLICT on both SQLite and PostgreSQL."""
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(table)


def _check_sqlite_files(url: str) -> None:
    """Raise ``StoreError`` when a SQLite database file, or its directory, exists but is not
    writable, so a read-only store is reported when the command starts, not at its first INSERT
    half-way through a run. The directory counts: WAL mode creates ``-wal`` and ``-shm`` files
    beside the database (https://www.sqlite.org/wal.html). Lock-free (no write is attempted)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return
    database = Path(parsed.database)
    for path in (database, database.parent):
        if path.exists() and not os.access(path, os.W_OK):
            raise StoreError(
                f"the database is read-only: {path} is not writable by this user",
                item=_safe(url),
            )


def _check_server_writable(engine: Engine, url: str) -> None:
    """Raise ``StoreError`` when PostgreSQL refuses writes: ``transaction_read_only`` is on for a
    hot standby or a read-only default (https://www.postgresql.org/docs/current/hot-standby.html)."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect() as connection:
        read_only = connection.execute(text("SHOW transaction_read_only")).scalar()
    if read_only == "on":
        raise StoreError("the database is read-only (transaction_read_only = on)", item=_safe(url))


def _reason(exc: Exception, url: str) -> str:
    """The driver's own message (without SQLAlchemy's statement and help link), and for a SQLite
    file that cannot be opened or written, which file and directory to check."""
    reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
    database = make_url(url).database if url.startswith("sqlite") else None
    if database and ("readonly" in reason or "unable to open" in reason):
        reason += f" (check that {database} and its directory are writable by this user)"
    return reason


def _scheme(url: str) -> str:
    return url.split("://", 1)[0] + "://..." if "://" in url else "(no scheme)"


def _safe(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


@contextmanager
def open_store(settings: Settings) -> Iterator[Engine]:
    """The store of ``settings`` at the newest schema (see ``open_engine``), disposed on exit."""
    engine = open_engine(settings.effective_database_url)
    try:
        yield engine
    finally:
        engine.dispose()
