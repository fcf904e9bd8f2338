"""window indexes: articles by first_seen_at and gazetteer_version

Window queries (the stories' articles, the digest's article count, reset_detection) and the
detection backlog scanned every article without them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 17:35:00
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_articles_first_seen_at", "articles", ["first_seen_at"])
    op.create_index("ix_articles_gazetteer_version", "articles", ["gazetteer_version"])


def downgrade() -> None:
    op.drop_index("ix_articles_gazetteer_version", table_name="articles")
    op.drop_index("ix_articles_first_seen_at", table_name="articles")
