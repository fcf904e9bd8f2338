"""digests and deliveries

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 00:58:26.405360
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import pipeline.store.tables

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest_id", sa.String(length=40), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("updated_at", pipeline.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", pipeline.store.tables.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("digest_id", "recipient", name="uq_deliveries_digest_recipient"),
    )
    op.create_table(
        "digests",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("window_start", pipeline.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("window_end", pipeline.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("generated_at", pipeline.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_digests")),
    )


def downgrade() -> None:
    op.drop_table("digests")
    op.drop_table("deliveries")
