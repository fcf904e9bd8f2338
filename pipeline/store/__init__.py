"""Dyad's store: SQLAlchemy tables, Alembic migrations, upsert-only writes (see ``repo``)."""
