"""The production deployment files: checked without a Docker engine (none runs here)."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).parent.parent
COMPOSE = ROOT / "docker" / "docker-compose.yaml"
SECRET_WORDS = re.compile(r"PASSWORD|SECRET|FERNET|TOKEN|API_KEY|CONN_", re.I)
DUMMY = {
    "POSTGRES_PASSWORD": "x",
    "AIRFLOW_FERNET_KEY": "x",
    "AIRFLOW_JWT_SECRET": "x",
    "DYAD_HTTP__CONTACT_URL": "mailto:ops@example.org",
}


def compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load(COMPOSE.read_text())


def test_services_health_checks_and_pinned_images() -> None:
    services = compose()["services"]
    assert set(services) == {
        "postgres",
        "redis",
        "mailpit",
        "airflow-init",
        "airflow-apiserver",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-triggerer",
        "airflow-worker",
        "airflow-worker-llm",
    }
    for name, service in services.items():
        check = service.get("healthcheck", {})
        if name == "airflow-init":
            assert check.get("disable") is True  # one-shot container
        else:
            assert check.get("test"), f"{name} has no health check"
        image = service.get("image", "")
        assert re.fullmatch(r"[\w./-]+:[\w.-]+", image), f"{name}: image {image!r} is not pinned"
        assert not image.endswith(":latest")
    worker_llm = services["airflow-worker-llm"]
    assert (
        "-q llm" in worker_llm["command"] and worker_llm["environment"]["DYAD_LLM_QUEUE"] == "llm"
    )
    assert set(compose()["volumes"]) == {"postgres-data", "airflow-logs", "dyad-data"}


def test_no_secret_is_written_in_the_compose_file() -> None:
    for name, service in compose()["services"].items():
        for key, value in (service.get("environment") or {}).items():
            text = str(value)
            if SECRET_WORDS.search(key):
                assert text == "" or text.startswith("${") or text.startswith("'${"), (name, key)
            assert not re.search(r"://[^:/@${}]+:[^@${}]+@", text), (
                f"{name}.{key} has inline credentials"
            )


def test_every_variable_is_listed_in_env_example() -> None:
    used = set(re.findall(r"(?<!\$)\$\{([A-Z0-9_]+)", COMPOSE.read_text()))  # $${X}: in-container
    listed = set(re.findall(r"^([A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert used - listed == set(), f"missing from .env.example: {used - listed}"


def test_dockerfile_pins_the_locked_airflow_and_runs_as_airflow() -> None:
    dockerfile = (ROOT / "docker" / "Dockerfile").read_text()
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    pinned = next(d for d in extra["airflow"] if d.startswith("apache-airflow=="))
    assert f"ARG AIRFLOW_VERSION={pinned.split('==')[1]}" in dockerfile
    assert dockerfile.rstrip().splitlines()[-1] == "USER airflow"
    assert not re.search(r"^ENV .*(PASSWORD|SECRET|KEY)=", dockerfile, re.M)


@pytest.mark.skipif(shutil.which("uv") is None, reason="uv is not on PATH")
def test_requirements_match_the_lock_file() -> None:
    exported = subprocess.run(
        [
            "uv",
            "export",
            "--frozen",
            "--no-dev",
            "--no-hashes",
            "--no-emit-project",
            "--extra",
            "postgres",
            "-q",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout

    def pins(text: str) -> list[str]:
        return [line for line in text.splitlines() if line and not line.lstrip().startswith("#")]

    assert pins(exported) == pins((ROOT / "docker" / "requirements.txt").read_text()), (
        "docker/requirements.txt is stale: uv export --frozen --no-dev --no-hashes "
        "--no-emit-project --extra postgres -o docker/requirements.txt"
    )


@pytest.mark.skipif(
    shutil.which("docker-compose") is None,
    reason="no docker-compose client (Debian: apt-get install docker-compose)",
)
def test_docker_compose_config_validates() -> None:
    import os

    result = subprocess.run(
        ["docker-compose", "-f", str(COMPOSE), "config", "-q"],
        env=os.environ | DUMMY,
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    missing = subprocess.run(
        ["docker-compose", "-f", str(COMPOSE), "config", "-q"],
        env={"PATH": os.environ["PATH"]},
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode != 0 and "POSTGRES_PASSWORD" in missing.stderr
