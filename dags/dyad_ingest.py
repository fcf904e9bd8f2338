"""
### dyad_ingest: poll the feeds, store new articles (hourly)

1. **plan**: load the feed list (`DYAD_FEEDS_FILE` / settings, or the `feeds_file` param), upsert
   it into Dyad's store, open a run row and cut enabled feeds into shards of
   `feeds.shard_size`.
2. **ingest_shard** (mapped, one task per shard): conditional GET of each feed, parse, store
   entries, then fetch and extract the new articles' pages. Per-feed and per-article failures are
   stored by the pipeline (see `dyad feeds list`), never retried by Airflow.
3. **finish**: merge the shard reports into the run row and return the totals.

Only ids, shards and small reports travel through XCom; article text stays in the store.
Settings come from `DYAD_*` variables on the workers (or `DYAD_CONFIG`).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import Param, dag, get_current_context, task


@dag(
    dag_id=Path(__file__).stem,
    schedule="@hourly",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["dyad", "ingest"],
    doc_md=__doc__,
    default_args={
        "retries": 2,
        "retry_delay": timedelta(minutes=1),
        "retry_exponential_backoff": True,
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
    @task
    def plan() -> dict[str, Any]:
        """Sync the feed list, open the run row, return the shards."""
        from pipeline import jobs
        from pipeline.config import load_settings

        context = get_current_context()
        settings = load_settings()
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
        from pipeline.config import load_settings
        from pipeline.records import FeedShard

        report = jobs.ingest_shard(
            load_settings(), FeedShard.model_validate(shard), planned["run_id"]
        )
        return report.model_dump(mode="json")

    @task
    def finish(planned: dict[str, Any], reports: list[dict[str, Any]]) -> dict[str, Any]:
        """Close the run row; return the totals shown in the task log and XCom."""
        from datetime import datetime

        from pipeline import jobs
        from pipeline.config import load_settings
        from pipeline.records import ShardReport

        shards = [ShardReport.model_validate(r) for r in reports[:]]
        report = jobs.finish_ingest(
            load_settings(),
            planned["run_id"],
            datetime.fromisoformat(planned["started_at"]),
            shards,
        )
        return {
            "run_id": report.run_id,
            "feeds": report.feed_counts(),
            "entries": report.entry_counts(),
            "articles": report.articles.model_dump(),
        }

    planned = plan()
    reports = ingest_shard.partial(planned=planned).expand(shard=shards_of(planned))
    finish(planned, reports)


dyad_ingest()
