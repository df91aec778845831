# STEM Space — the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# Local development runs with DEBUG on and a development key unless told otherwise.
DEV_ENV := STEMSPACE_DEV=1 DEBUG=$${DEBUG:-1}

.PHONY: install browser run test test-postgres lint messages clean bench

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# Debian packages the tests drive: Chromium and ChromeDriver (tests/e2e), nginx (tests/test_nginx.py).
browser:
	bash scripts/test-packages.sh

run: install
	$(DEV_ENV) $(PY) manage.py migrate --noinput
	$(DEV_ENV) $(PY) manage.py seed_demo
	$(DEV_ENV) $(PY) manage.py runserver 127.0.0.1:$(PORT)

test: install browser
	STEMSPACE_DEV=1 DATABASE_URL= DATABASE_REPLICA_URL=sqlite:///$(CURDIR)/db.sqlite3 \
		$(VENV)/bin/pytest $(PYTEST_ARGS)

test-postgres: install browser
	STEMSPACE_DEV=1 bash scripts/test-postgres.sh $(PYTEST_ARGS)

# schemathesis over the whole OpenAPI schema, as each demo role and anonymously (scripts/fuzz.sh).
.PHONY: test-fuzz
test-fuzz: install
	bash scripts/fuzz.sh

bench: install
	bash bench/run.sh

# 50 users for 2 minutes against gunicorn (2 workers) and a throw-away PostgreSQL database;
# LOADTEST_USERS / LOADTEST_DURATION (seconds) make it smaller. Not run in CI.
.PHONY: loadtest
loadtest: install
	bash bench/loadtest.sh

# The same load (25 users, 90 s) with the PostgreSQL server restarted 30 s in: 503s while it is
# down, success again once it is back, the same gunicorn workers throughout. It restarts the
# machine's PostgreSQL cluster, cutting every other connection to it. Not run in CI.
.PHONY: loadtest-db-restart
loadtest-db-restart: install
	LOADTEST_USERS=$${LOADTEST_USERS:-25} LOADTEST_DURATION=$${LOADTEST_DURATION:-90} \
		LOADTEST_DB_RESTART_AT=$${LOADTEST_DB_RESTART_AT:-30} bash bench/loadtest.sh

lint: install
	$(VENV)/bin/ruff check .
	STEMSPACE_DEV=1 $(VENV)/bin/mypy .

messages: install
	STEMSPACE_DEV=1 $(PY) manage.py makemessages -l vi --no-location --ignore=.venv --ignore=tests --ignore=bench
	STEMSPACE_DEV=1 $(PY) manage.py compilemessages --ignore=.venv

clean:
	rm -rf $(VENV) db.sqlite3* staticfiles .pytest_cache .mypy_cache .ruff_cache
