# Qalqan: every target sets up (or refreshes) .venv first; all targets are idempotent.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
SHARED  ?= ../shared/data

.PHONY: setup chromium run test bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# PyICU (pulled in by rigour/followthemoney) compiles against ICU; install its headers only if
# pkg-config cannot find them. pdqhash (perceptual image hashes) has no wheel: it needs g++.
$(STAMP): pyproject.toml | $(BIN)/python
	@pkg-config --exists icu-uc 2>/dev/null || { \
	  echo "ICU headers missing: installing libicu-dev pkg-config"; \
	  apt-get update -qq && apt-get install -y -qq libicu-dev pkg-config; }
	@command -v g++ >/dev/null 2>&1 || { \
	  echo "C++ compiler missing (pdqhash builds from source): installing g++"; \
	  apt-get update -qq && apt-get install -y -qq g++; }
	$(BIN)/pip install -q -e '.[test,bench]'
	@touch $(STAMP)

# The browser tests (tests/web/test_browser_*.py) drive Debian's Chromium through Playwright
# (never Playwright's own browser download): install it only if it is missing.
chromium:
	@test -x /usr/bin/chromium || { \
	  echo "Chromium missing: installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && apt-get install -y -qq chromium; }

setup: $(STAMP)

# Without a network, `run` falls back to the newest UN list in ../shared/data (if there).
UN_FALLBACK := $(lastword $(sort $(wildcard $(SHARED)/un/un_consolidated_*.xml)))

run: setup
	QALQAN_UN_FALLBACK=$(UN_FALLBACK) $(BIN)/qalqan serve --host 127.0.0.1 --port 8000 --demo-population --fetch-every 1h

# The store tests run on SQLite and on a throwaway PostgreSQL cluster started (and always stopped)
# around the suite.
test: setup chromium
	QALQAN_REQUIRE_PG=1 QALQAN_SHARED=$(SHARED) tests/support/pgcluster.sh run $(BIN)/python -m pytest -q

# The learned Arabic-script transliterator ships as src/qalqan/names/data/arabic_translit.json.gz;
# `$(BIN)/python -m bench.train_arabic` rebuilds it (about 3 min, deterministic).
bench: setup
	QALQAN_SHARED=$(SHARED) $(BIN)/python -m bench.monitor
	$(BIN)/python -m bench.exchange
	$(BIN)/python -m bench.alert_queue
	QALQAN_SHARED=$(SHARED) $(BIN)/python -m bench.travel --scenario manifest
	QALQAN_SHARED=$(SHARED) $(BIN)/python -m bench.travel_ingest
	$(BIN)/python -m bench.content
	$(BIN)/python -m bench.content_service
	QALQAN_SHARED=$(SHARED) $(BIN)/python -m bench.arabic_eval
	QALQAN_SHARED=$(SHARED) $(BIN)/python -m bench.cyrillic_eval
	QALQAN_SHARED=$(SHARED) $(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache
