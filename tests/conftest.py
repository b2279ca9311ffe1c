"""Fixtures shared by every test: the corpus, a real Neo4j, and a clean or loaded graph."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def corpus_path() -> Path | None:
    """COVGRAPH_CORPUS, else ../shared/corpus beside the project when it exists."""
    configured = os.environ.get("COVGRAPH_CORPUS")
    if configured:
        return Path(configured)
    default = REPO.parent / "shared" / "corpus"
    return default if default.exists() else None


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    path = corpus_path()
    if path is None or not path.exists():
        pytest.skip(
            "the shared corpus is absent: set COVGRAPH_CORPUS or place it at ../shared/corpus"
        )
    return path


@pytest.fixture(scope="session")
def neo4j_driver() -> Iterator[object]:
    """A driver to the configured server (NEO4J_URI or the local one).

    Skips when no server answers, unless COVGRAPH_REQUIRE_NEO4J=1 (set by .ci/run), where a
    missing server is a failure.
    """
    from covgraph.errors import CatalogUnavailable
    from graph.driver import connect

    try:
        driver = connect()
    except CatalogUnavailable as exc:
        if os.environ.get("COVGRAPH_REQUIRE_NEO4J") == "1":
            pytest.fail(str(exc))
        pytest.skip(f"{exc}")
    yield driver
    driver.close()


def wipe(driver: object) -> None:
    """Delete every node, in batches, and recreate the schema."""
    from graph.schema import bootstrap

    with driver.session() as session:  # type: ignore[attr-defined]
        # CALL ... IN TRANSACTIONS needs an auto-commit transaction: session.run, not execute_query.
        session.run(
            "MATCH (n) CALL { WITH n DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
        ).consume()
    bootstrap(driver)  # type: ignore[arg-type]


@pytest.fixture
def clean_graph(neo4j_driver: object) -> object:
    """An empty graph with the schema in place. Tests using it run before the corpus tests."""
    wipe(neo4j_driver)
    return neo4j_driver


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Tests that wipe the graph run first, so that the corpus is loaded once afterwards.
    items.sort(key=lambda item: 0 if "clean_graph" in getattr(item, "fixturenames", ()) else 1)
