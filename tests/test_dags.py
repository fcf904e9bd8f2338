"""The Airflow DAGs: they load, they are well formed, and they run end to end with dag.test()."""

from __future__ import annotations

import importlib.util
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tests.conftest import write_feeds
from tests.servers import LoopbackServer, article_html, rss

pytestmark = [pytest.mark.slow, pytest.mark.airflow]
DAGS = Path(__file__).parent.parent / "dags"


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    if importlib.util.find_spec("airflow") is None:
        pytest.skip("the airflow extra is not installed (uv sync --extra airflow)")
    home = tmp_path_factory.mktemp("airflow")
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    from airflow.utils import db

    db.resetdb()
    yield home
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


def load_dagbag() -> Any:
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def test_dags_load_without_errors_and_quickly(airflow_home: Path) -> None:
    started = time.monotonic()
    bag = load_dagbag()
    elapsed = time.monotonic() - started
    assert bag.import_errors == {}
    assert "dyad_ingest" in bag.dags
    print(f"DagBag parse of {len(bag.dags)} DAG(s): {elapsed:.2f} s")
    assert elapsed < 5


def test_ingest_dag_shape(airflow_home: Path) -> None:
    dag = load_dagbag().dags["dyad_ingest"]
    assert set(dag.task_ids) == {"plan", "shards_of", "ingest_shard", "finish"}
    assert dag.tags and dag.doc_md and dag.max_active_runs == 1 and not dag.catchup
    assert dag.get_task("ingest_shard").upstream_task_ids == {"plan", "shards_of"}
    assert dag.get_task("finish").upstream_task_ids == {"plan", "ingest_shard"}
    for task in dag.tasks:
        assert task.retries >= 1


def test_ingest_dag_runs_end_to_end(
    airflow_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    servers = [LoopbackServer(), LoopbackServer()]
    try:
        urls = []
        for n, srv in enumerate(servers):
            items = [
                {"title": f"S{n} story {i}", "link": srv.url(f"/s{i}"), "guid": f"{n}-{i}"}
                for i in range(3)
            ]
            srv.add("/feed", rss(items), content_type="application/rss+xml")
            for i in range(3):
                srv.add(
                    f"/s{i}",
                    article_html(
                        f"S{n} story {i}",
                        [
                            "Talks between the two ministers "
                            "covered trade and energy and a new agreement on border crossings."
                        ]
                        * 3,
                    ),
                    content_type="text/html",
                )
            urls.append(srv.url("/feed"))
        feeds = write_feeds(tmp_path / "feeds.yaml", urls)
        monkeypatch.setenv("DYAD_DATA_DIR", str(tmp_path / "var"))
        monkeypatch.setenv("DYAD_FEEDS_FILE", str(feeds))
        monkeypatch.setenv("DYAD_HTTP__ALLOW_PRIVATE_NETWORKS", "true")
        monkeypatch.setenv("DYAD_HTTP__PER_HOST_DELAY", "0")
        monkeypatch.setenv("DYAD_FEEDS__SHARD_SIZE", "1")
        monkeypatch.setenv("DYAD_EXTRACT__WORKERS", "1")
        dag = load_dagbag().dags["dyad_ingest"]
        run = dag.test(logical_date=None)
        assert run.state == "success"
        from pipeline.config import load_settings
        from pipeline.store.db import open_engine

        engine = open_engine(load_settings().effective_database_url)
        with engine.connect() as conn:
            articles = conn.execute(
                text("select status, count(*) from articles group by status")
            ).all()
            runs = conn.execute(text("select status, report from runs")).all()
        engine.dispose()
        assert dict(articles) == {"extracted": 6}
        assert len(runs) == 1 and runs[0][0] == "success"
        for srv in servers:
            assert len(srv.hits("/feed")) == 1
    finally:
        for srv in servers:
            srv.close()
