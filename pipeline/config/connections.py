"""Settings from connection fields: the DAG layer passes Airflow's ``dyad_llm`` and
``smtp_default`` Connections as plain dicts, so nothing here imports Airflow."""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

from pipeline.config.settings import Settings
from pipeline.errors import ConfigError

# The llm settings the ``dyad_llm`` Connection's extra may set.
LLM_CONNECTION_EXTRA = (
    "model",
    "provider",
    "structured_output",
    "timeout",
    "max_retries",
    "temperature",
    "max_output_tokens",
    "reasoning_models",
    "reasoning_output_tokens",
    "input_token_budget",
    "max_attempts",
    "retry_hours",
    "on_no_summary",
)


def with_connections(
    settings: Settings, *, llm: dict[str, Any] | None = None, smtp: dict[str, Any] | None = None
) -> Settings:
    """``settings`` with the LLM endpoint and SMTP server taken from connection fields.

    The DAG layer reads Airflow's ``dyad_llm`` and ``smtp_default`` Connections and passes their
    fields as plain dicts (host, port, login, password, extra), so this module never imports
    Airflow. ``dyad_llm``: host = base URL, password = API key, extra may set any of
    ``LLM_CONNECTION_EXTRA`` (model, provider, structured_output, ...). ``smtp_default``: host,
    port, login, password; extra from_email, disable_tls, disable_ssl (Airflow's SMTP provider
    conventions). Missing fields keep the settings' values.
    """
    llm_update = _llm_update(llm) if llm else {}
    smtp_update = _smtp_update(smtp) if smtp and smtp.get("host") else {}
    try:
        return Settings.model_validate(
            settings.model_dump()
            | {"llm": settings.llm.model_dump() | llm_update}
            | {"smtp": settings.smtp.model_dump() | smtp_update}
        )
    except ValueError as exc:
        raise ConfigError(f"invalid connection settings: {exc}") from exc


def _llm_update(conn: dict[str, Any]) -> dict[str, Any]:
    """The llm settings a ``dyad_llm`` Connection sets: host = base URL, password = API key (and
    so the OpenAI-compatible backend), extra = any of ``LLM_CONNECTION_EXTRA``."""
    extra = conn.get("extra") or {}
    update: dict[str, Any] = {key: extra[key] for key in LLM_CONNECTION_EXTRA if key in extra}
    if conn.get("host"):
        update["base_url"] = conn["host"]
    if conn.get("password"):
        update["api_key"] = SecretStr(conn["password"])
        update["backend"] = "openai"
    return update


def _smtp_update(conn: dict[str, Any]) -> dict[str, Any]:
    """The smtp settings an ``smtp_default`` Connection sets, by Airflow's SMTP provider's
    conventions: host, port, login, password; extra from_email, disable_ssl, disable_tls."""
    extra = conn.get("extra") or {}
    fields = {
        "port": int(conn["port"]) if conn.get("port") else None,
        "username": conn.get("login") or None,
        "password": SecretStr(conn["password"]) if conn.get("password") else None,
        "from_address": extra.get("from_email") or None,
    }
    ssl_off = str(extra.get("disable_ssl", "false")).lower() == "true"
    tls_off = str(extra.get("disable_tls", "false")).lower() == "true"
    security = "plain" if ssl_off and tls_off else ("starttls" if ssl_off else "tls")
    return {"host": conn["host"], "security": security} | {
        k: v for k, v in fields.items() if v is not None
    }
