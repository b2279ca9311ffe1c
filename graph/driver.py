"""The driver factory and the errors that say which server could not be reached."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator

from neo4j import Driver, GraphDatabase
from neo4j.exceptions import AuthError, ServiceUnavailable

from covgraph.errors import CatalogUnavailable, ConfigError
from graph.settings import Neo4jSettings, neo4j_settings

#: Bolt schemes, direct and routing. The driver also takes http(s):// (a preview of the Query
#: API that needs aiohttp and does not support everything covgraph runs), so that is refused here.
BOLT_SCHEMES = frozenset({"bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc"})


def make_driver(settings: Neo4jSettings | None = None) -> Driver:
    """A driver for the configured server; nothing is contacted until it is used."""
    settings = settings or neo4j_settings()
    scheme = settings.uri.partition("://")[0].lower() if "://" in settings.uri else ""
    if scheme not in BOLT_SCHEMES:
        raise ConfigError(
            f"NEO4J_URI {settings.uri!r} is not a Neo4j URI: use bolt://HOST:PORT or "
            "neo4j://HOST:PORT (or their +s / +ssc forms)"
        )
    try:
        return GraphDatabase.driver(
            settings.uri,
            auth=settings.auth,
            connection_timeout=5.0,
            connection_acquisition_timeout=10.0,
            max_transaction_retry_time=5.0,
        )
    except ValueError as exc:  # the driver rejects malformed URIs with ValueError
        raise ConfigError(f"NEO4J_URI {settings.uri!r} is not a Neo4j URI: {exc}") from None


class _DropRoutingFailure(logging.Filter):
    """Drops the pool's "Unable to retrieve routing information" record.

    connect() raises CatalogUnavailable with the same text; the logged copy would print it a
    second time on the terminal (Python's last-resort handler shows errors of unconfigured
    loggers).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != "Unable to retrieve routing information"


@contextlib.contextmanager
def _quiet_routing_failure() -> Iterator[None]:
    logger = logging.getLogger("neo4j.pool")
    dropper = _DropRoutingFailure()
    logger.addFilter(dropper)
    try:
        yield
    finally:
        logger.removeFilter(dropper)


def connect(settings: Neo4jSettings | None = None) -> Driver:
    """A driver that has been checked to reach its server; the error names the URI."""
    settings = settings or neo4j_settings()
    driver = make_driver(settings)
    try:
        with _quiet_routing_failure():
            driver.verify_connectivity()
    except AuthError as exc:
        driver.close()
        raise CatalogUnavailable(
            f"Neo4j at {settings.uri} refused the credentials: {exc.message}"
        ) from None
    except (ServiceUnavailable, OSError) as exc:
        driver.close()
        where = "NEO4J_URI " if settings.external else "the local server "
        hint = "" if settings.external else " (start it with `covgraph neo4j start`)"
        raise CatalogUnavailable(
            f"cannot reach Neo4j at {where}{settings.uri}: {exc}{hint}"
        ) from None
    return driver
