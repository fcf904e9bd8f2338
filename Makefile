# Dyad's commands. Needs only python3 on PATH: uv is installed into .tools/ when it is missing.
SHELL := /bin/bash
.DEFAULT_GOAL := help

UV := $(shell command -v uv 2>/dev/null)
ifeq ($(UV),)
UV := $(CURDIR)/.tools/bin/uv
endif
VENV := $(CURDIR)/.venv
SYNCED := $(VENV)/.dyad-synced
export UV_COMPILE_BYTECODE := 1
export PYTHONDONTWRITEBYTECODE :=

.PHONY: help run test lint format bench sync clean

help: ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(CURDIR)/.tools/bin/uv:
	python3 -m venv $(CURDIR)/.tools
	$(CURDIR)/.tools/bin/python -m pip install --quiet --disable-pip-version-check uv

$(SYNCED): uv.lock pyproject.toml | $(UV)
	$(UV) sync --locked --extra airflow --compile-bytecode
	@touch $@

sync: $(SYNCED) ## install the locked environment into .venv

run: $(SYNCED) ## ingest and summarise the bundled offline sample, and say where the results are
	$(VENV)/bin/dyad db upgrade
	$(VENV)/bin/dyad run --sample
	@echo
	@echo "Stored in var/dyad.db (SQLite): articles, stories, summaries. See .venv/bin/dyad status"

test: $(SYNCED) ## run the whole test suite (unit and end-to-end, real loopback servers)
	$(VENV)/bin/pytest

lint: $(SYNCED) ## ruff format check, ruff lint, mypy
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

format: $(SYNCED) ## apply ruff format and safe fixes
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: $(SYNCED) ## print ingest and detection figures (throughput, memory, quality)
	$(VENV)/bin/python bench/bench_ingest.py
	$(VENV)/bin/python bench/bench_detect.py
	$(VENV)/bin/python bench/bench_summarize.py

clean: ## remove the environment and local data
	rm -rf $(VENV) .tools var .pytest_cache .mypy_cache .ruff_cache
