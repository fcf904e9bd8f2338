"""Runs: the one clock the jobs read, and failures recorded where ``dyad status`` shows them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from pipeline.config import Settings
from pipeline.errors import DyadError
from pipeline.store import open_store
from pipeline.store.runs import finish_run, record_failure, start_run

log = logging.getLogger("dyad.jobs")


def utc_now() -> datetime:
    """The current time in UTC (the only clock the jobs read)."""
    return datetime.now(UTC)


def record_failure_safely(
    engine: Engine,
    stage: str,
    error: DyadError,
    *,
    run_id: str | None = None,
    item: str | None = None,
    now: datetime | None = None,
) -> None:
    """Record one failure where ``dyad status`` shows it, never raising: when the store refuses
    the row too (it may just have failed a save), the log keeps the error."""
    try:
        record_failure(engine, run_id, stage, error, now or utc_now(), item=item)
    except SQLAlchemyError as exc:
        log.error("failure not recorded (%s): %s", error, exc)


def record_task_failure(
    settings: Settings,
    *,
    dag_id: str,
    run_id: str,
    task_id: str,
    error: str,
    clock: Callable[[], datetime] = utc_now,
) -> None:
    """Store a failed Airflow task as a failed run with its failure (``dyad status`` lists
    both); the DAGs' failure callback calls it."""
    with open_store(settings) as engine:
        now = clock()
        rid = f"airflow-{dag_id}-{run_id}-{task_id}"[:64]
        start_run(engine, "airflow", now, rid)
        finish_run(
            engine,
            rid,
            now,
            "failed",
            {"dag_id": dag_id, "run_id": run_id, "task_id": task_id, "error": error[:2000]},
        )
        record_failure(
            engine, rid, "airflow", DyadError(error[:2000], item=f"{dag_id}.{task_id}"), now
        )
