#!/usr/bin/env bash
# `make airflow`: Airflow standalone (scheduler, DAG processor, API server, triggerer) on this
# machine with Dyad's DAGs, the dyad_llm pool and an example dyad_llm connection. Ctrl-C stops it.
# Another port: AIRFLOW__API__PORT=8090 make airflow. `--print-env`: print the Airflow settings
# this script exports, and exit.
# SMTP: this script starts no mail server. Without DYAD_SMTP_SINK (and without Dyad's own
# smtp.* settings or AIRFLOW_CONN_SMTP_DEFAULT) digests are written as .eml files under
# $DYAD_DATA_DIR/digests/DATE; DYAD_SMTP_SINK=127.0.0.1:1025 points smtp_default at an SMTP sink
# you run yourself (e.g. Mailpit, `docker run -p 1025:1025 -p 8025:8025 axllent/mailpit`).
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
# Tasks reach the API server's Execution API at this URL; Airflow's default is
# http://localhost:8080/execution/ whatever the API port ([core] execution_api_server_url in
# Airflow's config reference), so every task would fail "connection refused" on another port.
case $AIRFLOW__API__HOST in 0.0.0.0 | "::" | "") EXECUTION_HOST=127.0.0.1 ;; *) EXECUTION_HOST=$AIRFLOW__API__HOST ;; esac
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL=${AIRFLOW__CORE__EXECUTION_API_SERVER_URL:-http://$EXECUTION_HOST:$AIRFLOW__API__PORT/execution/}
export DYAD_DATA_DIR=${DYAD_DATA_DIR:-$ROOT/var}
export PATH=$ROOT/.venv/bin:$PATH  # standalone starts its components as `airflow ...`
if [[ ${1:-} == --print-env ]]; then
  env | grep -E '^(AIRFLOW_HOME|AIRFLOW__[A-Z_]+|DYAD_DATA_DIR)=' | sort
  exit 0
fi
AIRFLOW=$ROOT/.venv/bin/airflow
mkdir -p "$AIRFLOW_HOME"
"$AIRFLOW" db migrate >/dev/null
"$AIRFLOW" pools set dyad_llm 4 "concurrent LLM calls (Dyad summaries)" >/dev/null
# Example connection: a local OpenAI-compatible server (Ollama, not started here). Without a
# password on dyad_llm, Dyad keeps using its local summariser, so it is harmless when absent.
"$AIRFLOW" connections delete dyad_llm >/dev/null 2>&1 || true
"$AIRFLOW" connections add dyad_llm --conn-json \
  '{"conn_type": "openai", "host": "http://127.0.0.1:11434/v1", "extra": {"model": "llama3.1"}}' >/dev/null
# smtp_default in this throw-away AIRFLOW_HOME is the script's: only when DYAD_SMTP_SINK is set.
"$AIRFLOW" connections delete smtp_default >/dev/null 2>&1 || true
if [[ -n ${DYAD_SMTP_SINK:-} ]]; then
  "$AIRFLOW" connections add smtp_default --conn-json \
    "{\"conn_type\": \"smtp\", \"host\": \"${DYAD_SMTP_SINK%:*}\", \"port\": ${DYAD_SMTP_SINK##*:}, \"extra\": {\"disable_ssl\": true, \"disable_tls\": true, \"from_email\": \"dyad@localhost\"}}" >/dev/null
  echo "Mail: smtp_default -> $DYAD_SMTP_SINK (no TLS, no login; start that server yourself)"
else
  echo "Mail: no smtp_default connection; Dyad's smtp.* settings apply (no host: .eml files under $DYAD_DATA_DIR/digests)"
fi
echo "Airflow UI: http://$AIRFLOW__API__HOST:$AIRFLOW__API__PORT  (user: admin)"
echo "Password: printed by Airflow below, and kept in $AIRFLOW_HOME/simple_auth_manager_passwords.json.generated"
exec "$AIRFLOW" standalone
