"""tombstones and host schedule: what a retention purge deleted, so it is never ingested
again; per-host request spacing shared by every fetching process

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 17:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import pipeline.store.tables

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tombstones",
        sa.Column("key", sa.String(length=2200), nullable=False),
        sa.Column("purged_at", pipeline.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_tombstones")),
    )
    op.create_table(
        "host_schedule",
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("next_start", sa.Float(), nullable=False),
        sa.Column("not_before", pipeline.store.tables.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("host", name=op.f("pk_host_schedule")),
    )


def downgrade() -> None:
    op.drop_table("host_schedule")
    op.drop_table("tombstones")
