# The two commands a newcomer needs: `make run` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/commerce
REDIS_URL ?= redis://127.0.0.1:6379/0
PORT ?= 8000
# Every process (gunicorn workers, Celery workers) writes its metrics here; /metrics adds them up.
PROMETHEUS_MULTIPROC_DIR ?= /tmp/commerce-metrics-$(PORT)
export DATABASE_URL REDIS_URL

.PHONY: run test install services db migrate seed lint bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

services: install
	@$(PY) scripts/check_services.py

db: services
	@$(PY) scripts/ensure_database.py

migrate: db
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo

## make run: API (gunicorn) + Celery worker + beat + outbox relay, with demo data. Ctrl-C stops all.
run: seed
	$(PY) manage.py collectstatic --noinput -v 0
	@echo "API on http://127.0.0.1:$(PORT)/api/docs/  admin on http://127.0.0.1:$(PORT)/admin/"
	@rm -rf $(PROMETHEUS_MULTIPROC_DIR) && mkdir -p $(PROMETHEUS_MULTIPROC_DIR)
	@export PROMETHEUS_MULTIPROC_DIR=$(PROMETHEUS_MULTIPROC_DIR); trap 'kill 0' INT TERM EXIT; \
	$(VENV)/bin/gunicorn commerce.wsgi:application --bind 127.0.0.1:$(PORT) --config deploy/gunicorn.conf.py & \
	$(VENV)/bin/celery -A commerce worker --loglevel=INFO --concurrency=2 & \
	$(VENV)/bin/celery -A commerce beat --loglevel=INFO --schedule=/tmp/commerce-celerybeat-schedule & \
	wait

## make test: the whole suite against the real PostgreSQL and Redis.
test: services
	$(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .

bench: install
	$(PY) bench/run_all.py

clean:
	rm -rf $(VENV) staticfiles .pytest_cache
