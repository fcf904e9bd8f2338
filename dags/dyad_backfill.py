"""
### dyad_backfill: re-process a date range, a feed, or a WARC recording (manual)

Every Param is optional: the range defaults to yesterday and today (UTC, by first-seen date;
`until` empty = the run's date, `since` empty = the day before `until`).

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


def _range(context: Any) -> tuple[Any, Any]:
    """The range's first and last instants (UTC): the params, else the day before the
    run's date through the run's date."""
    from datetime import UTC, datetime, time, timedelta

    params = context["params"]
    if params.get("until"):
        last = datetime.fromisoformat(params["until"]).date()
    else:
        last = context["dag_run"].run_after.astimezone(UTC).date()
    since = params.get("since")
    first = datetime.fromisoformat(since).date() if since else last - timedelta(days=1)
    return datetime.combine(first, time(), UTC), datetime.combine(last, time.max, UTC)


@task
def reingest() -> dict[str, Any]:
    """Ingest again from the WARC recording (nothing to do without one)."""
    from pipeline import jobs
    from pipeline.config import Settings

    params = get_current_context()["params"]
    if not params.get("warc"):
        return {"reingested": False}
    base = dyad_settings()
    settings = Settings.model_validate(base.model_dump() | {"replay_path": Path(params["warc"])})
    feeds = Path(params["feeds_file"]) if params.get("feeds_file") else None
    report = jobs.run_ingest(settings, feeds)
    return {"reingested": True, "entries": report.entry_counts()}


@task
def redetect(reingested: dict[str, Any]) -> dict[str, Any]:
    """Re-run detection on the range."""
    from pipeline import jobs

    context = get_current_context()
    params = context["params"]
    since, until = _range(context)
    settings = dyad_settings()
    marked = jobs.reset_detection(settings, since, until, params.get("feed_url"))
    counts = jobs.detect_pending(settings)
    return {"marked": marked, "checked": counts.checked, "bilateral": counts.bilateral}


@task(pool=LLM_POOL, queue=LLM_QUEUE)
def resummarize(detected: dict[str, Any]) -> dict[str, Any]:
    """Re-cluster the range and update its summaries."""
    from airflow.sdk.exceptions import AirflowFailException

    from pipeline import jobs

    context = get_current_context()
    params = context["params"]
    since, until = _range(context)
    settings = dyad_settings()
    report = jobs.summarize_stories(
        settings, since=since, until=until, force=bool(params.get("force"))
    )
    try:
        jobs.check_model_outcome(settings, report)
    except jobs.LLMNoSummaries as exc:  # the operator is alerted; a retry would not help
        raise AirflowFailException(str(exc)) from exc
    return {"stories": report.stories, "statuses": report.statuses, "calls": report.calls}


@dag(
    dag_id=Path(__file__).stem,
    schedule=None,
    description="Manual: re-detect and re-summarise a date range (optionally re-ingest a WARC)",
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
        "since": Param(
            None,
            type=["null", "string"],
            format="date",
            title="From (first seen, UTC date)",
            description="First day of the range, inclusive (empty = the day before 'until').",
        ),
        "until": Param(
            None,
            type=["null", "string"],
            format="date",
            title="Until (inclusive)",
            description="Last day of the range, inclusive (empty = the run's date, UTC).",
        ),
        "feed_url": Param(
            None,
            type=["null", "string"],
            title="Only this feed (URL)",
            description="Re-detect only the articles of this feed (empty = every feed).",
        ),
        "warc": Param(
            None,
            type=["null", "string"],
            title="Re-ingest from this WARC file",
            description="Path of a recording (dyad ingest --record); empty = no re-ingest.",
        ),
        "feeds_file": Param(
            None,
            type=["null", "string"],
            title="Feed list for the re-ingest",
            description="feeds.yaml to re-ingest with the WARC (empty = the configured one).",
        ),
        "force": Param(
            False,
            type="boolean",
            title="Redo every summary in the range",
            description="Summarise again even stories whose summary is current.",
        ),
    },
)
def dyad_backfill() -> None:
    resummarize(redetect(reingest()))


dyad_backfill()
