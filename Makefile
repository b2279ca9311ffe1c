# The same commands as .ci/run and the README.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: setup run test lint format bench clean-venv graphiql-assets

setup: $(VENV)/.installed graphiql-assets

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

# GraphiQL's browser files, the exact versions strawberry's page pins, fetched with npm and
# checked against the page's hashes into ~/.cache/covgraph/graphiql-3.8.3 (COVGRAPH_CACHE), so
# that /graphql works offline. Without npm or network it only warns: GraphiQL then uses unpkg.com.
graphiql-assets: $(VENV)/.installed
	$(BIN)/python -m api.graphiql

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

# The load benchmark WIPES the database before each run. --wipe lets it wipe the local server's;
# a NEO4J_URI database that holds anything is refused unless COVGRAPH_BENCH_WIPE=1.
bench: setup
	$(BIN)/python bench/load.py $(if $(NEO4J_URI),,--wipe)
