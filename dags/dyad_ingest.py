"""
### dyad_ingest: feeds in, stories summarised (hourly)

1. **plan**: load the feed list (settings, or the `feeds_file` param), upsert it into Dyad's
   store, open a run row and cut the enabled feeds into shards of `feeds.shard_size`.
2. **ingest_shard** (mapped, one task per shard): conditional GET of each feed, parse, store
   entries, fetch and extract the new articles' pages.
3. **finish**: merge the shard reports into the run row.
4. **detect**: bilateral-relations detection on every article whose text or gazetteer changed.
5. **cluster**: group the window's bilateral articles into stories.
6. **summarize** (pool `dyad_llm`): one summary per new or changed story; emits the Asset
   `dyad://stories` when stories changed, and is skipped (no event) when nothing did.

Per-feed, per-article and per-story failures are stored by the pipeline (`dyad status`), never
retried by Airflow; retries here are for run-level failures (database unreachable, ...). Only
ids, shards and small reports travel through XCom. Settings: `DYAD_*` variables on the workers
(or `DYAD_CONFIG`), plus the `dyad_llm` Connection. Schedule: `DYAD_INGEST_SCHEDULE` (cron or
preset, default `@hourly`; `none` for manual runs only).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

from dyad_airflow import LLM_POOL, LLM_QUEUE, STORIES, dyad_settings, record_failure

_SCHEDULE = os.environ.get("DYAD_INGEST_SCHEDULE", "@hourly")  # "none": manual runs only


@task
def plan() -> dict[str, Any]:
    """Sync the feed list, open the run row, return the shards."""
    from pipeline import jobs

    context = get_current_context()
    settings = dyad_settings()
    feeds_file = context["params"].get("feeds_file")
    shards = jobs.plan_ingest(settings, Path(feeds_file) if feeds_file else None)
    started = jobs.utc_now()
    run_id = jobs.start_ingest(settings, run_id=f"ingest-{context['run_id']}"[:64])
    return {
        "run_id": run_id,
        "started_at": started.isoformat(),
        "shards": [shard.model_dump(mode="json") for shard in shards],
    }


@task
def shards_of(planned: dict[str, Any]) -> list[dict[str, Any]]:
    """The shards to map over."""
    return list(planned["shards"])


@task
def ingest_shard(shard: dict[str, Any], planned: dict[str, Any]) -> dict[str, Any]:
    """Poll one shard's feeds and extract their new articles."""
    from pipeline import jobs

    report = jobs.ingest_shard(dyad_settings(), shard, planned["run_id"], detect=False)
    return report.model_dump(mode="json")


@task
def finish(planned: dict[str, Any], reports: list[dict[str, Any]]) -> dict[str, Any]:
    """Close the run row; return the totals."""
    from datetime import datetime

    from pipeline import jobs

    report = jobs.finish_ingest(
        dyad_settings(),
        planned["run_id"],
        datetime.fromisoformat(planned["started_at"]),
        reports[:],  # a lazy XCom sequence, read once
    )
    return {
        "run_id": report.run_id,
        "feeds": report.feed_counts(),
        "entries": report.entry_counts(),
        "articles": report.articles.model_dump(),
    }


@task
def detect(totals: dict[str, Any]) -> dict[str, Any]:
    """Detect country pairs on new and changed articles."""
    from pipeline import jobs

    counts = jobs.detect_pending(dyad_settings())
    return {"checked": counts.checked, "bilateral": counts.bilateral, "top": counts.top(5)}


@task
def cluster(detected: dict[str, Any]) -> dict[str, Any]:
    """Group the window's bilateral articles into stories."""
    from pipeline import jobs

    report = jobs.cluster_window(dyad_settings())
    return {"stories": list(report.story_ids), "changed": list(report.changed)}


@task(pool=LLM_POOL, queue=LLM_QUEUE, outlets=[STORIES])
def summarize(clustered: dict[str, Any]) -> dict[str, Any]:
    """Summarise the stories; skipped (no Asset event) when nothing changed."""
    from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

    from pipeline import jobs

    context = get_current_context()
    settings = dyad_settings()
    report = jobs.summarize_stories(
        settings,
        story_ids=clustered["stories"],
        run_id=f"ingest-{context['run_id']}"[:64],
    )
    try:
        jobs.check_model_outcome(settings, report)
    except jobs.LLMNoSummaries as exc:  # the operator is alerted; a retry would not help
        raise AirflowFailException(str(exc)) from exc
    changed = sum(report.statuses.values())
    if not clustered["changed"] and not changed:
        raise AirflowSkipException("no story changed: nothing to summarise")
    return {
        "stories": report.stories,
        "statuses": report.statuses,
        "calls": report.calls,
        "deferred": report.deferred,
        "notes": list(report.notes),
    }


@dag(
    dag_id=Path(__file__).stem,
    schedule=None if _SCHEDULE.lower() == "none" else _SCHEDULE,
    description="Hourly: poll the feeds, extract new articles, detect pairs, cluster, summarise",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["dyad", "ingest"],
    doc_md=__doc__,
    default_args={
        "retries": 2,
        "retry_delay": timedelta(minutes=1),
        "retry_exponential_backoff": True,
        "on_failure_callback": record_failure,
    },
    params={
        "feeds_file": Param(
            None,
            type=["null", "string"],
            title="Feed list",
            description="Path of a feeds.yaml to use instead of the configured one.",
        ),
    },
)
def dyad_ingest() -> None:
    planned = plan()
    reports = ingest_shard.partial(planned=planned).expand(shard=shards_of(planned))
    summarize(cluster(detect(finish(planned, reports))))


dyad_ingest()
