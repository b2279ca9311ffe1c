"""Runs the API's read queries: a lazy async driver, per-request counts, a generation-keyed cache.

The graph changes only when a source is loaded, and every load rewrites its Source node's
`loaded_at` (and counts) in the same transaction as its rules. The Source nodes' (name,
loaded_at, counts) are therefore a version of the whole graph: results cached under one version
stay true until it changes. The version is read again when it is older than `generation_ttl`
seconds (default 1 s; 0 reads it on every request), so a reload, or an outage, is noticed within
that time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from neo4j import AsyncDriver, AsyncGraphDatabase, RoutingControl
from neo4j import Query as Neo4jQuery
from neo4j.exceptions import (
    AuthError,
    ConnectionAcquisitionTimeoutError,
    Neo4jError,
    ServiceUnavailable,
    SessionExpired,
    TransientError,
)

from covgraph.errors import CatalogUnavailable, ConfigError, CovgraphError
from graph.driver import BOLT_SCHEMES
from graph.settings import Neo4jSettings

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
Row = dict[str, Any]

#: Errors that mean "the server cannot answer now", as opposed to a wrong query.
UNAVAILABLE_ERRORS = (
    ServiceUnavailable,
    SessionExpired,
    ConnectionAcquisitionTimeoutError,
    AuthError,
    TransientError,
    OSError,
)

#: Server codes of a transaction stopped for running past its timeout.
TIMEOUT_CODES = frozenset(
    {
        "Neo.ClientError.Transaction.TransactionTimedOutClientConfiguration",
        "Neo.ClientError.Transaction.TransactionTimedOut",
        "Neo.TransientError.Transaction.TransactionTimedOut",
    }
)

#: Seconds a read may run in Neo4j before the server stops it (COVGRAPH_API_QUERY_TIMEOUT).
DEFAULT_QUERY_TIMEOUT = 10.0


class UnencodableText(CovgraphError):
    """A parameter holds text that is not valid Unicode (a lone UTF-16 surrogate, which JSON
    allows as an escape), so it cannot be sent to Neo4j."""

    def __init__(self, query: str) -> None:
        super().__init__(
            "a text argument is not valid Unicode (it holds a lone UTF-16 surrogate, "
            "such as \\ud800)"
        )
        self.query = query


class QueryTimedOut(CovgraphError):
    """Neo4j stopped a read that ran longer than a transaction timeout (the API's or its own)."""

    def __init__(self, query: str, timeout: float | None) -> None:
        limit = f"{timeout:g} s" if timeout is not None else "the server's transaction timeout"
        super().__init__(f"query {query!r} ran longer than {limit} and was stopped")
        self.query = query
        #: The API's timeout, or None when the server's own (db.transaction.timeout) stopped it.
        self.timeout = timeout


#: The server's code for a database it does not have (a wrong NEO4J_DATABASE).
DATABASE_NOT_FOUND = "Neo.ClientError.Database.DatabaseNotFound"


class DatabaseNotFound(CatalogUnavailable):
    """Neo4j answers but has no database of the configured name: a configuration problem."""

    def __init__(self, uri: str, database: str | None) -> None:
        super().__init__(f"Neo4j at {uri} has no database {database!r} (NEO4J_DATABASE)")
        self.database = database


def missing_database(error: BaseException) -> bool:
    """Whether a driver error, or one it was raised from or while handling, is DatabaseNotFound."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, DatabaseNotFound) or getattr(seen, "code", None) == DATABASE_NOT_FOUND:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


@dataclass(frozen=True, slots=True)
class Query:
    """One named read statement; `text` takes parameters only, never spliced input."""

    name: str
    text: str


GENERATION = Query(
    "generation",
    """
MATCH (s:Source) WITH s ORDER BY s.name
RETURN collect(s.name + '@' + coalesce(s.loaded_at, '') + '/' + elementId(s) + '/'
               + toString(coalesce(s.rule_count, s.technique_count, 0)) + '/'
               + toString(coalesce(s.predicate_count, 0))) AS generation
""",
)


def _cache_key(query: Query, params: Mapping[str, Any]) -> str:
    return query.name + "\x00" + json.dumps(params, sort_keys=True, default=str)


class GraphAccess:
    """Application-wide access to Neo4j: the driver, created on first use, and the result cache.

    A driver whose server went away is dropped, so the next request builds a fresh one and the
    API answers again as soon as the server is back, without a restart.
    """

    def __init__(
        self,
        settings: Neo4jSettings,
        *,
        cache_size: int = 4096,
        object_cache_size: int = 16384,
        cache_enabled: bool = True,
        generation_ttl: float = 1.0,
        retry_seconds: float = 1.0,
        query_timeout: float | None = DEFAULT_QUERY_TIMEOUT,
    ) -> None:
        self.settings = settings
        #: Seconds Neo4j gives each read transaction; None leaves the server's own limit.
        self.query_timeout = query_timeout
        self.cache_enabled = cache_enabled
        self.generation_ttl = generation_ttl
        self._generation: str | None = None
        self._generation_read_at = 0.0
        self._generation_lock: asyncio.Lock | None = None
        self._cache_size = cache_size
        self._retry_seconds = retry_seconds
        self._driver: AsyncDriver | None = None
        self._cache: OrderedDict[str, list[Row]] = OrderedDict()
        self._cache_generation: str | None = None
        self._derived: dict[str, Any] = {}
        self._objects: OrderedDict[Hashable, Any] = OrderedDict()
        self._object_cache_size = object_cache_size
        self._derived_locks: dict[str, asyncio.Lock] = {}

    def driver(self) -> AsyncDriver:
        """The driver, created on first use; nothing is contacted here."""
        if self._driver is None:
            scheme = self.settings.uri.partition("://")[0].lower()
            if scheme not in BOLT_SCHEMES:
                raise ConfigError(f"NEO4J_URI {self.settings.uri!r} is not a Bolt URI")
            self._driver = AsyncGraphDatabase.driver(
                self.settings.uri,
                auth=self.settings.auth,
                connection_timeout=3.0,
                connection_acquisition_timeout=5.0,
                max_transaction_retry_time=self._retry_seconds,
                notifications_min_severity="OFF",
            )
        return self._driver

    async def fetch(self, query: Query, params: Mapping[str, Any]) -> list[Row]:
        """Run one statement in a read transaction with the timeout.

        Unavailability becomes CatalogUnavailable, a transaction stopped by the timeout
        QueryTimedOut.
        """
        driver = self.driver()
        try:
            result = await driver.execute_query(
                Neo4jQuery(query.text, timeout=self.query_timeout),
                dict(params),
                routing_=RoutingControl.READ,
                database_=self.settings.database,
                bookmark_manager_=None,
            )
        except Neo4jError as exc:
            if exc.code in TIMEOUT_CODES:
                raise QueryTimedOut(query.name, self.query_timeout) from exc
            if exc.code == DATABASE_NOT_FOUND:
                raise DatabaseNotFound(self.settings.uri, self.settings.database) from exc
            if isinstance(exc, UNAVAILABLE_ERRORS):
                await self._drop_driver(driver)
                raise CatalogUnavailable(
                    f"Neo4j at {self.settings.uri} is not available: {type(exc).__name__}"
                ) from exc
            raise
        except UNAVAILABLE_ERRORS as exc:
            await self._drop_driver(driver)
            raise CatalogUnavailable(
                f"Neo4j at {self.settings.uri} is not available: {type(exc).__name__}"
            ) from exc
        except UnicodeEncodeError as exc:
            raise UnencodableText(query.name) from exc
        return [dict(record) for record in result.records]

    async def generation(self) -> str:
        """The graph's version, read again from Neo4j when older than `generation_ttl`."""
        if self._fresh():
            assert self._generation is not None
            return self._generation
        if self._generation_lock is None:
            self._generation_lock = asyncio.Lock()
        async with self._generation_lock:
            if not self._fresh():
                rows = await self.fetch(GENERATION, {})
                self._generation = "|".join(rows[0]["generation"]) if rows else ""
                self._generation_read_at = time.monotonic()
            assert self._generation is not None
            return self._generation

    def _fresh(self) -> bool:
        return (
            self._generation is not None
            and time.monotonic() - self._generation_read_at < self.generation_ttl
        )

    async def _drop_driver(self, driver: AsyncDriver) -> None:
        if self._driver is driver:
            self._driver = None
            self._derived.clear()
            self._objects.clear()
            self._cache.clear()
            self._cache_generation = None
            self._generation = None
        # Closing a driver whose server went away may fail; it is dropped either way.
        with contextlib.suppress(Exception):
            await driver.close()

    def _switch(self, generation: str) -> None:
        """Forget everything cached under another graph version."""
        if self._cache_generation != generation:
            self._cache.clear()
            self._derived.clear()
            self._objects.clear()
            self._cache_generation = generation

    def cached(self, generation: str, key: str) -> list[Row] | None:
        """A cached result of this generation, or None."""
        self._switch(generation)
        rows = self._cache.get(key)
        if rows is not None:
            self._cache.move_to_end(key)
        return rows

    def store(self, generation: str, key: str, rows: list[Row]) -> None:
        """Keep a result for this generation, evicting the least recently used beyond the size."""
        if self._cache_generation != generation:
            return
        self._cache[key] = rows
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def memo(self, generation: str, key: Hashable, build: Callable[[], T]) -> T:
        """An answer object shaped from cached rows, built once per generation (LRU).

        Shaping rows into the API's objects (a rule, a technique's authoring guide) costs more
        CPU than the read they come from once the rows are cached; the objects are read-only,
        so requests of one graph version share them.
        """
        known, found = self.recall(generation, key)
        if known:
            kept: T = found
            return kept
        value = build()
        self.keep(generation, key, value)
        return value

    def recall(self, generation: str, key: Hashable) -> tuple[bool, Any]:
        """(found, value) of an object kept for this generation by `keep` or `memo`."""
        self._switch(generation)
        if key not in self._objects:
            return False, None
        self._objects.move_to_end(key)
        return True, self._objects[key]

    def keep(self, generation: str, key: Hashable, value: object) -> None:
        """Keep an object for this generation (LRU with the `memo` objects)."""
        if self._cache_generation != generation:
            return
        self._objects[key] = value
        if len(self._objects) > self._object_cache_size:
            self._objects.popitem(last=False)

    async def derived(self, generation: str, name: str, build: Callable[[], Awaitable[T]]) -> T:
        """An artefact computed from the graph (an index), built once per generation."""
        lock = self._derived_locks.setdefault(name, asyncio.Lock())
        async with lock:
            self._switch(generation)
            stored = self._derived.get(name)
            # Kept with its version: a build that spans a reload is not handed to newer requests.
            if stored is None or stored[0] != generation:
                stored = (generation, await build())
                self._derived[name] = stored
            value: T = stored[1]
            return value

    async def close(self) -> None:
        """Close the driver if one was made."""
        if self._driver is not None:
            driver, self._driver = self._driver, None
            await driver.close()


class RequestRunner:
    """One request's view of the graph: counts its queries and reads the generation once."""

    def __init__(self, access: GraphAccess) -> None:
        self.access = access
        #: Statements the request asked for (cached or not).
        self.queries = 0
        #: Statements actually sent to Neo4j (the shared generation check not included).
        self.executed = 0
        self._generation: asyncio.Task[str] | None = None
        #: Artefacts built for this request alone (without the cache), by name.
        self._derived: dict[str, asyncio.Task[Any]] = {}

    async def generation(self) -> str:
        """The graph's version for this request (the same for all its reads)."""
        if self._generation is None:
            self._generation = asyncio.ensure_future(self._read_generation())
        return await self._generation

    async def _read_generation(self) -> str:
        return await self.access.generation()

    async def read(self, query: Query, **params: Any) -> list[Row]:
        """Rows of one named query, from the cache when the graph has not changed."""
        self.queries += 1
        if not self.access.cache_enabled:
            self.executed += 1
            return await self.access.fetch(query, params)
        generation = await self.generation()
        key = _cache_key(query, params)
        rows = self.access.cached(generation, key)
        if rows is None:
            self.executed += 1
            rows = await self.access.fetch(query, params)
            self.access.store(generation, key, rows)
        return rows

    def memo(self, key: Hashable, build: Callable[[], T]) -> T:
        """`build()`, shared with the other requests of this graph version (see GraphAccess.memo).

        Only once this request has read the version, which every cached read does first:
        otherwise, and without the cache, the object is built for this request alone.
        """
        task = self._generation
        if (
            not self.access.cache_enabled
            or task is None
            or not task.done()
            or task.cancelled()
            or task.exception() is not None
        ):
            return build()
        return self.access.memo(task.result(), key, build)

    async def each(
        self,
        name: str,
        keys: Sequence[K],
        read: Callable[[list[K]], Awaitable[Sequence[V]]],
    ) -> list[V]:
        """`read(keys)`'s values, each kept per graph version under (name, key).

        Pages share many keys (sysmon:1 and its catalog-wide rule count, popular rules, the
        reach of common indicators): only keys no earlier request of this version read are
        read, in one statement. `read` returns one value per key, in order.
        """
        if not self.access.cache_enabled:
            return list(await read(list(keys)))
        generation = await self.generation()
        found: dict[K, V] = {}
        missing: list[K] = []
        for key in dict.fromkeys(keys):
            known, value = self.access.recall(generation, (name, key))
            if known:
                found[key] = value
            else:
                missing.append(key)
        if missing:
            for key, value in zip(missing, await read(missing), strict=True):
                found[key] = value
                self.access.keep(generation, (name, key), value)
        return [found[key] for key in keys]

    async def derived(self, name: str, build: Callable[[], Awaitable[T]]) -> T:
        """An artefact built from the graph once per generation (or per request without cache).

        Without the cache the build is still shared by the request's fields: a list of rules
        each asking its similar rules builds the index once, not once per rule.
        """
        if not self.access.cache_enabled:
            if name not in self._derived:
                self._derived[name] = asyncio.ensure_future(build())
            built: T = await self._derived[name]
            return built
        generation = await self.generation()
        return await self.access.derived(generation, name, build)
