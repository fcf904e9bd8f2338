"""The one place that composes Dyad's stages; the CLI (``pipeline.cli``) and the DAGs call
these functions and nothing below them.

- ``ingest``: plan -> ingest_shard (poll, extract, detect) -> finish; ``run_ingest`` does all.
- ``detection``: detection over stored articles, and marking them for a new detection.
- ``stories``: cluster the window's bilateral articles into stories, summarise each story once.
- ``digest``: build the morning digest, write its formats, deliver it exactly once.
- ``runs``: the clock, and failures recorded where ``dyad status`` shows them.
- ``inspect`` and ``maintain``: status, feed health, extraction and detection of given inputs;
  OPML, the schema and the offline sample.

The errors they raise are ``DyadError``s (re-exported here, with ``LLMNoSummaries``), so the
callers need nothing else.
"""

from __future__ import annotations

from pipeline.errors import DyadError, LLMNoSummaries
from pipeline.jobs.detection import detect_articles, detect_pending, reset_detection
from pipeline.jobs.digest import (
    FORMATS,
    DeliveryReport,
    build_digest,
    load_digest,
    send_digest,
    write_outputs,
)
from pipeline.jobs.ingest import finish_ingest, ingest_shard, plan_ingest, run_ingest, start_ingest
from pipeline.jobs.inspect import (
    DetectOutcome,
    ExtractOutcome,
    detect_lines,
    extract_sources,
    feed_health,
    store_status,
)
from pipeline.jobs.maintain import build_sample, export_opml, import_opml, purge, upgrade_store
from pipeline.jobs.runs import record_task_failure, utc_now
from pipeline.jobs.stories import (
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
    "DetectOutcome",
    "DyadError",
    "ExtractOutcome",
    "IngestReport",
    "LLMNoSummaries",
    "SummarizeReport",
    "build_digest",
    "build_sample",
    "check_model_outcome",
    "cluster_window",
    "detect_articles",
    "detect_lines",
    "detect_pending",
    "export_opml",
    "extract_sources",
    "feed_health",
    "finish_ingest",
    "import_opml",
    "ingest_shard",
    "load_digest",
    "plan_ingest",
    "purge",
    "record_task_failure",
    "reset_detection",
    "run_ingest",
    "send_digest",
    "start_ingest",
    "store_status",
    "summarize_stories",
    "upgrade_store",
    "utc_now",
    "write_outputs",
]
