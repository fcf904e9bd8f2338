"""Errors: each pickles as itself, and ``retryable`` alone decides whether an item is retried."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime

import pytest

from pipeline import errors
from pipeline.extract.page import worker_extract as _worker_extract


def every_error_class() -> list[type[errors.DyadError]]:
    found, todo = [], [errors.DyadError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


SPECIAL = {
    errors.HTTPStatusError: {"status": 503},
    errors.HostDeferred: {"not_before": datetime(2026, 12, 4, tzinfo=UTC)},
    errors.LLMRateLimited: {"retry_after": 30.0},
    errors.FetchTimeout: {"during_connect": True},
}


@pytest.mark.parametrize("cls", every_error_class(), ids=lambda c: c.__name__)
def test_every_error_pickles_as_itself(cls: type[errors.DyadError]) -> None:
    try:
        error = cls("it broke", item="https://example.org/a", **SPECIAL.get(cls, {}))
    except TypeError:
        error = cls("it broke", **SPECIAL.get(cls, {}))  # type: ignore[call-arg]
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is cls and str(copy) == str(error) and copy.kind == error.kind
    assert copy.retryable == error.retryable and copy.__dict__ == error.__dict__


def test_retryable_is_the_one_rule() -> None:
    assert errors.HTTPStatusError("x", status=503).retryable
    assert not errors.HTTPStatusError("x", status=404).retryable
    assert errors.RobotsUnavailable("x").retryable  # RFC 9309: disallow for now, ask later
    assert not errors.BlockedByRobots("x").retryable
    assert errors.MailDeferred("x").retryable and not errors.MailRejected("x").retryable


def test_an_extractor_crash_is_named_a_crash_not_no_text() -> None:
    status, error = _worker_extract(None, "text/html", "https://example.org/a", 100, 1000)  # type: ignore[arg-type]
    assert status == "error" and isinstance(error, errors.ExtractionCrashed)
    assert "extractor crashed" in error.message
