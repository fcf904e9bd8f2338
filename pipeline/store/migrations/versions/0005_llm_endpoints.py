"""llm endpoints: the request shape each endpoint and model accept

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 12:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import pipeline.store.tables

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "llm_endpoints",
        sa.Column("endpoint", sa.String(length=500), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("basis", sa.String(length=200), nullable=False),
        sa.Column("shape", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("updated_at", pipeline.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("endpoint", "model", name=op.f("pk_llm_endpoints")),
    )


def downgrade() -> None:
    op.drop_table("llm_endpoints")
