"""Runs and failures: what each job did, and every per-item failure a user can look up."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select, update

from pipeline.errors import DyadError
from pipeline.store.db import upsert_insert
from pipeline.store.tables import ArticleRow, EntryRow, FailureRow, FeedRow, RunRow

STALE_RUN = timedelta(hours=6)
"""A run still "running" this long after it started was killed (ingests take minutes): the next
run of its kind marks it "interrupted"."""


def start_run(engine: Engine, kind: str, now: datetime, run_id: str | None = None) -> str:
    """Create (or reuse, for a retried Airflow task) a run row; return its id. Runs of the same
    kind left "running" for longer than ``STALE_RUN`` are closed as "interrupted" first."""
    run_id = run_id or f"{kind}-{now:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
    with engine.begin() as conn:
        conn.execute(
            update(RunRow)
            .where(
                RunRow.kind == kind,
                RunRow.status == "running",
                RunRow.started_at < now - STALE_RUN,
                RunRow.id != run_id,
            )
            .values(
                status="interrupted",
                finished_at=now,
                report={"error": f"still running {STALE_RUN} after it started: it was killed"},
            )
        )
        conn.execute(
            upsert_insert(conn, RunRow)
            .values(id=run_id, kind=kind, started_at=now, status="running")
            .on_conflict_do_nothing(index_elements=["id"])
        )
    return run_id


def finish_run(
    engine: Engine, run_id: str, now: datetime, status: str, report: dict[str, Any]
) -> None:
    """Close a run with its status and JSON report."""
    with engine.begin() as conn:
        conn.execute(
            update(RunRow)
            .where(RunRow.id == run_id)
            .values(finished_at=now, status=status, report=report)
        )


def record_failure(
    engine: Engine,
    run_id: str | None,
    stage: str,
    error: DyadError,
    now: datetime,
    item: str | None = None,
) -> None:
    """Store one per-item failure where ``dyad status`` and reports can show it."""
    with engine.begin() as conn:
        conn.execute(
            upsert_insert(conn, FailureRow).values(
                run_id=run_id,
                stage=stage,
                item=(item or error.item or "")[:2048],
                kind=error.kind,
                message=str(error)[:4000],
                retryable=error.retryable,
                at=now,
            )
        )


def table_counts(engine: Engine) -> dict[str, int]:
    """Row counts of the main tables (used by tests and ``dyad status``)."""
    with engine.connect() as conn:
        return {
            model.__tablename__: conn.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (FeedRow, ArticleRow, EntryRow, RunRow, FailureRow)
        }
