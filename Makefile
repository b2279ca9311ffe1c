# The same commands as .ci/run and the README.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: setup run test lint format bench clean-venv

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

run: setup
	$(BIN)/python -m covgraph.run

# Starts the local Neo4j first (a no-op when it runs) unless NEO4J_URI names another server.
test: setup
	@if [ -z "$$NEO4J_URI" ]; then $(BIN)/covgraph neo4j start; fi
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy graph api loaders covgraph

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: setup
	$(BIN)/python bench/load.py
