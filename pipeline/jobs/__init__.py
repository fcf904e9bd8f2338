"""The one place that composes Dyad's stages; called by both ``pipeline.cli`` and ``dags/``.

- ``ingest``: plan -> ingest_shard (poll, extract, detect) -> finish; ``run_ingest`` does all.
- ``summarize``: cluster the window's bilateral articles into stories, summarise each story once.
"""

from __future__ import annotations

from pipeline.jobs.ingest import (
    detect_articles,
    finish_ingest,
    ingest_shard,
    plan_ingest,
    run_ingest,
    start_ingest,
    utc_now,
)
from pipeline.jobs.summarize import SummarizeReport, summarize_stories
from pipeline.records import IngestReport

__all__ = [
    "IngestReport",
    "SummarizeReport",
    "detect_articles",
    "finish_ingest",
    "ingest_shard",
    "plan_ingest",
    "run_ingest",
    "start_ingest",
    "summarize_stories",
    "utc_now",
]
