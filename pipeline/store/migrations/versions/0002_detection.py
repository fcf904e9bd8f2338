"""detection columns on articles

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bilateral", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("dyad", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("detect_score", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("actor", sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column("target", sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column("detection", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("gazetteer_version", sa.String(length=20), nullable=True))
        batch_op.create_index("ix_articles_dyad", ["dyad"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("articles", schema=None) as batch_op:
        batch_op.drop_index("ix_articles_dyad")
        for column in (
            "gazetteer_version",
            "detection",
            "target",
            "actor",
            "detect_score",
            "dyad",
            "bilateral",
        ):
            batch_op.drop_column(column)
