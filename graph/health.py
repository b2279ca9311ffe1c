"""The health check the API's readiness endpoint and `covgraph neo4j status` use."""

from __future__ import annotations

from dataclasses import dataclass

from neo4j import Driver, ManagedTransaction, Transaction
from neo4j.exceptions import DriverError, Neo4jError

from covgraph.errors import CatalogUnavailable
from graph.settings import Neo4jSettings, neo4j_settings

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
    """Who the server is (version, edition) and which sources its graph holds."""

    version: str
    edition: str
    sources: tuple[str, ...]


#: Seconds the server may take to answer the check.
CHECK_TIMEOUT = 5.0


def _read(tx: ManagedTransaction | Transaction) -> Health:
    component = tx.run(HEALTH_QUERY).single(strict=True)
    loaded = tx.run(LOADED_QUERY).single(strict=True)
    return Health(
        version=str(component["version"]),
        edition=str(component["edition"]),
        sources=tuple(sorted(loaded["sources"])),
    )


def check(
    driver: Driver | None = None,
    database: str | None = None,
    *,
    settings: Neo4jSettings | None = None,
) -> Health:
    """Ask the server who it is and which sources are loaded; raises CatalogUnavailable.

    settings name the server in errors and, without a driver, are used to connect; only when
    neither is given are they read from the environment. database defaults to settings'.
    """
    if settings is None:
        settings = neo4j_settings()
    database = database or settings.database
    if driver is None:
        from graph.driver import connect

        with connect(settings) as own:
            return check(own, database, settings=settings)
    try:
        # Notifications off: on an empty graph, LOADED_QUERY names a label that does not exist
        # yet, and the server's warning about it would be logged on every check.
        # One explicit transaction, not a managed one: a readiness probe wants the answer now,
        # and a managed read would retry an unreachable server for the driver's retry time.
        with (
            driver.session(
                database=database, default_access_mode="READ", notifications_min_severity="OFF"
            ) as session,
            session.begin_transaction(timeout=CHECK_TIMEOUT) as tx,
        ):
            return _read(tx)
    except (DriverError, Neo4jError, OSError) as exc:
        raise CatalogUnavailable(f"Neo4j at {settings.uri} is not available: {exc}") from None
