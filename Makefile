# `make demo` and `make test` are all a newcomer needs on a fresh machine of this kind.
SHELL  := /bin/bash
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: setup demo test lint typecheck pytest unit services netfaults bench audit clean

setup: $(STAMP)

$(STAMP): pyproject.toml src/redline/web/console/vendor/package-lock.json
	@# Debian's Chromium for the console's browser tests (Playwright drives it; it never downloads a browser),
	@# and Noto CJK so Chinese renders in it (system fonts only: the console loads no web fonts).
	@# poppler-utils: the transcript test renders the exported PDF (pdftoppm) and reads its text (pdftotext).
	@(command -v chromium >/dev/null && test -d /usr/share/fonts/opentype/noto && command -v pdftoppm >/dev/null) || \
	    (apt-get update -qq && apt-get install -y -qq chromium fonts-noto-cjk poppler-utils)
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@# The console map's Leaflet, topojson-client and Natural Earth coastline, served by the station itself.
	npm ci --prefix src/redline/web/console/vendor --no-audit --no-fund
	touch $(STAMP)

# PostgreSQL and NATS run on these machines; start them if they stopped (tests need them and must not skip).
services:
	@pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@pg_isready -h 127.0.0.1 -p 5432
	@# NATS with JetStream: the relay path's store-and-forward server.
	@(exec 3<>/dev/tcp/127.0.0.1/4222) 2>/dev/null || start-stop-daemon --start --oknodo --background \
	    --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
	@for i in 1 2 3 4 5 6 7 8 9 10; do (exec 3<>/dev/tcp/127.0.0.1/4222) 2>/dev/null && break; sleep 0.5; done
	@(exec 3<>/dev/tcp/127.0.0.1/4222) 2>/dev/null && echo "127.0.0.1:4222 - NATS accepting connections"

demo: setup
	$(VENV)/bin/redline demo $(DEMO_ARGS)

lint: setup
	$(PY) -m ruff check src tests bench

typecheck: setup
	$(PY) -m mypy

# tests/test_faults.py puts the stations in network namespaces and faults on their link with
# nftables and tc (iproute2 is present); without these the suite fails, it never skips.
netfaults:
	@command -v nft >/dev/null || (apt-get update -qq && apt-get install -y -qq nftables)

# Two workers, each taking whole test files (--dist loadfile: a module's stations and browser stay
# in one process); the network-namespace faults name their namespaces by process, so they may
# run beside another file. PYTEST_WORKERS=0 runs the suite in one process.
PYTEST_WORKERS ?= 2
pytest: setup services netfaults
	$(PY) -m pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

# The fast tests: two stations in one process on a mock clock, no sockets, no subprocesses (under 60 s).
unit: setup
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

test: lint typecheck pytest

# Known vulnerabilities in the installed dependencies, from PyPI's advisory data. --strict fails when
# a package cannot be checked: on machines whose PyPI mirror lacks the per-version JSON API (these
# do), it fails rather than report a clean bill it never checked. Not part of `make test` for that reason.
audit: setup
	$(PY) -m pip_audit --local --strict --progress-spinner off

bench: setup
	@command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(PY) bench/link.py --json bench/results/link.json
	$(PY) bench/link.py --backend postgres --json bench/results/link-postgres.json
	$(PY) bench/failover.py --json bench/results/failover.json
	$(PY) bench/alert.py --json bench/results/alert.json
	$(PY) bench/conflicts.py --json bench/results/conflicts.json
	$(PY) bench/notices.py --json bench/results/notices.json
	$(PY) bench/notices.py --backend postgres --json bench/results/notices-postgres.json

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
