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

.PHONY: help run run-cli airflow test test-llamacpp lint format bench sync clean screenshots train-detect

help: ## list the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(CURDIR)/.tools/bin/uv:
	python3 -m venv $(CURDIR)/.tools
	$(CURDIR)/.tools/bin/python -m pip install --quiet --disable-pip-version-check uv

$(SYNCED): uv.lock pyproject.toml | $(UV)
	$(UV) sync --locked --extra airflow --compile-bytecode
	@touch $@

sync: $(SYNCED) ## install the locked environment into .venv

# The offline sample's stories run from 2 to 24 November 2026: its digest is the one sent on the
# 25th, covering 30 days.
SAMPLE_DIGEST := --date 2026-11-25 --days 30

run: $(SYNCED) ## the whole pipeline on the offline sample, through Airflow; prints the digest's paths
	$(VENV)/bin/dyad db upgrade
	$(VENV)/bin/python scripts/airflow_sample.py

run-cli: $(SYNCED) ## the same pipeline without Airflow (dyad run, digest, send)
	$(VENV)/bin/dyad db upgrade
	$(VENV)/bin/dyad run --sample
	$(VENV)/bin/dyad digest $(SAMPLE_DIGEST)
	$(VENV)/bin/dyad send $(SAMPLE_DIGEST) --to reader@example.org

airflow: $(SYNCED) ## Airflow standalone with Dyad's DAGs, pool and example connections
	scripts/airflow_standalone.sh

screenshots: $(SYNCED) ## PNGs of the sample email at 360 and 1200 px and a thread page (needs chromium)
	@command -v chromium >/dev/null || { echo "needs Debian's chromium: apt-get install chromium"; exit 1; }
	$(VENV)/bin/dyad digest $(SAMPLE_DIGEST) --format html
	mkdir -p var/screenshots
	for width in 360 1200; do \
	  chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
	    --disable-background-networking --disable-component-update --disable-sync \
	    --user-data-dir=$$(mktemp -d) --hide-scrollbars --window-size=$$width,2400 \
	    --screenshot=var/screenshots/digest-$$width.png \
	    file://$(CURDIR)/var/digests/2026-11-25/digest-2026-11-25.html; \
	done
	$(VENV)/bin/dyad digest $(SAMPLE_DIGEST) >/dev/null
	chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
	  --disable-background-networking --disable-component-update --disable-sync \
	  --user-data-dir=$$(mktemp -d) --hide-scrollbars --window-size=1000,1500 \
	  --screenshot=var/screenshots/thread-in-ru-1000.png \
	  file://$$(ls $(CURDIR)/var/site/thread-IN-RU-*.html | head -1)
	@echo "Screenshots: var/screenshots/digest-360.png, var/screenshots/digest-1200.png, var/screenshots/thread-in-ru-1000.png"

test: $(SYNCED) ## run the whole test suite (unit and end-to-end, real loopback servers)
	$(VENV)/bin/pytest

# llama-cpp-python builds from source (about 15 minutes on 2 cores): its own environment, kept
# in .tools/ so it is built once; the tests it serves skip without it.
LLAMACPP := $(CURDIR)/.tools/llamacpp
$(LLAMACPP)/bin/llama-ready:
	python3 -m venv $(LLAMACPP)
	CMAKE_BUILD_PARALLEL_LEVEL=2 $(LLAMACPP)/bin/pip install --quiet --disable-pip-version-check "llama-cpp-python[server]==0.3.36" "gguf==0.19.0"
	@touch $@

test-llamacpp: $(SYNCED) $(LLAMACPP)/bin/llama-ready ## the LLM path against a real llama-cpp-python server (opt-in; builds it once)
	DYAD_LLAMACPP_PYTHON=$(LLAMACPP)/bin/python $(VENV)/bin/pytest -q tests/test_llamacpp.py

lint: $(SYNCED) ## ruff format check, ruff lint, mypy
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

format: $(SYNCED) ## apply ruff format and safe fixes
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Ingest sizes: CPU per article at each shows whether cost grows only with the articles.
BENCH_ARTICLES ?= 200,1000,4000

bench: $(SYNCED) ## print benchmark figures (throughput, memory, quality, idle hour, store growth)
	$(VENV)/bin/python bench/bench_ingest.py --articles $(BENCH_ARTICLES)
	$(VENV)/bin/python bench/bench_detect.py
	$(VENV)/bin/python bench/bench_summarize.py
	$(VENV)/bin/python bench/bench_extract.py
	$(VENV)/bin/python bench/bench_page_work.py
	$(VENV)/bin/python bench/bench_idle.py
	$(VENV)/bin/python bench/bench_store.py
	$(VENV)/bin/python bench/bench_cluster.py
	$(VENV)/bin/python bench/bench_local_summary.py

train-detect: $(SYNCED) ## retrain the detection model from tests/data/real_news.jsonl (writes pipeline/data/detect_model.json)
	$(VENV)/bin/python scripts/train_detect.py

clean: ## remove the environment and local data
	rm -rf $(VENV) .tools var .pytest_cache .mypy_cache .ruff_cache
