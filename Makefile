# `make demo` and `make test` are all a newcomer needs on a fresh machine of this kind.
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: setup demo test lint typecheck pytest services bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

# PostgreSQL runs on these machines; start it if it stopped (tests need it and must not skip).
services:
	@pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@pg_isready -h 127.0.0.1 -p 5432

demo: setup
	$(VENV)/bin/redline demo $(DEMO_ARGS)

lint: setup
	$(PY) -m ruff check src tests bench

typecheck: setup
	$(PY) -m mypy

pytest: setup services
	$(PY) -m pytest $(PYTEST_ARGS)

test: lint typecheck pytest

bench: setup
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(PY) bench/link.py --json bench/results/link.json
	$(PY) bench/link.py --backend postgres --json bench/results/link-postgres.json
	$(PY) bench/failover.py --json bench/results/failover.json

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
