# Two commands for a fresh machine (Python >= 3.11 and make):
#   make run   set up and serve the portal on http://127.0.0.1:8000 (SQLite, local-memory cache)
#   make test  set up and run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format check pytest migrate fixtures bench soak clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.requirements: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.requirements-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.requirements

migrate: $(VENV)/.requirements
	$(MANAGE) migrate --no-input
	$(MANAGE) loaddata roadmaps

run: migrate
	$(MANAGE) runserver $(HOST):$(PORT)

check: $(VENV)/.requirements-dev
	$(MANAGE) check --fail-level WARNING
	$(MANAGE) makemigrations --check --dry-run

lint: $(VENV)/.requirements-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(VENV)/.requirements-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# On every CPU (pytest-xdist), a test module per worker so its module fixtures are built once; PYTEST_ARGS adds options, e.g. PYTEST_ARGS='-m "not browser and not stack"'.
pytest: $(VENV)/.requirements-dev
	$(BIN)/pytest -n auto --dist loadfile $(PYTEST_ARGS)

test: check lint pytest

fixtures: $(VENV)/.requirements
	$(BIN)/python scripts/build_fixtures.py

# Performance benchmark (scripts/bench, see bench/README.md and docs/performance.md): gunicorn with production
# settings and worker recycling on loopback, wrk at 16 connections; a mixed journey of 60 learners and visitors
# (tick-offs included) against /healthz, a learner's page right after a tick-off, single pages as information;
# judged against the targets, written to bench/results.json. SQLite by default;
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres REDIS_URL=redis://127.0.0.1:6379/6 make bench
# measures PostgreSQL + Redis (a scratch database roadmap_bench on that server, dropped afterwards, and that
# Redis database, emptied before and after). BENCH_ARGS="--quick" for a short run, "--check" to fail on a miss.
bench: $(VENV)/.requirements-dev
	$(BIN)/python scripts/bench $(BENCH_ARGS)

# Soak test (scripts/soak): 50 simulated learners for 60 s on nginx, gunicorn, and a PostgreSQL and a Redis of
# its own, while a worker is killed, PostgreSQL crashes and restarts, Redis stops for 5 s and slow clients pile up;
# then every acknowledged write is checked in the database. SOAK_ARGS="--learners 80 --duration 120" to push harder.
soak: $(VENV)/.requirements-dev
	$(BIN)/python scripts/soak $(SOAK_ARGS)

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
