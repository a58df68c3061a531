# Two commands for a fresh machine (Python >= 3.11 and make):
#   make run   set up and serve the portal on http://127.0.0.1:8000 (SQLite, local-memory cache)
#   make test  set up and run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format check pytest migrate fixtures clean

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

format: $(VENV)/.requirements-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

pytest: $(VENV)/.requirements-dev
	$(BIN)/pytest $(PYTEST_ARGS)

test: check lint pytest

fixtures: $(VENV)/.requirements
	$(BIN)/python scripts/build_fixtures.py

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
