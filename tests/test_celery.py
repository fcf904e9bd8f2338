"""Airflow on Celery, for real: PostgreSQL metadata and store, Redis broker, separate processes.

Starts, from the project environment, the API server, the scheduler, the DAG processor and two
Celery workers (one serving only the ``llm`` queue), triggers ``dyad_ingest`` then
``dyad_digest`` through the REST API over the offline sample, with the OpenAI-compatible
stand-in and aiosmtpd on loopback, waits for success, and checks which worker ran what and
that the digest was delivered once. Every process it starts is stopped at the end.
Skipped, with the reason, when PostgreSQL or Redis is not reachable on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.airflow, pytest.mark.postgres]

ROOT = Path(__file__).parent.parent
PG = os.environ.get("DYAD_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS = ("127.0.0.1", 6379)


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def admin_engine() -> Any:
    from sqlalchemy import create_engine

    return create_engine(PG, isolation_level="AUTOCOMMIT")


@pytest.fixture
def databases() -> Iterator[tuple[str, str]]:
    """Two fresh PostgreSQL databases: Airflow's metadata and Dyad's store."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    if not reachable("127.0.0.1", 5432):
        pytest.skip("no PostgreSQL on 127.0.0.1:5432")
    if not reachable(*REDIS):
        pytest.skip("no Redis on 127.0.0.1:6379")
    suffix = secrets.token_hex(4)
    names = (f"dyad_af_{suffix}", f"dyad_store_{suffix}")
    engine = admin_engine()
    try:
        with engine.connect() as conn:
            for name in names:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        pytest.skip(f"cannot create databases on {PG}: {exc}")
    base = make_url(PG)
    yield (
        base.set(drivername="postgresql+psycopg2", database=names[0]).render_as_string(False),
        base.set(drivername="postgresql+psycopg", database=names[1]).render_as_string(False),
    )
    with engine.connect() as conn:
        for name in names:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


class Stack:
    """The Airflow processes of one test, each in its own process group."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.env = env
        self.logs = logs
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def airflow(self, *args: str, timeout: float = 180) -> None:
        subprocess.run(
            [str(ROOT / ".venv" / "bin" / "airflow"), *args],
            env=self.env,
            check=True,
            capture_output=True,
            timeout=timeout,
        )

    def start(self, name: str, *args: str, extra_env: dict[str, str] | None = None) -> None:
        log = (self.logs / f"{name}.log").open("wb")
        self.procs[name] = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "airflow"), *args],
            env=self.env | (extra_env or {}),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for proc in self.procs.values():
            try:
                proc.wait(timeout=max(1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)

    def tail(self) -> str:
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-1500:]}"
            for p in sorted(self.logs.glob("*.log"))
        )


def api(base: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(
        base + path,
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def wait_for(check: Any, timeout: float, what: str, stack: Stack) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = check()
        except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
            result = None
        if result:
            return result
        time.sleep(2)
    pytest.fail(f"timed out waiting for {what}\n{stack.tail()}")


def run_dag(base: str, dag_id: str, conf: dict[str, Any], stack: Stack) -> str:
    run_id = f"test-{dag_id}-{secrets.token_hex(3)}"
    api(
        base,
        "POST",
        f"/api/v2/dags/{dag_id}/dagRuns",
        {"dag_run_id": run_id, "logical_date": None, "conf": conf},
    )

    def finished() -> str | None:
        state = api(base, "GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")["state"]
        return state if state in ("success", "failed") else None

    state = wait_for(finished, 300, f"{dag_id} run", stack)
    assert state == "success", f"{dag_id} ended {state}\n{stack.tail()}"
    return run_id


@pytest.mark.timeout(600)
def test_ingest_and_digest_on_two_celery_workers(
    databases: tuple[str, str], tmp_path: Path
) -> None:
    import importlib.util

    # find_spec, not import: importing Airflow here would fix its configuration for the whole
    # test process (other tests configure it before their first import).
    if importlib.util.find_spec("airflow") is None or importlib.util.find_spec("celery") is None:
        pytest.skip("the airflow extra (with the Celery provider) is not installed")
    from aiosmtpd.controller import Controller

    from pipeline.config import SAMPLE_DIR
    from pipeline.sample import build_sample
    from tests.airflow_env import connection_env
    from tests.llm_server import FakeLLM
    from tests.test_digest import Inbox

    airflow_db, store_db = databases
    warc = build_sample(SAMPLE_DIR, tmp_path / "sample" / "sample.warc.gz")
    llm, inbox = FakeLLM(), Inbox()
    smtp_port, api_port = free_port(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    redis_db = str(int(secrets.token_hex(1), 16) % 14 + 1)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "DYAD_"))}
    env |= {
        "PATH": f"{ROOT / '.venv' / 'bin'}:{env.get('PATH', '')}",
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": airflow_db,
        "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:6379/{redis_db}",
        "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + airflow_db,
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__PARALLELISM": "8",
        "AIRFLOW__CORE__FERNET_KEY": "",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__CORE__HOSTNAME_CALLABLE": "dyad_airflow.worker_name",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(40),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "DYAD_DATABASE_URL": store_db,
        "DYAD_DATA_DIR": str(tmp_path / "var"),
        "DYAD_REPLAY_PATH": str(warc),
        "DYAD_FEEDS_FILE": str(warc.parent / "feeds.yaml"),
        "DYAD_EXTRACT__WORKERS": "1",
        "DYAD_LLM_QUEUE": "llm",
        "DYAD_INGEST_SCHEDULE": "none",
        "DYAD_DIGEST_SCHEDULE": "none",
        "DYAD_RECIPIENTS": json.dumps([{"address": "analyst@example.org"}]),
        **connection_env(llm.base_url, smtp_port),
    }
    logs = tmp_path / "logs"
    logs.mkdir()
    stack = Stack(env, logs)
    base = f"http://127.0.0.1:{api_port}"
    try:
        stack.airflow("db", "migrate")
        stack.airflow("pools", "set", "dyad_llm", "2", "LLM calls")
        stack.start("api-server", "api-server")
        stack.start("scheduler", "scheduler")
        stack.start("dag-processor", "dag-processor")
        stack.start(
            "worker-default",
            "celery",
            "worker",
            "-q",
            "default",
            "-c",
            "2",
            "-s",
            "-H",
            "default@%h",
            extra_env={"DYAD_WORKER_NAME": "worker-default"},
        )
        stack.start(
            "worker-llm",
            "celery",
            "worker",
            "-q",
            "llm",
            "-c",
            "1",
            "-s",
            "-H",
            "llm@%h",
            extra_env={"DYAD_WORKER_NAME": "worker-llm"},
        )
        wait_for(
            lambda: api(base, "GET", "/api/v2/monitor/health")["scheduler"]["status"] == "healthy",
            120,
            "a healthy scheduler",
            stack,
        )
        wait_for(
            lambda: all(
                api(base, "GET", f"/api/v2/dags/{d}") for d in ("dyad_ingest", "dyad_digest")
            ),
            120,
            "the DAGs to be parsed",
            stack,
        )

        ingest_run = run_dag(base, "dyad_ingest", {}, stack)
        run_dag(base, "dyad_digest", {"date": "2026-11-25", "days": 30}, stack)

        instances = api(base, "GET", f"/api/v2/dags/dyad_ingest/dagRuns/{ingest_run}/taskInstances")
        where = {ti["task_id"]: (ti["hostname"], ti["queue"]) for ti in instances["task_instances"]}
        assert where["summarize"] == ("worker-llm", "llm"), where
        assert where["plan"][0] == "worker-default" and where["ingest_shard"][0] == "worker-default"
        # one call per story, made from the llm worker: the sample's 28 bilateral stories and
        # the 3 candidate stories the model is asked to confirm
        assert len(llm.requests) == 31
        assert [rcpts for rcpts, _ in inbox.messages] == [["analyst@example.org"]]
    finally:
        stack.stop()
        controller.stop()
        llm.close()
    assert all(p.poll() is not None for p in stack.procs.values())


@pytest.fixture(autouse=True)
def _python_is_the_project_venv() -> None:
    if (
        Path(sys.executable).parent != ROOT / ".venv" / "bin"
        and not (ROOT / ".venv" / "bin" / "airflow").exists()
    ):
        pytest.skip("needs the project's .venv (make test creates it)")
