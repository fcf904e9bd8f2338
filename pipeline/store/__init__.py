"""Dyad's store: SQLAlchemy tables, Alembic migrations, upsert-only writes.

One module per thing kept: ``feeds``, ``articles`` (entries, extraction, detection), ``runs``
(runs and failures), ``stories`` (stories, summaries, LLM use), ``digests`` (digests and
deliveries) and ``status`` (the read-only overview); ``tables`` holds the ORM rows, ``db`` the
engine and migrations. Jobs open it with ``open_store(settings)``.
"""

from pipeline.store.db import open_store

__all__ = ["open_store"]
