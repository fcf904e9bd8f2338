"""Airflow Connections for tests, in the AIRFLOW_CONN_* environment form the workers read."""

from __future__ import annotations

import json


def connection_env(llm_base_url: str, smtp_port: int) -> dict[str, str]:
    """``dyad_llm`` pointing at the OpenAI-compatible stand-in, ``smtp_default`` at aiosmtpd."""
    smtp = {
        "conn_type": "smtp",
        "host": "127.0.0.1",
        "port": smtp_port,
        "extra": {"disable_ssl": True, "disable_tls": True, "from_email": "digest@dyad.example"},
    }
    return {
        "AIRFLOW_CONN_DYAD_LLM": json.dumps(
            {"conn_type": "openai", "host": llm_base_url, "password": "sk-test"}
        ),
        "AIRFLOW_CONN_SMTP_DEFAULT": json.dumps(smtp),
    }
