"""
### dyad_backfill: re-process a date range, a feed, or a WARC recording (manual)

1. **reingest** (only with `warc`): ingest the feeds again, every fetch answered from the WARC
   recording (`dyad ingest --record` makes them), with no network.
2. **redetect**: mark the articles first seen in the range (of `feed_url`, if given) for
   detection and run it, e.g. after a gazetteer update.
3. **resummarize**: re-cluster the range and bring summaries up to date; stories whose summary
   came from an older prompt version or model are redone automatically, `force` redoes all.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

from dyad_airflow import LLM_POOL, LLM_QUEUE, dyad_settings, record_failure


@dag(
    dag_id=Path(__file__).stem,
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["dyad", "backfill"],
    doc_md=__doc__,
    default_args={
        "retries": 1,
        "retry_delay": timedelta(minutes=2),
        "on_failure_callback": record_failure,
    },
    params={
        "since": Param(type="string", format="date", title="From (first seen, UTC date)"),
        "until": Param(type="string", format="date", title="Until (inclusive)"),
        "feed_url": Param(None, type=["null", "string"], title="Only this feed (URL)"),
        "warc": Param(None, type=["null", "string"], title="Re-ingest from this WARC file"),
        "feeds_file": Param(None, type=["null", "string"], title="Feed list for the re-ingest"),
        "force": Param(False, type="boolean", title="Redo every summary in the range"),
    },
)
def dyad_backfill() -> None:
    def _range(params: dict[str, Any]) -> tuple[Any, Any]:
        from datetime import UTC, datetime, time

        since = datetime.combine(datetime.fromisoformat(params["since"]).date(), time(), UTC)
        until = datetime.combine(datetime.fromisoformat(params["until"]).date(), time.max, UTC)
        return since, until

    @task
    def reingest() -> dict[str, Any]:
        """Ingest again from the WARC recording (nothing to do without one)."""
        from pipeline import jobs
        from pipeline.config import Settings

        params = get_current_context()["params"]
        if not params.get("warc"):
            return {"reingested": False}
        base = dyad_settings()
        settings = Settings.model_validate(
            base.model_dump() | {"replay_path": Path(params["warc"])}
        )
        feeds = Path(params["feeds_file"]) if params.get("feeds_file") else None
        report = jobs.run_ingest(settings, feeds)
        return {"reingested": True, "entries": report.entry_counts()}

    @task
    def redetect(reingested: dict[str, Any]) -> dict[str, Any]:
        """Re-run detection on the range."""
        from pipeline import jobs

        params = get_current_context()["params"]
        since, until = _range(params)
        settings = dyad_settings()
        marked = jobs.reset_detection(settings, since, until, params.get("feed_url"))
        counts = jobs.detect_pending(settings)
        return {"marked": marked, "checked": counts.checked, "bilateral": counts.bilateral}

    @task(pool=LLM_POOL, queue=LLM_QUEUE)
    def resummarize(detected: dict[str, Any]) -> dict[str, Any]:
        """Re-cluster the range and update its summaries."""
        from airflow.sdk.exceptions import AirflowFailException

        from pipeline import jobs

        params = get_current_context()["params"]
        since, until = _range(params)
        settings = dyad_settings()
        report = jobs.summarize_stories(
            settings, since=since, until=until, force=bool(params.get("force"))
        )
        try:
            jobs.check_model_outcome(settings, report)
        except jobs.LLMNoSummaries as exc:  # the operator is alerted; a retry would not help
            raise AirflowFailException(str(exc)) from exc
        return {"stories": report.stories, "statuses": report.statuses, "calls": report.calls}

    resummarize(redetect(reingest()))


dyad_backfill()
