#!/usr/bin/env bash
# `make airflow`: Airflow standalone (scheduler, DAG processor, API server, triggerer) on this
# machine with Dyad's DAGs, the dyad_llm pool and example connections. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export AIRFLOW_HOME=${AIRFLOW_HOME:-$ROOT/var/airflow-standalone}
export AIRFLOW__CORE__DAGS_FOLDER=$ROOT/dags
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__CORE__PARALLELISM=${AIRFLOW__CORE__PARALLELISM:-4}
export AIRFLOW__API__HOST=${AIRFLOW__API__HOST:-127.0.0.1}
export AIRFLOW__API__PORT=${AIRFLOW__API__PORT:-8080}
export AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL=10
export DYAD_DATA_DIR=${DYAD_DATA_DIR:-$ROOT/var}
export PATH=$ROOT/.venv/bin:$PATH  # standalone starts its components as `airflow ...`
AIRFLOW=$ROOT/.venv/bin/airflow
mkdir -p "$AIRFLOW_HOME"
"$AIRFLOW" db migrate >/dev/null
"$AIRFLOW" pools set dyad_llm 4 "concurrent LLM calls (Dyad summaries)" >/dev/null
# Example connections: a local OpenAI-compatible server (Ollama) and a local SMTP sink (Mailpit).
# Without a password on dyad_llm, Dyad keeps using its local summariser.
"$AIRFLOW" connections delete dyad_llm >/dev/null 2>&1 || true
"$AIRFLOW" connections add dyad_llm --conn-json \
  '{"conn_type": "openai", "host": "http://127.0.0.1:11434/v1", "extra": {"model": "llama3.1"}}' >/dev/null
"$AIRFLOW" connections delete smtp_default >/dev/null 2>&1 || true
"$AIRFLOW" connections add smtp_default --conn-json \
  '{"conn_type": "smtp", "host": "127.0.0.1", "port": 1025, "extra": {"disable_ssl": true, "disable_tls": true, "from_email": "dyad@localhost"}}' >/dev/null
echo "Airflow UI: http://$AIRFLOW__API__HOST:$AIRFLOW__API__PORT  (user: admin)"
echo "Password: printed by Airflow below, and kept in $AIRFLOW_HOME/simple_auth_manager_passwords.json.generated"
exec "$AIRFLOW" standalone
