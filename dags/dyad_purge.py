"""
### dyad_purge: the retention purge (daily)

**purge**: delete articles first seen, stories last seen, and failures, runs and LLM usage
logged more than `older_than_days` ago (default: the `retention_days` setting; the task is
skipped when that is 0, which keeps everything). Every purged article and feed entry leaves a
tombstone, so a feed still listing it never brings it back. Digests and deliveries stay.
Schedule: `DYAD_PURGE_SCHEDULE` (cron or preset, default `@daily`; `none` for manual runs only).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

from dyad_airflow import dyad_settings, record_failure

_SCHEDULE = os.environ.get("DYAD_PURGE_SCHEDULE", "@daily")  # "none": manual runs only


@task
def purge() -> dict[str, int]:
    """Delete what is older than the retention period; keep tombstones."""
    from airflow.sdk.exceptions import AirflowSkipException

    from pipeline import jobs

    settings = dyad_settings()
    days = get_current_context()["params"].get("older_than_days")
    if not days and settings.retention_days == 0:
        raise AirflowSkipException("retention_days is 0: everything is kept")
    return jobs.purge(settings, days)


@dag(
    dag_id=Path(__file__).stem,
    description="Delete what is older than the retention period; tombstones keep it out",
    schedule=None if _SCHEDULE.lower() == "none" else _SCHEDULE,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["dyad", "maintenance"],
    doc_md=__doc__,
    default_args={
        "retries": 1,
        "retry_delay": timedelta(minutes=5),
        "on_failure_callback": record_failure,
    },
    params={
        "older_than_days": Param(
            None,
            type=["null", "integer"],
            minimum=1,
            title="Older than (days)",
            description="Delete what is older than this; empty = the retention_days setting.",
        ),
    },
)
def dyad_purge() -> None:
    purge()


dyad_purge()
