"""The Airflow DAGs: they load, they are well formed, and they run end to end with dag.test()."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
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
    assert set(bag.dags) == {"dyad_ingest", "dyad_digest", "dyad_backfill", "dyad_purge"}
    print(f"DagBag parse of {len(bag.dags)} DAGs: {elapsed:.2f} s")
    assert elapsed < 3


LOAD_CLI_AND_DAGS = """\
import sys
import pipeline.cli
from airflow.dag_processing.dagbag import DagBag
from tests.worker_probe import HEAVY
bag = DagBag(dag_folder={dags!r})
assert not bag.import_errors and len(bag.dags) == 4, bag.import_errors
tops = {{name.split(".")[0] for name in sys.modules}}
print(sorted(tops & {{*HEAVY, "trafilatura", "feedparser"}}))
"""


def test_loading_the_cli_and_the_dags_imports_no_job_library(airflow_home: Path) -> None:
    """The DAG processor and `dyad` load the CLI and the DAG files; the jobs' libraries (openai,
    datasketch/scipy, alembic, trafilatura, feedparser) load only inside the tasks and commands
    that use them. Airflow brings its own jinja2, pygments, rich and SQLAlchemy."""
    code = LOAD_CLI_AND_DAGS.format(dags=str(DAGS))
    done = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=DAGS.parent,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    loaded = done.stdout.strip().splitlines()[-1]
    assert loaded == "['airflow', 'jinja2', 'pygments', 'rich', 'sqlalchemy']"


@pytest.mark.parametrize(
    "dag_id, tasks, edges",
    [
        (
            "dyad_ingest",
            {"plan", "shards_of", "ingest_shard", "finish", "detect", "cluster", "summarize"},
            {
                ("plan", "shards_of"),
                ("shards_of", "ingest_shard"),
                ("plan", "ingest_shard"),
                ("ingest_shard", "finish"),
                ("plan", "finish"),
                ("finish", "detect"),
                ("detect", "cluster"),
                ("cluster", "summarize"),
            },
        ),
        (
            "dyad_digest",
            {"build", "render", "deliver", "record"},
            {
                ("build", "render"),
                ("build", "deliver"),
                ("render", "deliver"),
                ("build", "record"),
                ("deliver", "record"),
            },
        ),
        (
            "dyad_backfill",
            {"reingest", "redetect", "resummarize"},
            {("reingest", "redetect"), ("redetect", "resummarize")},
        ),
        ("dyad_purge", {"purge"}, set()),
    ],
)
def test_dag_shape(
    airflow_home: Path, dag_id: str, tasks: set[str], edges: set[tuple[str, str]]
) -> None:
    dag = load_dagbag().dags[dag_id]
    assert set(dag.task_ids) == tasks
    found = {(up, t.task_id) for t in dag.tasks for up in t.upstream_task_ids}
    assert found == edges
    assert dag.tags and dag.doc_md and dag.max_active_runs == 1 and not dag.catchup
    for task in dag.tasks:
        assert task.retries >= 1 and task.on_failure_callback
    if dag_id == "dyad_ingest":
        assert dag.get_task("summarize").pool == "dyad_llm"
        assert [o.name for o in dag.get_task("summarize").outlets] == ["dyad://stories"]


STORY = [
    "India and Russia agreed on new reactors at Kudankulam during the foreign minister's visit to Moscow.",
    "Subrahmanyam Jaishankar met Sergey Lavrov and discussed oil payments in national currencies.",
    "Washington has criticised India's purchases of Russian crude oil.",
]


def serve_feeds(broken: bool) -> tuple[list[LoopbackServer], list[str]]:
    servers = [LoopbackServer(), LoopbackServer(), LoopbackServer()]
    urls = []
    for n, srv in enumerate(servers[:2]):
        items = [
            {
                "title": f"India and Russia sign reactor deal (outlet {n})",
                "link": srv.url("/a"),
                "guid": f"{n}-a",
            },
            {"title": f"Floods hit Kenya (outlet {n})", "link": srv.url("/b"), "guid": f"{n}-b"},
        ]
        srv.add("/feed", rss(items), content_type="application/rss+xml")
        srv.add(
            "/a",
            article_html("India and Russia sign reactor deal", STORY),
            content_type="text/html",
        )
        srv.add(
            "/b",
            article_html("Floods hit Kenya", ["Heavy rain fell in Garissa county for days."] * 3),
            content_type="text/html",
        )
        urls.append(srv.url("/feed"))
    if broken:
        servers[2].add("/feed", "down", status=500)
        urls.append(servers[2].url("/feed"))
    return servers, urls


def test_ingest_then_digest_end_to_end(
    airflow_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import email
    import json
    import socket
    from datetime import UTC, datetime, timedelta
    from email import policy

    import jsonschema
    from aiosmtpd.controller import Controller

    from pipeline.digest.model import DIGEST_SCHEMA_FILE
    from tests.airflow_env import connection_env
    from tests.llm_server import FakeLLM
    from tests.test_digest import Inbox

    servers, urls = serve_feeds(broken=True)
    llm = FakeLLM()
    inbox = Inbox()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        smtp_port = sock.getsockname()[1]
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    try:
        feeds = write_feeds(tmp_path / "feeds.yaml", urls)
        env = {
            "DYAD_DATA_DIR": str(tmp_path / "var"),
            "DYAD_FEEDS_FILE": str(feeds),
            "DYAD_HTTP__ALLOW_PRIVATE_NETWORKS": "true",
            "DYAD_HTTP__PER_HOST_DELAY": "0",
            "DYAD_HTTP__RETRIES": "0",
            "DYAD_FEEDS__SHARD_SIZE": "2",
            "DYAD_EXTRACT__WORKERS": "1",
            "DYAD_LLM__MAX_RETRIES": "0",
            # the first run's only story fails at the model: by default that fails the task
            # (tests/test_llm_servers.py); here the run goes on to the digest
            "DYAD_LLM__ON_NO_SUMMARY": "warn",
            "DYAD_RECIPIENTS": json.dumps(
                [
                    {"address": "analyst@example.org"},
                    {"address": "desk@example.org", "follow": ["IN-*"]},
                    {"address": "africa@example.org", "follow": ["KE-*"]},
                ]
            ),
            **connection_env(llm.base_url, smtp_port),
        }
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        llm.script("500")  # the first story's call fails: the local summariser fills in
        bag = load_dagbag()
        run = bag.dags["dyad_ingest"].test(logical_date=None)
        assert run.state == "success"
        assert len(llm.requests) == 1  # one story (two outlets), one call

        from pipeline.config import load_settings
        from pipeline.store.db import open_engine

        engine = open_engine(load_settings().effective_database_url)
        with engine.connect() as conn:
            stories = conn.execute(text("select dyad, article_count from stories")).all()
            summary = conn.execute(text("select status, record from summaries")).one()
        engine.dispose()
        assert stories == [("IN-RU", 2)] and summary[0] == "local"

        day = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
        conf = {"date": day, "days": 3}
        run = bag.dags["dyad_digest"].test(logical_date=None, run_conf=conf)
        assert run.state == "success"
        record = json.loads((tmp_path / "var" / "digests" / day / f"digest-{day}.json").read_text())
        jsonschema.validate(record, json.loads(DIGEST_SCHEMA_FILE.read_text()))
        assert [d["dyad"] for d in record["dyads"]] == ["IN-RU"]
        assert any("feed 2" in name for name in record["ledger"]["feeds_failed"])
        assert record["ledger"]["summaries_local"] == 1
        recipients = sorted(r for rcpts, _ in inbox.messages for r in rcpts)
        assert recipients == [
            "analyst@example.org",
            "desk@example.org",
        ]  # africa follows nothing new
        message = email.message_from_bytes(inbox.messages[0][1], policy=policy.default)
        assert "India" in message.get_body(("html",)).get_content()

        run = bag.dags["dyad_digest"].test(logical_date=None, run_conf=conf)
        assert run.state == "success" and len(inbox.messages) == 2  # never twice

        llm.script()  # healthy now: the next ingest summarises the story with the model
        run = bag.dags["dyad_ingest"].test(logical_date=None)
        assert run.state == "success" and len(llm.requests) == 2
        run = bag.dags["dyad_ingest"].test(logical_date=None)
        assert run.state == "success" and len(llm.requests) == 2  # nothing new: no call
    finally:
        controller.stop()
        llm.close()
        for srv in servers:
            srv.close()


def test_make_run_script_is_green_and_idempotent(tmp_path: Path) -> None:
    """What `make run` runs: both DAGs over the offline sample through Airflow, twice."""
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "DYAD_"))}
    env |= {"AIRFLOW_HOME": str(tmp_path / "airflow"), "DYAD_DATA_DIR": str(tmp_path / "var")}
    script = Path(__file__).parent.parent / "scripts" / "airflow_sample.py"
    outputs = []
    for _ in range(2):
        result = subprocess.run(
            [sys.executable, str(script)],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        outputs.append(result.stdout)
    for out in outputs:
        assert "dyad_ingest: success; dyad_digest: success" in out
        assert "73 articles, 6 feeds" in out
    digests = tmp_path / "var" / "digests" / "2026-11-25"
    assert len(list(digests.glob("*.eml"))) == 1
    record = json.loads((digests / "digest-2026-11-25.json").read_text())
    assert len(record["dyads"]) == 23  # the sample's 23 pairs (28 stories, local summaries)


def test_backfill_redetects_and_resummarizes_a_range(
    airflow_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import text as sql

    servers, urls = serve_feeds(broken=False)
    try:
        feeds = write_feeds(tmp_path / "feeds.yaml", urls)
        for key, value in {
            "DYAD_DATA_DIR": str(tmp_path / "var"),
            "DYAD_FEEDS_FILE": str(feeds),
            "DYAD_HTTP__ALLOW_PRIVATE_NETWORKS": "true",
            "DYAD_HTTP__PER_HOST_DELAY": "0",
            "DYAD_EXTRACT__WORKERS": "1",
        }.items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("AIRFLOW_CONN_DYAD_LLM", raising=False)
        bag = load_dagbag()
        assert bag.dags["dyad_ingest"].test(logical_date=None).state == "success"
        today = datetime.now(UTC).date()
        conf = {
            "since": (today - timedelta(days=1)).isoformat(),
            "until": today.isoformat(),
            "force": True,
        }
        assert bag.dags["dyad_backfill"].test(logical_date=None, run_conf=conf).state == "success"
        from pipeline.config import load_settings
        from pipeline.store.db import open_engine

        engine = open_engine(load_settings().effective_database_url)
        with engine.connect() as conn:
            versions = conn.execute(
                sql("select count(*) from articles where gazetteer_version is null")
            ).scalar()
            summaries = conn.execute(sql("select count(*) from summaries")).scalar()
        engine.dispose()
        assert versions == 0 and summaries == 1
    finally:
        for srv in servers:
            srv.close()


def test_failure_callback_records_the_failed_task(tmp_path: Path) -> None:
    from pipeline.config import load_settings
    from pipeline.jobs import record_task_failure
    from pipeline.store.db import open_engine
    from pipeline.store.status import status_report

    settings = load_settings(None, data_dir=tmp_path / "var")
    record_task_failure(
        settings,
        dag_id="dyad_ingest",
        run_id="manual__1",
        task_id="plan",
        error="StoreError: database unreachable",
    )
    engine = open_engine(settings.effective_database_url)
    from pipeline.jobs import utc_now

    report = status_report(engine, utc_now(), timedelta(days=7))
    engine.dispose()
    assert report["Recent runs"][0]["status"] == "failed"
    assert report["Recent runs"][0]["kind"] == "airflow"
    assert ("airflow", "error") in {
        (f["stage"], f["kind"]) for f in report["Failures in the last 7 days"]
    }


def test_digest_schedule_follows_the_settings(
    airflow_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    config = tmp_path / "dyad.yaml"
    config.write_text('digest:\n  send_time: "06:30"\n  timezone: Europe/Berlin\n')
    monkeypatch.setenv("DYAD_CONFIG", str(config))
    monkeypatch.delenv("DYAD_DIGEST_SCHEDULE", raising=False)
    monkeypatch.delenv("DYAD_DIGEST__SEND_TIME", raising=False)
    timetable = load_dagbag().dags["dyad_digest"].timetable
    assert (timetable.expression, str(timetable.timezone)) == ("30 6 * * *", "Europe/Berlin")

    monkeypatch.setenv("DYAD_DIGEST_SCHEDULE", "none")
    bag = load_dagbag()
    assert bag.import_errors == {} and type(bag.dags["dyad_digest"].timetable).__name__ == (
        "NullTimetable"
    )

    monkeypatch.setenv("DYAD_DIGEST_SCHEDULE", "0 5 * * *")  # a cron of its own would drift
    bag = load_dagbag()
    assert "dyad_digest" not in bag.dags
    assert any("only 'none'" in str(e) for e in bag.import_errors.values())

    monkeypatch.delenv("DYAD_DIGEST_SCHEDULE")
    config.write_text("digest: [broken\n")  # unreadable settings: the environment, with a warning
    monkeypatch.setenv("DYAD_DIGEST__SEND_TIME", "05:15")
    with caplog.at_level("WARNING", logger="dyad_airflow"):
        timetable = load_dagbag().dags["dyad_digest"].timetable
    assert timetable.expression == "15 5 * * *"
    assert "settings could not be loaded" in caplog.text


def test_dags_have_descriptions_and_documented_optional_params(airflow_home: Path) -> None:
    bag = load_dagbag()
    for dag_id, dag in bag.dags.items():
        assert dag.description, dag_id
        for name in dag.params:
            param = dag.params.get_param(name)
            assert param.schema.get("title") and param.description, (dag_id, name)
        dag.params.validate()  # the trigger form opens with no "This field is required"
    formats = bag.dags["dyad_digest"].params.get_param("formats").schema
    # Airflow's form renders a multi-select for an array with `examples` or `enum`
    assert formats["examples"] == formats["items"]["enum"] == ["json", "md", "html", "atom"]
    assert "null" in formats["type"] and "array" in formats["type"]


def test_scheduled_digest_without_recipients_is_skipped_with_a_warning(
    airflow_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    monkeypatch.setenv("DYAD_DATA_DIR", str(tmp_path / "var"))
    for key in ("DYAD_RECIPIENTS", "DYAD_CONFIG", "AIRFLOW_CONN_SMTP_DEFAULT"):
        monkeypatch.delenv(key, raising=False)
    with caplog.at_level("WARNING"):
        run = load_dagbag().dags["dyad_digest"].test(logical_date=None)
    assert run.state == "success"
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states == {
        "build": "success",
        "render": "success",
        "deliver": "skipped",
        "record": "success",
    }
    assert "no recipients: the digest was built and rendered but mailed to no one" in caplog.text
    assert not list((tmp_path / "var" / "digests").glob("*/*.eml"))


def test_make_airflow_points_the_execution_api_at_the_chosen_port(tmp_path: Path) -> None:
    """The script as `make airflow` runs it, with a stand-in `airflow` that records the
    environment `airflow standalone` would get (nothing is started)."""
    import shutil
    import subprocess

    root = Path(__file__).parent.parent
    (tmp_path / "scripts").mkdir()
    shutil.copy(root / "scripts" / "airflow_standalone.sh", tmp_path / "scripts")
    stub = tmp_path / ".venv" / "bin" / "airflow"
    stub.parent.mkdir(parents=True)
    stub.write_text('#!/bin/sh\n[ "$1" = standalone ] && env | grep "^AIRFLOW__" | sort\nexit 0\n')
    stub.chmod(0o755)
    env = {"PATH": "/usr/bin:/bin", "AIRFLOW__API__PORT": "8093"}
    result = subprocess.run(
        ["bash", str(tmp_path / "scripts" / "airflow_standalone.sh")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    lines = result.stdout.splitlines()
    assert "AIRFLOW__API__PORT=8093" in lines
    assert "AIRFLOW__CORE__EXECUTION_API_SERVER_URL=http://127.0.0.1:8093/execution/" in lines
    assert "Mail: no smtp_default connection" in result.stdout  # no Mailpit is assumed
