"""The health check the API's readiness endpoint and `covgraph neo4j status` use."""

from __future__ import annotations

from dataclasses import dataclass

from neo4j import Driver
from neo4j.exceptions import DriverError, Neo4jError

from covgraph.errors import CatalogUnavailable
from graph.settings import neo4j_settings

HEALTH_QUERY = """
CALL dbms.components() YIELD name, versions, edition
RETURN versions[0] AS version, edition
"""

LOADED_QUERY = """
OPTIONAL MATCH (s:Source)
RETURN collect(s.name) AS sources
"""


@dataclass(frozen=True, slots=True)
class Health:
    version: str
    edition: str
    sources: tuple[str, ...]


def check(driver: Driver | None = None, database: str | None = None) -> Health:
    """Ask the server who it is and which sources are loaded; raises CatalogUnavailable."""
    settings = neo4j_settings()
    if driver is None:
        from graph.driver import connect

        with connect(settings) as own:
            return check(own, database or settings.database)
    try:
        records, _, _ = driver.execute_query(
            HEALTH_QUERY, database_=database or settings.database, routing_="r"
        )
        loaded, _, _ = driver.execute_query(
            LOADED_QUERY, database_=database or settings.database, routing_="r"
        )
    except (DriverError, Neo4jError, OSError) as exc:
        raise CatalogUnavailable(f"Neo4j at {settings.uri} is not available: {exc}") from None
    return Health(
        version=str(records[0]["version"]),
        edition=str(records[0]["edition"]),
        sources=tuple(sorted(loaded[0]["sources"])),
    )
