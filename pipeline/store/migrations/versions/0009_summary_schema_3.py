"""summary and digest records to schema 3; stories get their thread

Schema 3 of the summary record makes each key point an object with the articles it cites, and
adds each side's position, a representative quote and the thread link; schema 3 of the digest
record carries them. Stored rows are rewritten, not dropped: a key point keeps its text with no
citation (its source was never recorded), a summary gets no positions and no quote (empty
means "made before schema 3", which the digest shows as nothing rather than as "no
statement"), and a story is in no thread until it is clustered again. The conversion is frozen
here: later record changes get their own migration.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 22:00:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def summary_v3(record: dict[str, Any]) -> dict[str, Any]:
    """A stored story summary record (schema 2) as schema 3."""
    if str(record.get("schema_version")) not in ("1", "2"):
        return record
    out = dict(record, schema_version="3", thread=None)
    out["sources"] = [dict(s, article_id=None) for s in record.get("sources") or []]
    summary = record.get("summary")
    if isinstance(summary, dict):
        points = summary.get("key_points") or []
        out["summary"] = dict(
            summary,
            key_points=[
                p if isinstance(p, dict) else {"text": str(p), "cites": []} for p in points
            ],
            positions=summary.get("positions") or [],
            quote=summary.get("quote"),
        )
    return out


def summary_v2(record: dict[str, Any]) -> dict[str, Any]:
    """A schema 3 summary record as schema 2 (for downgrade): new fields dropped."""
    if str(record.get("schema_version")) != "3":
        return record
    out = {k: v for k, v in record.items() if k != "thread"}
    out["schema_version"] = "2"
    out["sources"] = [
        {k: v for k, v in s.items() if k != "article_id"} for s in record.get("sources") or []
    ]
    summary = record.get("summary")
    if isinstance(summary, dict):
        kept = {k: v for k, v in summary.items() if k not in ("positions", "quote")}
        kept["key_points"] = [
            p["text"] if isinstance(p, dict) else p for p in summary.get("key_points") or []
        ]
        out["summary"] = kept
    return out


_NEW_STORY_FIELDS = ("positions", "quote", "thread")


def digest_v3(record: dict[str, Any]) -> dict[str, Any]:
    """A stored digest record (schema 2) as schema 3."""
    if str(record.get("schema_version")) not in ("1", "2"):
        return record
    dyads = []
    for dyad in record.get("dyads") or []:
        stories = [
            dict(
                story,
                key_points=[
                    p if isinstance(p, dict) else {"text": str(p), "outlets": []}
                    for p in story.get("key_points") or []
                ],
                positions=[],
                quote=None,
                whats_new="",
                thread=None,
            )
            for story in dyad.get("stories") or []
        ]
        dyads.append(dict(dyad, stories=stories))
    return dict(record, schema_version="3", dyads=dyads)


def digest_v2(record: dict[str, Any]) -> dict[str, Any]:
    """A schema 3 digest record as schema 2 (for downgrade)."""
    if str(record.get("schema_version")) != "3":
        return record
    dyads = []
    for dyad in record.get("dyads") or []:
        stories = []
        for story in dyad.get("stories") or []:
            kept = {k: v for k, v in story.items() if k not in (*_NEW_STORY_FIELDS, "whats_new")}
            kept["key_points"] = [
                p["text"] if isinstance(p, dict) else p for p in story.get("key_points") or []
            ]
            stories.append(kept)
        dyads.append(dict(dyad, stories=stories))
    return dict(record, schema_version="2", dyads=dyads)


def _rewrite(table: str, key: str, convert: Any) -> None:
    """Every row's ``record`` of ``table`` passed through ``convert``, in one statement each."""
    rows = sa.table(table, sa.column(key, sa.String), sa.column("record", sa.JSON))
    bind = op.get_bind()
    for row_key, record in bind.execute(sa.select(rows.c[key], rows.c.record)).all():
        if not isinstance(record, dict):
            continue
        changed = convert(record)
        if changed is not record:
            bind.execute(rows.update().where(rows.c[key] == row_key).values(record=changed))


def upgrade() -> None:
    with op.batch_alter_table("stories") as batch:
        batch.add_column(sa.Column("thread_id", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("continues", sa.String(length=40), nullable=True))
    op.create_index("ix_stories_thread_id", "stories", ["thread_id"])
    _rewrite("summaries", "story_id", summary_v3)
    _rewrite("llm_cache", "key", summary_v3)
    _rewrite("digests", "id", digest_v3)


def downgrade() -> None:
    _rewrite("digests", "id", digest_v2)
    _rewrite("llm_cache", "key", summary_v2)
    _rewrite("summaries", "story_id", summary_v2)
    op.drop_index("ix_stories_thread_id", table_name="stories")
    with op.batch_alter_table("stories") as batch:
        batch.drop_column("continues")
        batch.drop_column("thread_id")
