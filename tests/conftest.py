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
    _require_home_database(driver)
    yield driver
    driver.close()


def _require_home_database(driver: object) -> None:
    """Fail when NEO4J_DATABASE names a database other than the server's home database.

    The loads and the API use NEO4J_DATABASE, but the tests' own checking queries run in the
    home database; with two databases they would check one and load the other.
    """
    wanted = database()
    if wanted is None:
        return
    records, _, _ = driver.execute_query(  # type: ignore[attr-defined]
        "CALL db.info() YIELD name RETURN name", routing_="r"
    )
    home = records[0]["name"]
    if wanted != home:
        pytest.fail(
            f"NEO4J_DATABASE={wanted} is not the server's home database ({home}): the tests' "
            "queries run in the home database. Unset NEO4J_DATABASE, or use a server (or a "
            f"user) whose home database is {wanted}.",
            pytrace=False,
        )


#: Set once a test of this session has wiped the graph: what is left is no longer the corpus.
_WIPED: list[bool] = []

ALLOW_WIPE = "COVGRAPH_TEST_ALLOW_WIPE"


def database() -> str | None:
    """The database the tests write and read: NEO4J_DATABASE, as the API and the CLI use it."""
    from graph.settings import neo4j_settings

    return neo4j_settings().database


def refuse_to_wipe_foreign_data(driver: object) -> None:
    """Fail unless the database may be wiped: the local server, an empty one, or opted in.

    A NEO4J_URI server may hold someone's data; the tests delete everything in the database.
    Checked before the first wipe of the session only: after it, what is there is ours.
    """
    from graph.schema import node_count
    from graph.settings import neo4j_settings

    settings = neo4j_settings()
    if _WIPED or not settings.external or os.environ.get(ALLOW_WIPE) == "1":
        return
    nodes = node_count(driver, settings.database)  # type: ignore[arg-type]
    if nodes:
        pytest.fail(
            f"refusing to wipe database {settings.database or '(default)'} of NEO4J_URI "
            f"{settings.uri}: it holds {nodes} nodes and these tests delete every node. Point "
            f"NEO4J_URI or NEO4J_DATABASE at a scratch database, or set {ALLOW_WIPE}=1 to allow "
            "it.",
            pytrace=False,
        )


def wipe(driver: object) -> None:
    """Delete every node of the tests' database, in batches, and recreate the schema."""
    refuse_to_wipe_foreign_data(driver)
    _WIPED.append(True)
    from graph.schema import wipe as wipe_database

    wipe_database(driver, database())  # type: ignore[arg-type]


@pytest.fixture
def clean_graph(neo4j_driver: object) -> object:
    """An empty graph with the schema in place. Tests using it run before the corpus tests."""
    wipe(neo4j_driver)
    return neo4j_driver


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Tests that wipe the graph run first, so that the corpus is loaded once afterwards.
    items.sort(key=lambda item: 0 if "clean_graph" in getattr(item, "fixturenames", ()) else 1)


@pytest.fixture(scope="session")
def corpus_graph(neo4j_driver: object, corpus_dir: Path) -> object:
    """The whole corpus loaded once per session (after the tests that wipe the graph).

    With COVGRAPH_TEST_REUSE_GRAPH=1 an already loaded graph (all four Source nodes present) is
    kept as it is, which makes iterating on API tests fast, unless a test of the session wiped
    it (hand-made graphs have the four sources too); CI always loads.
    """
    from covgraph.pipeline import plan_from_corpus, run
    from graph.writer import GraphWriter

    if os.environ.get("COVGRAPH_TEST_REUSE_GRAPH") == "1" and not _WIPED:
        records, _, _ = neo4j_driver.execute_query(  # type: ignore[attr-defined]
            "MATCH (s:Source) RETURN collect(s.name) AS names", database_=database()
        )
        if {"attack", "sigma", "elastic", "splunk"} <= set(records[0]["names"]):
            return neo4j_driver
    wipe(neo4j_driver)
    writer = GraphWriter(neo4j_driver, database())  # type: ignore[arg-type]
    report = run(plan_from_corpus(corpus_dir), writer)
    failed = [f"{s.name}: {s.failed}" for s in report.sources if s.failed]
    assert not failed, failed
    return neo4j_driver


@pytest.fixture(scope="session")
def graphiql_assets() -> Path:
    """The GraphiQL files `make setup` caches; skip without them (fail under CI's browser flag)."""
    from api.graphiql import assets_dir, local_assets_present

    root = assets_dir()
    if not local_assets_present(root):
        reason = f"GraphiQL's assets are not in {root}: run `make setup` (needs npm)"
        if os.environ.get("COVGRAPH_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return root
