"""opt_outs: addresses that unsubscribed from the digest (List-Unsubscribe, dyad unsubscribe);
llm_calls by story (the digest ledger counts the model's usage for the window's stories)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 18:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import pipeline.store.tables

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "opt_outs",
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("unsubscribed", sa.Boolean(), nullable=False),
        sa.Column("changed_at", pipeline.store.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("address", name=op.f("pk_opt_outs")),
    )
    op.create_index("ix_llm_calls_story_id", "llm_calls", ["story_id"])


def downgrade() -> None:
    op.drop_index("ix_llm_calls_story_id", table_name="llm_calls")
    op.drop_table("opt_outs")
