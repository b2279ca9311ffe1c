"""Constraints and indexes, created IF NOT EXISTS so that bootstrap can run any number of times."""

from __future__ import annotations

from neo4j import Driver

#: One uniqueness constraint per node label on its key property.
NODE_KEYS = {
    "Tactic": "id",
    "Technique": "id",
    "DataSource": "id",
    "DataComponent": "id",
    "DetectionStrategy": "id",
    "Analytic": "id",
    "Event": "id",
    "Rule": "uid",
    "Story": "id",
    "Field": "name",
    "Value": "key",
    "Source": "name",
}

#: Range indexes on properties the API filters on.
PROPERTY_INDEXES = (
    ("Rule", "vendor"),
    ("Rule", "deprecated"),
    ("Value", "field"),
    ("Value", "operator"),
    ("Technique", "name"),
)

#: Full-text indexes for search boxes.
FULLTEXT_INDEXES = (
    ("technique_text", "Technique", ("id", "name", "description")),
    ("rule_text", "Rule", ("title", "description", "native_id")),
    ("event_text", "Event", ("id", "name")),
)


def schema_statements() -> list[str]:
    """Every schema statement, in order. Labels and names come from the tables above only."""
    statements = [
        f"CREATE CONSTRAINT {label.lower()}_{key} IF NOT EXISTS "
        f"FOR (n:{label}) REQUIRE n.{key} IS UNIQUE"
        for label, key in NODE_KEYS.items()
    ]
    statements += [
        f"CREATE INDEX {label.lower()}_{prop} IF NOT EXISTS FOR (n:{label}) ON (n.{prop})"
        for label, prop in PROPERTY_INDEXES
    ]
    statements += [
        f"CREATE FULLTEXT INDEX {name} IF NOT EXISTS FOR (n:{label}) "
        f"ON EACH [{', '.join(f'n.{p}' for p in props)}]"
        for name, label, props in FULLTEXT_INDEXES
    ]
    return statements


def bootstrap(driver: Driver, database: str | None = None) -> int:
    """Create the constraints and indexes that are missing; returns how many statements ran."""
    statements = schema_statements()
    with driver.session(database=database) as session:
        for statement in statements:
            session.run(statement).consume()
        session.run("CALL db.awaitIndexes(300)").consume()
    return len(statements)


def node_count(driver: Driver, database: str | None = None) -> int:
    """How many nodes the database holds (a read, routed to any member of a cluster)."""
    records, _, _ = driver.execute_query(
        "MATCH (n) RETURN count(n) AS nodes", database_=database, routing_="r"
    )
    return int(records[0]["nodes"])


def wipe(driver: Driver, database: str | None = None) -> None:
    """Delete every node of the database in batches, then recreate the schema."""
    with driver.session(database=database) as session:
        # CALL ... IN TRANSACTIONS needs an auto-commit transaction: session.run, not a managed one.
        session.run(
            "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
        ).consume()
    bootstrap(driver, database)
