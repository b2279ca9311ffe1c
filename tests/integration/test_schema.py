"""Schema bootstrap and the health check against the configured Neo4j."""

from __future__ import annotations

import re
import socket
import uuid
from typing import Any

import pytest
from neo4j import Driver
from neo4j.exceptions import ConstraintError

from covgraph.errors import CatalogUnavailable
from graph.health import check
from graph.schema import FULLTEXT_INDEXES, NODE_KEYS, PROPERTY_INDEXES, bootstrap, schema_statements

pytestmark = pytest.mark.neo4j


def schema_snapshot(driver: Driver) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    """(constraints, indexes) as comparable tuples: name, type, labels, properties (state)."""
    constraints, _, _ = driver.execute_query(
        "SHOW CONSTRAINTS YIELD name, type, labelsOrTypes, properties"
    )
    indexes, _, _ = driver.execute_query(
        "SHOW INDEXES YIELD name, type, labelsOrTypes, properties, state"
    )

    def shape(r: Any) -> tuple[Any, ...]:
        return (r["name"], r["type"], tuple(r["labelsOrTypes"] or ()), tuple(r["properties"] or ()))

    return {shape(r) for r in constraints}, {(*shape(r), r["state"]) for r in indexes}


def test_statements_are_idempotent_and_named_once() -> None:
    statements = schema_statements()
    assert len(statements) == len(NODE_KEYS) + len(PROPERTY_INDEXES) + len(FULLTEXT_INDEXES)
    shape = re.compile(r"CREATE (?:CONSTRAINT|INDEX|FULLTEXT INDEX) (\w+) IF NOT EXISTS FOR ")
    names = []
    for statement in statements:
        match = shape.match(statement)
        assert match, statement
        names.append(match.group(1))
    assert len(set(names)) == len(names), names


def test_bootstrap_twice_is_harmless(neo4j_driver: Driver) -> None:
    assert bootstrap(neo4j_driver) == len(schema_statements())
    first = schema_snapshot(neo4j_driver)
    assert bootstrap(neo4j_driver) == len(schema_statements())
    assert schema_snapshot(neo4j_driver) == first

    constraints, indexes = first
    for label, key in NODE_KEYS.items():
        assert (f"{label.lower()}_{key}", "UNIQUENESS", (label,), (key,)) in constraints
    for label, prop in PROPERTY_INDEXES:
        assert (f"{label.lower()}_{prop}", "RANGE", (label,), (prop,), "ONLINE") in indexes
    for name, label, props in FULLTEXT_INDEXES:
        assert (name, "FULLTEXT", (label,), props, "ONLINE") in indexes


def test_key_constraint_refuses_a_duplicate(neo4j_driver: Driver) -> None:
    bootstrap(neo4j_driver)
    key = f"schema-test-{uuid.uuid4().hex}"
    try:
        neo4j_driver.execute_query("CREATE (:Technique {id: $id})", id=key)
        with pytest.raises(ConstraintError):
            neo4j_driver.execute_query("CREATE (:Technique {id: $id})", id=key)
    finally:
        neo4j_driver.execute_query("MATCH (t:Technique {id: $id}) DETACH DELETE t", id=key)


def test_fulltext_index_answers(neo4j_driver: Driver) -> None:
    bootstrap(neo4j_driver)
    key = f"schema-test-{uuid.uuid4().hex}"
    try:
        neo4j_driver.execute_query(
            "CREATE (:Technique {id: $id, name: $name, description: 'probe'})",
            id=key,
            name=f"Fulltextprobe{key[-8:]}",
        )
        neo4j_driver.execute_query("CALL db.awaitIndexes(60)")
        records, _, _ = neo4j_driver.execute_query(
            "CALL db.index.fulltext.queryNodes('technique_text', $q) YIELD node "
            "RETURN node.id AS id",
            q=f"Fulltextprobe{key[-8:]}",
        )
        assert [r["id"] for r in records] == [key]
    finally:
        neo4j_driver.execute_query("MATCH (t:Technique {id: $id}) DETACH DELETE t", id=key)


def test_health_check_names_the_server(neo4j_driver: Driver) -> None:
    health = check(neo4j_driver)
    assert health.version.split(".")[0] in {"5", "2025", "2026"}
    assert health.edition in {"community", "enterprise"}
    assert list(health.sources) == sorted(health.sources)
    # Without a driver it connects from the environment, as `covgraph neo4j status` does.
    assert check().version == health.version


def test_health_check_names_an_unreachable_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    uri = f"bolt://127.0.0.1:{port}"
    monkeypatch.setenv("NEO4J_URI", uri)
    with pytest.raises(CatalogUnavailable, match=f"NEO4J_URI {uri}"):
        check()
