# FinOps: `make run` starts the app, `make test` runs every test (what CI runs).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || echo python3.11)
VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=
BENCH_ARGS ?=
# ruff only gets the paths that exist
LINT_PATHS := $(wildcard finops tests bench Home.py pages)

.PHONY: help venv venv-dev run test test-fast lint typecheck typecheck-baseline format bench clean

help:
	@echo "make venv     create .venv and install the runtime requirements"
	@echo "make run      migrate, load demo data if empty, create the first admin, start sidecar + UI (:8501)"
	@echo "make test     every test on SQLite and a throwaway PostgreSQL (PYTEST_ARGS=... passes options)"
	@echo "make test-fast  the inner loop: no Playwright, no PostgreSQL, no slow Prophet fits or processes"
	@echo "make lint     ruff check + ruff format --check + mypy on finops/ against its baseline"
	@echo "make format   ruff check --fix + ruff format"
	@echo "make bench    run every bench/bench_*.py (BENCH_ARGS=--small passes options)"
	@echo "make clean    remove .venv, .venv-fv (the FOCUS validator) and caches (keeps data/)"

$(PY):
	$(PYTHON) -m venv $(VENV)

# installs happen only when the requirements file is newer than its stamp
$(VENV)/.stamp-runtime: requirements.txt | $(PY)
	$(PY) -m pip install -q -r requirements.txt
	@touch $@

$(VENV)/.stamp-dev: requirements-dev.txt requirements.txt | $(PY)
	$(PY) -m pip install -q -r requirements-dev.txt
	@touch $(VENV)/.stamp-runtime $@

venv: $(VENV)/.stamp-runtime

venv-dev: $(VENV)/.stamp-dev

run: venv
	$(PY) -m finops bootstrap
	bash scripts/run.sh

test: venv-dev
	bash scripts/test.sh $(PYTEST_ARGS)

test-fast: venv-dev
	env -u FINOPS_TEST_POSTGRES_URL $(PY) -m pytest -m "not e2e and not slow" -q -rfE $(PYTEST_ARGS)

lint: venv-dev
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/ruff format --check $(LINT_PATHS)
	$(PY) scripts/typecheck.py

typecheck: venv-dev
	$(PY) scripts/typecheck.py

# rewrite mypy-baseline.txt after fixing type errors (refused if it would grow)
typecheck-baseline: venv-dev
	$(PY) scripts/typecheck.py --update

format: venv-dev
	$(VENV)/bin/ruff check --fix $(LINT_PATHS)
	$(VENV)/bin/ruff format $(LINT_PATHS)

bench: venv-dev
	@set -e; found=0; for f in bench/bench_*.py; do \
		[ -e "$$f" ] || continue; found=1; echo "== $$f"; PYTHONPATH=$(CURDIR) $(PY) "$$f" $(BENCH_ARGS); \
	done; [ $$found = 1 ] || echo "no bench/bench_*.py yet"

clean:
	rm -rf $(VENV) .venv-fv .pytest_cache .ruff_cache test-results bench/out
	find . -path ./.git -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
