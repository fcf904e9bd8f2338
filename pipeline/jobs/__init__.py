"""The one place that composes Dyad's stages; called by both ``pipeline.cli`` and ``dags/``.

- ``ingest``: plan -> ingest_shard (poll, extract, detect) -> finish; ``run_ingest`` does all.
- ``summarize``: cluster the window's bilateral articles into stories, summarise each story once.
- ``digest``: build the morning digest, write its formats, deliver it exactly once.
"""

from __future__ import annotations

from pipeline.errors import LLMNoSummaries
from pipeline.jobs.digest import (
    FORMATS,
    DeliveryReport,
    build_digest,
    load_digest,
    send_digest,
    write_outputs,
)
from pipeline.jobs.ingest import (
    detect_articles,
    detect_pending,
    finish_ingest,
    ingest_shard,
    plan_ingest,
    record_airflow_failure,
    reset_detection,
    run_ingest,
    start_ingest,
    utc_now,
)
from pipeline.jobs.summarize import (
    ClusterReport,
    SummarizeReport,
    check_model_outcome,
    cluster_window,
    summarize_stories,
)
from pipeline.records import IngestReport

__all__ = [
    "FORMATS",
    "ClusterReport",
    "DeliveryReport",
    "IngestReport",
    "LLMNoSummaries",
    "SummarizeReport",
    "build_digest",
    "check_model_outcome",
    "cluster_window",
    "detect_articles",
    "detect_pending",
    "finish_ingest",
    "ingest_shard",
    "load_digest",
    "plan_ingest",
    "record_airflow_failure",
    "reset_detection",
    "run_ingest",
    "send_digest",
    "start_ingest",
    "summarize_stories",
    "utc_now",
    "write_outputs",
]
