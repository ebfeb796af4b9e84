# DeerWeb: `make run` starts the whole dashboard; `make test` runs the test suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
# Unless DJANGO_SECRET_KEY is set, `make run` keeps a generated key in var/secret_key.
RUN_ENV := DJANGO_SECRET_KEY_FILE=$${DJANGO_SECRET_KEY_FILE:-$(CURDIR)/var/secret_key}

.PHONY: run test test-deps test-sqlite lint bench install clean messages tour

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# The JavaScript client the API's conformance test runs under Node (needs node and npm).
JS_CLIENT := tests/api/js/node_modules/.package-lock.json
$(JS_CLIENT): tests/api/js/package.json tests/api/js/package-lock.json
	npm ci --prefix tests/api/js --no-audit --no-fund --loglevel=error

var/secret_key:
	mkdir -p var
	$(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))' > $@
	chmod 600 $@

run: install var/secret_key
	$(RUN_ENV) $(BIN)/python manage.py migrate --noinput
	$(RUN_ENV) $(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(RUN_ENV) $(BIN)/python manage.py createadmin
	@echo
	@echo "DeerWeb is starting at http://127.0.0.1:$(PORT)/  (Ctrl-C stops web, worker and beat)"
	@if [ -z "$$DEERAPI_KEY$$DEERAPI_KEY_FILE" ]; then echo "No DEERAPI_KEY: sandbox mode, using the built-in DeerAPI simulator."; fi
	@echo
	$(RUN_ENV) DEERWEB_PORT=$(PORT) $(BIN)/honcho start web worker beat $$( [ -z "$$DEERAPI_KEY$$DEERAPI_KEY_FILE" ] && echo simulator )

# Everything the test suite needs: the Python packages and the JavaScript client.
test-deps: install $(JS_CLIENT)

test: test-deps
	@if [ ! -x /usr/bin/chromium ]; then echo "Note: /usr/bin/chromium is missing, browser tests will skip (apt-get install chromium)."; fi
	$(BIN)/pytest $(PYTEST_ARGS)

# The suite in `make run`'s configuration: SQLite files and the filesystem broker under var/test-sqlite.
test-sqlite: export DATABASE_URL = sqlite:///$(CURDIR)/var/test-sqlite/deerweb.sqlite3
test-sqlite: export CELERY_BROKER_URL = filesystem://
test-sqlite: export DEERWEB_TEST_DIR = $(CURDIR)/var/test-sqlite
test-sqlite: test

# Lint, format, types, the apps' layers and migrations. mypy reads the settings through
# tests.settings (the embedded configuration here: it needs no running service).
LINT_ENV := DATABASE_URL=sqlite:///$(CURDIR)/var/lint.sqlite3 CELERY_BROKER_URL=memory://
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(LINT_ENV) $(BIN)/mypy
	$(BIN)/lint-imports
	$(LINT_ENV) DJANGO_SETTINGS_MODULE=tests.settings $(BIN)/python manage.py makemigrations --check --dry-run

bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf var/broker var/notify var/test-media-* var/test-broker-* var/test-notify-* var/test-sqlite staticfiles

messages: install
	DJANGO_SETTINGS_MODULE=tests.settings $(BIN)/python manage.py makemessages -l zh_Hans --ignore=.venv --ignore=var --ignore=staticfiles --ignore=tests --ignore=bench --ignore=build
	DJANGO_SETTINGS_MODULE=tests.settings $(BIN)/python manage.py compilemessages --ignore=.venv

# The README's tour: the browser tests that take its screenshots run, then the pictures are copied to
# docs/tour/ (they are committed; run this after changing a page the tour shows).
TOUR_TESTS := tests/home/test_browser_home.py tests/deerweb/test_browser_header.py \
	tests/predictions/test_browser_playground.py tests/predictions/test_browser_downloads.py \
	tests/albums/test_browser_collections.py tests/alerts/test_browser_alerts.py
TOUR_SHOTS := home-member.png home-admin.png nav-menus.png playground-desktop.png playground-phone.png \
	downloads-history-selected.png collection.png share-link-anonymous.png notifications.png usage-forecast.png
tour: test-deps
	$(BIN)/pytest -q -n 0 $(TOUR_TESTS)
	mkdir -p docs/tour
	cd var/test-artifacts/screenshots && cp $(TOUR_SHOTS) $(CURDIR)/docs/tour/
