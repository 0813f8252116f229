# The two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/commerce
REDIS_URL ?= redis://127.0.0.1:6379/0
PORT ?= 8000
export DATABASE_URL REDIS_URL PORT

.PHONY: run test install lint bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

## make run: API (gunicorn) + Celery worker + beat + outbox relay + simulators, with demo
## data, supervised (a process that dies is restarted). Ctrl-C stops all.
run: install
	@$(PY) scripts/run.py

## make test: the whole suite on TEST_DATABASE_NAME (a database created on DATABASE_URL's
## server, default test_commerce) and TEST_REDIS_URL (default db 15 of REDIS_URL's server;
## flushed by the tests). Embedded servers stand in when nothing answers there.
test: install
	@$(PY) scripts/devservices.py -- $(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .

bench: install
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .run
