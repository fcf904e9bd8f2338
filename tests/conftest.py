"""Shared fixtures: loopback servers, settings pointing at a temporary store, a fixed clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pipeline.config import Settings, load_settings
from tests.servers import LoopbackServer

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    srv = LoopbackServer()
    yield srv
    srv.close()


@pytest.fixture
def second_server() -> Iterator[LoopbackServer]:
    srv = LoopbackServer()
    yield srv
    srv.close()


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings for tests: temporary store, loopback allowed, no politeness delays, small limits."""
    http = {
        "allow_private_networks": True,
        "per_host_delay": 0.0,
        "backoff_base": 0.01,
        "deadline": 5.0,
        "connect_timeout": 2.0,
        "read_timeout": 3.0,
        **overrides.pop("http", {}),
    }
    extract = {"workers": 1, "wall_seconds": 10.0, **overrides.pop("extract", {})}
    feeds = {"unconditional_every_hours": 0, **overrides.pop("feeds", {})}
    return load_settings(
        None,
        data_dir=tmp_path / "var",
        feeds_file=tmp_path / "feeds.yaml",
        http=http,
        extract=extract,
        feeds=feeds,
        **overrides,
    )


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture(scope="session")
def sample_ingested_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The offline sample ingested once per test session (a SQLite file tests copy)."""
    from pipeline import jobs
    from pipeline.config import SAMPLE_DIR
    from pipeline.sample import build_sample

    base = tmp_path_factory.mktemp("sample-store")
    warc = build_sample(SAMPLE_DIR, base / "sample.warc.gz")
    jobs.run_ingest(make_settings(base, replay_path=warc), base / "feeds.yaml")
    return base / "var" / "dyad.db"


def copy_store(tmp_path: Path, database: Path) -> Path:
    """A private copy of a prepared SQLite store under ``tmp_path/var``."""
    import shutil

    (tmp_path / "var").mkdir(exist_ok=True)
    return Path(shutil.copy(database, tmp_path / "var" / "dyad.db"))


def write_feeds(path: Path, urls: list[str]) -> Path:
    import yaml

    path.write_text(
        yaml.safe_dump({"feeds": [{"name": f"feed {i}", "url": u} for i, u in enumerate(urls)]}),
        encoding="utf-8",
    )
    return path


def story_of(dyad: str, articles: Any) -> Any:
    """The ``Story`` of ``dyad`` made of ``articles`` (``StoryArticle`` records, oldest first)."""
    from pipeline.records import Story

    return Story(
        id=f"{dyad}-test",
        dyad=dyad,
        article_ids=tuple(a.article_id for a in articles),
        outlets=tuple(a.outlet for a in articles),
        first_seen=articles[0].published_at,
        last_seen=articles[-1].published_at,
        content_hash="h",
    )
