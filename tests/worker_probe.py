"""A task for a worker process to run: which heavy libraries that process has imported.

Kept in its own module with no imports beyond ``sys``, so unpickling the task in a worker loads
nothing that would spoil the answer."""

from __future__ import annotations

import sys

HEAVY = (
    "openai",
    "datasketch",
    "scipy",
    "alembic",
    "jinja2",
    "pygments",
    "rich",
    "sqlalchemy",
    "airflow",
)


def heavy_modules_loaded() -> list[str]:
    """The libraries of ``HEAVY`` this process has imported (top-level names, sorted)."""
    return sorted({name.split(".")[0] for name in sys.modules} & set(HEAVY))
