"""The one place that composes Dyad's stages; the CLI (``pipeline.cli``) and the DAGs call
these functions and nothing below them.

- ``ingest``: plan -> ingest_shard (poll, extract, detect) -> finish; ``run_ingest`` does all.
- ``detection``: detection over stored articles, and marking them for a new detection.
- ``stories``: cluster the window's bilateral articles into stories, summarise each story once.
- ``digest``: build the morning digest, write its formats, deliver it exactly once.
- ``mailing``: the digest as a list (List-Id, List-Unsubscribe, footers) and its opt-outs.
- ``runs``: the clock, and failures recorded where ``dyad status`` shows them.
- ``inspect`` and ``maintain``: status, feed health, extraction and detection of given inputs;
  OPML, the schema and the offline sample.

The errors they raise are ``DyadError``s (re-exported here, with ``LLMNoSummaries``), so the
callers need nothing else.

Nothing below is imported until it is used (``__getattr__``), so ``dyad --help`` and a command
that needs one job do not pay for the others' libraries (openai, datasketch/scipy, trafilatura).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pipeline.lazy import lazy_getattr

if TYPE_CHECKING:
    from pipeline.errors import DyadError, LLMNoSummaries
    from pipeline.jobs.detection import detect_articles, detect_pending, reset_detection
    from pipeline.jobs.digest import (
        FORMATS,
        SITE_URL_UNSET,
        DeliveryReport,
        build_digest,
        load_digest,
        send_digest,
        write_outputs,
    )
    from pipeline.jobs.ingest import (
        finish_ingest,
        ingest_shard,
        plan_ingest,
        run_ingest,
        start_ingest,
    )
    from pipeline.jobs.inspect import (
        DetectOutcome,
        ExtractOutcome,
        detect_lines,
        extract_sources,
        feed_health,
        store_status,
    )
    from pipeline.jobs.mailing import (
        MailboxReport,
        list_opt_outs,
        resubscribe,
        unsubscribe,
        unsubscribe_from_mailbox,
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

_WHERE = {
    "ClusterReport": "pipeline.jobs.stories",
    "DeliveryReport": "pipeline.jobs.digest",
    "DetectOutcome": "pipeline.jobs.inspect",
    "DyadError": "pipeline.errors",
    "ExtractOutcome": "pipeline.jobs.inspect",
    "FORMATS": "pipeline.jobs.digest",
    "SITE_URL_UNSET": "pipeline.jobs.digest",
    "IngestReport": "pipeline.records",
    "LLMNoSummaries": "pipeline.errors",
    "MailboxReport": "pipeline.jobs.mailing",
    "list_opt_outs": "pipeline.jobs.mailing",
    "resubscribe": "pipeline.jobs.mailing",
    "unsubscribe": "pipeline.jobs.mailing",
    "unsubscribe_from_mailbox": "pipeline.jobs.mailing",
    "SummarizeReport": "pipeline.jobs.stories",
    "build_digest": "pipeline.jobs.digest",
    "build_sample": "pipeline.jobs.maintain",
    "check_model_outcome": "pipeline.jobs.stories",
    "cluster_window": "pipeline.jobs.stories",
    "detect_articles": "pipeline.jobs.detection",
    "detect_lines": "pipeline.jobs.inspect",
    "detect_pending": "pipeline.jobs.detection",
    "export_opml": "pipeline.jobs.maintain",
    "extract_sources": "pipeline.jobs.inspect",
    "feed_health": "pipeline.jobs.inspect",
    "finish_ingest": "pipeline.jobs.ingest",
    "import_opml": "pipeline.jobs.maintain",
    "ingest_shard": "pipeline.jobs.ingest",
    "load_digest": "pipeline.jobs.digest",
    "plan_ingest": "pipeline.jobs.ingest",
    "purge": "pipeline.jobs.maintain",
    "record_task_failure": "pipeline.jobs.runs",
    "reset_detection": "pipeline.jobs.detection",
    "run_ingest": "pipeline.jobs.ingest",
    "send_digest": "pipeline.jobs.digest",
    "start_ingest": "pipeline.jobs.ingest",
    "store_status": "pipeline.jobs.inspect",
    "summarize_stories": "pipeline.jobs.stories",
    "upgrade_store": "pipeline.jobs.maintain",
    "utc_now": "pipeline.jobs.runs",
    "write_outputs": "pipeline.jobs.digest",
}

__all__ = [
    "FORMATS",
    "SITE_URL_UNSET",
    "ClusterReport",
    "DeliveryReport",
    "DetectOutcome",
    "DyadError",
    "ExtractOutcome",
    "IngestReport",
    "LLMNoSummaries",
    "MailboxReport",
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
    "list_opt_outs",
    "load_digest",
    "plan_ingest",
    "purge",
    "record_task_failure",
    "reset_detection",
    "resubscribe",
    "run_ingest",
    "send_digest",
    "start_ingest",
    "store_status",
    "summarize_stories",
    "unsubscribe",
    "unsubscribe_from_mailbox",
    "upgrade_store",
    "utc_now",
    "write_outputs",
]


__getattr__ = lazy_getattr(__name__, _WHERE)
