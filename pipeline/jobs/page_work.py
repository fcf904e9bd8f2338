"""Ingest's work on one fetched page, run in an extraction worker: decode and extract it, then
run bilateral-relations detection on what was extracted, and hand back one record to store.

Both steps are pure, so the process that fetches and stores (the CLI, an Airflow task) only
sends a page's bytes and stores the record it gets back; trafilatura and the detection model
load in the workers only. Detection reads what detection in the main process would read after
the extraction was stored (``pipeline.jobs.detection.detect_articles``): the page's title, else
the article's stored title, the extracted text and the article's stored publication date, with
the same gazetteer, model and thresholds, so the result is the same. A detection that fails
here returns no result and the article is detected by ``detect_articles`` after the pages.

The records here are what the main process creates and unpickles, so this module imports
neither trafilatura nor the detection model at load: the task imports them where it runs (the
forkserver has them preloaded, ``WORKER_PRELOAD``).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pipeline.records import DyadDetection, ExtractedPage

log = logging.getLogger("dyad.jobs")

PAGE_WORK_TASK = "pipeline.jobs.page_work:extract_and_detect"
"""The task name ``ExtractorPool.work`` runs in a worker."""


@dataclass(frozen=True)
class DetectInput:
    """What detection needs besides the page: the article's stored title and date, and the
    threshold overrides of the settings (None: the model's own)."""

    title: str
    published_at: datetime | None
    candidate_threshold: float | None
    final_threshold: float | None


@dataclass(frozen=True)
class PageWork:
    """A page's extraction, the hash of its text and (when asked for and made) its detection."""

    page: ExtractedPage
    content_hash: str
    detection: DyadDetection | None


def text_hash(text: str) -> str:
    """The stored ``content_hash`` of an extracted text (SHA-256, 32 hex digits)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def detect_page(page: ExtractedPage, given: DetectInput) -> DyadDetection | None:
    """Detection on an extracted page as ``detect_articles`` would make it once the page is
    stored; None when detection itself failed (it is then made after the pages)."""
    from pipeline.detect import detect_dyads, load_gazetteer  # the worker's (forkserver preload)

    try:
        return detect_dyads(
            page.title or given.title,
            page.text,
            given.published_at,
            gaz=load_gazetteer(),  # cached for the worker's life
            candidate_threshold=given.candidate_threshold,
            final_threshold=given.final_threshold,
        )
    except Exception:  # a detection bug must not cost the extraction
        log.exception("detection failed in the extraction worker for %s", page.url)
        return None


def extract_and_detect(
    body: bytes,
    content_type: str | None,
    url: str,
    max_tags: int,
    text_max_chars: int,
    detect: DetectInput | None,
) -> tuple[str, Any]:
    """Runs in a worker: ("ok", ``PageWork``) or ("error", the ``ExtractError``), never raises
    (``pipeline.extract.page.worker_extract``); detection only when ``detect`` is given."""
    from pipeline.extract.page import worker_extract  # the worker's (forkserver preload)

    status, value = worker_extract(body, content_type, url, max_tags, text_max_chars)
    if status != "ok":
        return status, value
    detection = detect_page(value, detect) if detect is not None else None
    return "ok", PageWork(value, text_hash(value.text), detection)
