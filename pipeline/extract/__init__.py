"""Article pages to clean text and metadata (``pipeline.extract.page``, with trafilatura), in
worker processes isolated from pathological HTML.

``ExtractorPool`` runs extraction in worker processes (pebble) with a wall-clock limit and an
address-space limit per task; a page that stalls or eats memory kills only its worker. Its
``run`` gives other pure work the same isolation (ingest parses feeds with it). Pages with
more tags than ``max_tags`` are refused before parsing (a million ``<span>`` takes minutes).

The page work runs only in the workers: the pool sends a page's bytes and gets back a record, so
the process that opens it (the CLI, an Airflow task) never imports trafilatura, lxml's HTML
cleaner or charset_normalizer. The names of ``pipeline.extract.page`` are re-exported here and
load on first use (``__getattr__``).
"""

from __future__ import annotations

import importlib
import multiprocessing
import os
import resource
from collections.abc import Callable, Sequence
from concurrent.futures import TimeoutError as FutureTimeout
from typing import TYPE_CHECKING, Any, TypeVar, cast

import pebble

from pipeline.config import ExtractSettings
from pipeline.errors import ExtractionCrashed, ExtractionTimeout, PageTooComplex
from pipeline.lazy import lazy_getattr
from pipeline.memory import pin_mmap_threshold
from pipeline.processes import lean_context
from pipeline.records import ExtractedPage

if TYPE_CHECKING:
    from pipeline.extract.page import (
        FALLBACK_CHARS,
        FALLBACK_SHARE,
        MIN_TEXT_CHARS,
        TRAFILATURA_CONFIG,
        charset_from_content_type,
        decode_html,
        detect_codec,
        extract_article,
        extract_page,
        readable_page,
        trafilatura_document,
    )

T = TypeVar("T")
PAGE_TASK = "pipeline.extract.page:worker_extract"
"""The worker task that decodes and extracts a page (``ExtractorPool.extract``)."""

__all__ = [
    "FALLBACK_CHARS",
    "FALLBACK_SHARE",
    "MIN_TEXT_CHARS",
    "PAGE_TASK",
    "TRAFILATURA_CONFIG",
    "ExtractorPool",
    "call_named",
    "charset_from_content_type",
    "check_complexity",
    "decode_html",
    "detect_codec",
    "extract_article",
    "extract_page",
    "readable_page",
    "trafilatura_document",
]
__getattr__ = lazy_getattr(
    __name__,
    dict.fromkeys(
        (
            "FALLBACK_CHARS",
            "FALLBACK_SHARE",
            "MIN_TEXT_CHARS",
            "TRAFILATURA_CONFIG",
            "charset_from_content_type",
            "decode_html",
            "detect_codec",
            "extract_article",
            "extract_page",
            "readable_page",
            "trafilatura_document",
        ),
        "pipeline.extract.page",
    ),
)


def check_complexity(body: bytes, max_tags: int) -> None:
    """Raise ``PageTooComplex`` when the page has more than ``max_tags`` tags (counted as '<')."""
    tags = body.count(b"<")
    if tags > max_tags:
        raise PageTooComplex(f"page has {tags} tags, over the {max_tags} limit")


def _worker_init(memory_mb: int) -> None:
    limit = memory_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    pin_mmap_threshold()  # page bodies back to the system when freed (pipeline.memory)


def call_named(task: str, *args: Any) -> Any:
    """Runs in a worker: ``function(*args)`` for ``task`` = "module:function", importing the
    module there (so the process that schedules the task needs not import it)."""
    module, _, name = task.partition(":")
    return getattr(importlib.import_module(module), name)(*args)


def _allow_children() -> bool:
    """Let this process start extraction workers even when it runs as a daemonic one.

    Celery's prefork workers are daemonic, and an Airflow task runs in a process forked from
    one, so multiprocessing refuses to start children there ("daemonic processes are not allowed
    to have children"). The rule protects children from parents killed without cleanup; our
    pool is always closed (context manager), and Airflow's supervisor ends the task's whole
    process group on timeout, so the extractor workers never outlive the task. Returns whether
    the process was daemonic.
    """
    process = multiprocessing.current_process()
    if not process.daemon:
        return False
    process._config["daemon"] = False  # type: ignore[attr-defined]
    return True


class ExtractorPool:
    """Worker processes that extract pages under a wall-clock and a memory limit."""

    def __init__(self, settings: ExtractSettings, preload: Sequence[str] = ()) -> None:
        """``preload``: more modules the forkserver imports once for every worker (e.g. the
        feed parser, when ``run`` is used for feeds, or the module of a ``work`` task)."""
        self.settings = settings
        workers = settings.workers or (os.cpu_count() or 1)
        context: multiprocessing.context.BaseContext
        if _allow_children():
            # Inside a Celery worker: the forkserver cannot be started from here (it would have
            # to pickle the worker's process identity), so workers are forked directly.
            context = multiprocessing.get_context("fork")
        else:
            context = lean_context(["pipeline.extract.page", *preload])
        self._pool = pebble.ProcessPool(
            max_workers=workers,
            max_tasks=500,
            initializer=_worker_init,
            initargs=(settings.memory_mb,),
            context=context,
        )

    def extract(self, body: bytes, content_type: str | None, url: str) -> ExtractedPage:
        """Extract one page. Raises ``ExtractError`` subclasses (timeout, crash, no text ...)."""
        return cast(ExtractedPage, self.work(PAGE_TASK, body, content_type, url))

    def work(self, task: str, body: bytes, content_type: str | None, url: str, *extra: Any) -> Any:
        """Run the page task ``task`` ("module:function", imported in the worker only) on a
        fetched page and return its result. The task is called as ``function(body,
        content_type, url, max_tags, text_max_chars, *extra)`` and returns ("ok", result) or
        ("error", an ``ExtractError``), as ``pipeline.extract.page.worker_extract`` does.
        Raises that error, ``PageTooComplex`` before any worker is used, ``ExtractionTimeout``
        past ``wall_seconds`` and ``ExtractionCrashed`` when the worker died."""
        s = self.settings
        check_complexity_or_raise(body, s.max_tags, url)
        future = self._pool.schedule(
            call_named,
            args=(task, body, content_type, url, s.max_tags, s.text_max_chars, *extra),
            timeout=s.wall_seconds,
        )
        try:
            status, value = future.result()
        except FutureTimeout as exc:
            raise ExtractionTimeout(f"extraction took over {s.wall_seconds:g} s", item=url) from exc
        except pebble.ProcessExpired as exc:
            raise ExtractionCrashed(f"extractor process died ({exc})", item=url) from exc
        if status == "ok":
            return value
        value.item = value.item or url
        raise value

    def run(self, function: Callable[..., T], args: tuple[Any, ...], wall_seconds: float) -> T:
        """``function(*args)`` in a worker, under the memory limit and a ``wall_seconds`` limit
        counted from when a worker starts it (pebble's ``schedule(timeout=...)``: the worker
        is killed and replaced). Raises ``TimeoutError`` when the limit is hit,
        ``ChildProcessError`` when the worker died, else whatever ``function`` raised."""
        future = self._pool.schedule(function, args=args, timeout=wall_seconds)
        try:
            return cast(T, future.result())
        except FutureTimeout as exc:
            raise TimeoutError(f"took over {wall_seconds:g} s") from exc
        except pebble.ProcessExpired as exc:
            raise ChildProcessError(f"worker process died ({exc})") from exc

    def close(self) -> None:
        """Stop the workers."""
        self._pool.stop()
        self._pool.join(timeout=10)

    def __enter__(self) -> ExtractorPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def check_complexity_or_raise(body: bytes, max_tags: int, url: str) -> None:
    """``check_complexity`` with the page's URL on the error."""
    try:
        check_complexity(body, max_tags)
    except PageTooComplex as exc:
        exc.item = url
        raise
