# Storyloom: `make run` serves the demo site, `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_NETWORK_PORT ?= 8020

.PHONY: run remove-demo test test-fast lint check-migrations bench install install-test browser atproto clean help

help:
	@echo "make run    - install, migrate, load the demo and serve web + worker + beat on http://$(HOST):$(PORT)/"
	@echo "make remove-demo - remove the demo data, leaving an empty working site"
	@echo "make test   - install test tools (Chromium and the AT Protocol test network when missing) and run the whole suite"
	@echo "make test-fast - the suite without browser tests, keeping the test database between runs"
	@echo "make lint   - ruff"
	@echo "make bench  - benchmarks under bench/"

# The first run's time goes to installing, migrating and the demo (bench/first_run.py
# measures it): the venv's own pip is new enough for this project, and modules are
# compiled when first imported, not all of them at install time (--no-compile).
$(PY):
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Storyloom needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --no-compile -e .
	@touch $@

$(TEST_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test]'
	@touch $@

install: $(RUN_STAMP)

install-test: $(TEST_STAMP)

run: $(RUN_STAMP)
	$(PY) manage.py migrate --noinput -v 0
	STORYLOOM_DEMO_NETWORK_PORT=$(DEMO_NETWORK_PORT) $(PY) manage.py load_demo --skip-checks --site-address $(HOST):$(PORT)
	@echo
	@echo "  Storyloom is starting on http://$(HOST):$(PORT)/"
	@echo "    Reading site : http://$(HOST):$(PORT)/"
	@echo "    Admin        : http://$(HOST):$(PORT)/admin/   (admin / editor / socialmanager, password: changeme)"
	@echo "    Feeds        : http://$(HOST):$(PORT)/feeds/stories/rss/   API: http://$(HOST):$(PORT)/api/v2/pages/"
	@echo "    Demo network : http://127.0.0.1:$(DEMO_NETWORK_PORT)/@larkspur   (local, not a real server; make remove-demo empties the site)"
	@echo "  Web, Celery worker and beat run together; Ctrl-C stops all three."
	@echo
	HOST=$(HOST) PORT=$(PORT) STORYLOOM_DEMO_NETWORK_PORT=$(DEMO_NETWORK_PORT) $(BIN)/honcho -f Procfile.dev start

# Remove exactly the demo data load_demo made; `make run` loads it again.
remove-demo: $(RUN_STAMP)
	$(PY) manage.py remove_demo

browser:
	@bash .ci/ensure-chromium

# The AT Protocol reference network the Bluesky tests start (tests/atproto/).
atproto:
	@bash .ci/ensure-atproto

test: $(TEST_STAMP) browser atproto
	$(BIN)/pytest

# While developing: no Chromium, and the test database (its migrations) kept between runs
# (pytest-django's --reuse-db). ARGS narrows or adds: ARGS=tests/stories, ARGS=--create-db
# after migrations changed under a kept database. CI runs `make test`.
test-fast: $(TEST_STAMP)
	$(BIN)/pytest --reuse-db -m "not browser" $(ARGS)

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

check-migrations: $(RUN_STAMP)
	DJANGO_SETTINGS_MODULE=cms.settings.test $(PY) manage.py makemigrations --check --dry-run

bench: $(TEST_STAMP)
	@for script in bench/*.py; do [ "$$script" = bench/common.py ] && continue; echo "== $$script"; $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) var media static_collected
