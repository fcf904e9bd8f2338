"""Shared wiring for the DAGs in dags/ (no business logic): settings from Airflow Connections, the
failure callback, and the Asset. Installed with the project (beside pipeline/), because Airflow 3
does not put the dags folder on sys.path. pipeline/ never imports this package.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
from typing import Any

from airflow.sdk import Asset

log = logging.getLogger(__name__)

STORIES = Asset("dyad://stories")
LLM_POOL = "dyad_llm"
# Celery queue for the tasks that call the LLM (a dedicated worker can serve it); parse-time.
LLM_QUEUE = os.environ.get("DYAD_LLM_QUEUE", "default")


def worker_name() -> str:
    """``[core] hostname_callable`` for Dyad's workers: ``DYAD_WORKER_NAME`` when set (several
    workers in one host or in containers stay distinguishable in the UI), else the FQDN."""
    return os.environ.get("DYAD_WORKER_NAME") or socket.getfqdn()


def digest_schedule() -> Any:
    """The ``dyad_digest`` timetable: every day at ``digest.send_time`` in ``digest.timezone``,
    read from Dyad's settings (``DYAD_CONFIG`` / ``dyad.yaml`` / ``DYAD_DIGEST__*``) at parse time,
    so the run and the digest window it closes stay in step. ``DYAD_DIGEST_SCHEDULE=none``: no
    schedule (manual runs only); any other value is refused (an import error in the UI), since a
    separate cron could only drift from ``digest.send_time``. When the settings cannot be loaded,
    ``DYAD_DIGEST__SEND_TIME`` / ``DYAD_DIGEST__TIMEZONE`` (or 07:00 UTC) are used, with a
    warning in the DAG processor's log."""
    from airflow.sdk import CronTriggerTimetable

    choice = os.environ.get("DYAD_DIGEST_SCHEDULE", "").strip()
    if choice.lower() == "none":
        return None
    if choice:
        raise ValueError(
            f"DYAD_DIGEST_SCHEDULE={choice!r}: only 'none' (manual runs) is accepted; "
            "the time comes from digest.send_time and digest.timezone"
        )
    send_time, timezone = _digest_send_time()
    hour, minute = send_time.split(":")
    return CronTriggerTimetable(f"{int(minute)} {int(hour)} * * *", timezone=timezone)


def _digest_send_time() -> tuple[str, str]:
    """``(send_time, timezone)`` from the settings, else from the environment with a warning."""
    from pipeline.config import load_settings

    try:
        digest = load_settings().digest
    except Exception as exc:  # parse time: a broken settings file must not hide the DAG
        send_time = os.environ.get("DYAD_DIGEST__SEND_TIME", "07:00")
        timezone = os.environ.get("DYAD_DIGEST__TIMEZONE", "UTC")
        log.warning(
            "dyad_digest: settings could not be loaded (%s); scheduled at %s %s from the "
            "environment, which may not match the digest window",
            exc,
            send_time,
            timezone,
        )
        return send_time, timezone
    return digest.send_time, digest.timezone


def _connection(conn_id: str) -> dict[str, Any] | None:
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        conn = Connection.get(conn_id)
    except AirflowNotFoundException:
        return None
    return {
        "host": conn.host,
        "port": conn.port,
        "login": conn.login,
        "password": conn.password,
        "extra": conn.extra_dejson,
    }


def dyad_settings() -> Any:
    """Dyad's settings (DYAD_* variables, DYAD_CONFIG), with the ``dyad_llm`` and
    ``smtp_default`` Connections applied when they exist."""
    from pipeline.config import load_settings, with_connections

    return with_connections(
        load_settings(), llm=_connection("dyad_llm"), smtp=_connection("smtp_default")
    )


def record_failure(context: dict[str, Any]) -> None:
    """on_failure_callback: store the failed task where ``dyad status`` shows it."""
    from pipeline.jobs import DyadError, record_task_failure

    ti = context.get("ti") or context.get("task_instance")
    run = context.get("dag_run")
    exception = context.get("exception")
    # The callback must never raise; the task log keeps the original error.
    with contextlib.suppress(DyadError):
        record_task_failure(
            dyad_settings(),
            dag_id=getattr(run, "dag_id", "?"),
            run_id=getattr(run, "run_id", "?"),
            task_id=getattr(ti, "task_id", "?"),
            error=f"{type(exception).__name__}: {exception}" if exception else "failed",
        )
