"""Neo4j going away and coming back, with a server of the test's own; and masked driver errors."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from api_process import free_port
from http_api import data, gql, running_api
from small_graph import write_small_graph

from graph.settings import LocalServerSettings, local_server_settings

pytestmark = [pytest.mark.neo4j, pytest.mark.timeout(600)]

QUERY = '{ technique(id: "T1546.003") { coverage { ruleCount } } }'


def _until(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen within {seconds:.0f} s")
        time.sleep(0.25)


@pytest.fixture(scope="module")
def own_neo4j(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServerSettings]:
    """A Neo4j of these tests only (own home and ports) with the small graph; stopped after.

    The tests run in file order: the missing database reads, the outage test stops and
    restarts the server, the cache test changes the graph last.
    """
    from neo4j import GraphDatabase

    from graph import launcher
    from graph.schema import bootstrap

    settings = dataclasses.replace(
        local_server_settings(),
        home=tmp_path_factory.mktemp("neo4j"),
        bolt_port=free_port(),
        http_port=free_port(),
        heap="384m",
        pagecache="64m",
        password=None,
    )
    if not launcher.is_installed(settings):
        pytest.skip(f"the Neo4j jars are not in {settings.lib_dir}: run `covgraph neo4j install`")
    launcher.start(settings, echo=False)
    try:
        with GraphDatabase.driver(settings.bolt_uri) as driver:
            bootstrap(driver)
            write_small_graph(driver)
        yield settings
    finally:
        launcher.stop(settings)


def test_a_missing_database_is_reported_alike_by_graphql_and_readiness(
    own_neo4j: LocalServerSettings,
) -> None:
    # Neo4j answers but has no such database: a configuration problem, the same 503 and code
    # from both, a message naming the database, and none of the driver's own text.
    env = {"NEO4J_URI": own_neo4j.bolt_uri, "NEO4J_DATABASE": "nosuchdatabase"}
    with running_api(env) as url:
        status, body = gql(url, QUERY)
        health = httpx.get(f"{url}/healthz", timeout=30)
    assert (status, health.status_code) == (503, 503)
    error = body["errors"][0]
    assert error["extensions"] == {"code": "CATALOG_UNAVAILABLE"}
    readiness = health.json()
    assert (readiness["status"], readiness["code"]) == ("unavailable", "CATALOG_UNAVAILABLE")
    assert readiness["message"] == error["message"]
    assert "'nosuchdatabase'" in error["message"]
    assert "NEO4J_DATABASE" in error["message"]
    for text in (str(body), health.text):
        assert "Neo.ClientError" not in text
        assert "bolt://" not in text
        assert "DatabaseNotFound" not in text


def test_an_outage_answers_503_and_the_api_recovers_without_a_restart(
    own_neo4j: LocalServerSettings,
) -> None:
    from graph import launcher

    env = {"NEO4J_URI": own_neo4j.bolt_uri, "NEO4J_PASSWORD": "", "NEO4J_DATABASE": ""}
    with running_api(env) as url:
        assert data(url, QUERY)["technique"]["coverage"]["ruleCount"] == 4
        health = httpx.get(f"{url}/healthz", timeout=30)
        assert health.status_code == 200
        assert health.json()["sources"] == ["attack", "elastic", "sigma", "splunk"]

        launcher.stop(own_neo4j)
        outcome: dict[str, Any] = {}

        def unavailable() -> bool:
            # Cached answers may be served for up to the cache TTL (1 s) before the outage shows.
            status, body = gql(url, QUERY)
            outcome.update(status=status, body=body)
            return status == 503

        _until(unavailable, 30, "a 503 while Neo4j is stopped")
        error = outcome["body"]["errors"][0]
        assert error["extensions"]["code"] == "CATALOG_UNAVAILABLE"
        assert "bolt://" not in error["message"]  # the message names no internals
        assert httpx.get(f"{url}/healthz", timeout=30).status_code == 503

        launcher.start(own_neo4j, echo=False)

        def answers() -> bool:
            status, body = gql(url, QUERY)
            return status == 200 and "errors" not in body

        _until(answers, 60, "an answer once Neo4j is back")
        assert data(url, QUERY)["technique"]["coverage"]["ruleCount"] == 4
        assert httpx.get(f"{url}/healthz", timeout=30).status_code == 200


def test_the_cache_follows_a_reload(own_neo4j: LocalServerSettings) -> None:
    from neo4j import GraphDatabase

    from graph.writer import GraphWriter

    env = {"NEO4J_URI": own_neo4j.bolt_uri, "COVGRAPH_API_CACHE_TTL": "0"}
    body = {"query": QUERY}
    with running_api(env) as url:
        first = httpx.post(f"{url}/graphql", json=body, timeout=30)
        again = httpx.post(f"{url}/graphql", json=body, timeout=30)
        assert (first.headers["x-covgraph-cache"], again.headers["x-covgraph-cache"]) == (
            "miss",
            "hit",
        )
        assert again.content == first.content
        assert first.json()["data"]["technique"]["coverage"]["ruleCount"] == 4
        with GraphDatabase.driver(own_neo4j.bolt_uri) as driver:
            GraphWriter(driver).remove_source("elastic")
        # The same body after the reload: the graph version changed, so it is answered anew.
        after = httpx.post(f"{url}/graphql", json=body, timeout=30)
        assert after.headers["x-covgraph-cache"] == "miss"
        assert after.json()["data"]["technique"]["coverage"]["ruleCount"] == 3
