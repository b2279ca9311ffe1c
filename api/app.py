"""The ASGI app: GraphQL (and GraphiQL) at /graphql, readiness at /healthz, the page at /.

Also the Navigator layer as a file (/navigator-layer.json) and GraphiQL's assets when cached
(/static/graphiql/).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from cross_web import HTTPException
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    Response,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse

from api import graphiql
from api.context import MAX_ITEMS, Context, build_context
from api.cost import MAX_COST
from api.errors import UNAVAILABLE_MESSAGE, is_unavailable, missing_database_message
from api.navigator import LayerDownload
from api.response_cache import ResponseCache
from api.schema import build_schema
from covgraph import __version__
from covgraph.errors import CatalogUnavailable, ConfigError
from graph.queries.runner import DEFAULT_QUERY_TIMEOUT, GraphAccess, missing_database
from graph.settings import Neo4jSettings, neo4j_settings

STATIC_DIR = Path(__file__).resolve().parent / "static"
#: Seconds a client is told to wait before retrying while Neo4j is unavailable.
RETRY_AFTER = "5"
#: What /healthz says when Neo4j answers but holds no loaded source.
EMPTY_MESSAGE = "Neo4j answers but no source is loaded: run `covgraph load` (or `make run`)."

log = logging.getLogger(__name__)


class GraphQLApp(GraphQL[Context, None]):
    """Strawberry's ASGI app with covgraph's context and the 503 rule for outages."""

    def __init__(
        self, access: GraphAccess, max_cost: int = MAX_COST, max_items: int = MAX_ITEMS
    ) -> None:
        super().__init__(build_schema(max_cost), graphql_ide="graphiql", allow_queries_via_get=True)
        self.access = access
        self.max_items = max_items

    async def get_context(self, request: Any, response: Any) -> Context:
        return build_context(self.access, request, response, max_items=self.max_items)

    def parse_json(self, data: str | bytes) -> Any:
        """A body that is not UTF-8 is the client's error (400), as malformed JSON is."""
        try:
            return super().parse_json(data)
        except UnicodeDecodeError as exc:
            raise HTTPException(
                400, "Unable to parse request body as JSON: it is not UTF-8"
            ) from exc

    async def render_graphql_ide(self, request: Any) -> Response:
        """Strawberry's GraphiQL page, with its assets served locally when they are cached."""
        return HTMLResponse(graphiql.ide_page())

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        bodies = response_data if isinstance(response_data, list) else [response_data]
        if any(is_unavailable(dict(body)) for body in bodies):
            response.status_code = 503
            response.headers["Retry-After"] = RETRY_AFTER
        return response


class Health:
    """`/healthz`: graph.health.check through a sync driver made on first use.

    200 "ok" when Neo4j answers and sources are loaded; 503 "empty" when it answers but nothing
    is loaded (no Source node), 503 "unavailable" when it cannot be reached. The messages are
    fixed, as in GraphQL errors: the driver's own text goes to the log only.
    """

    def __init__(self, settings: Neo4jSettings) -> None:
        self.settings = settings
        self._driver: Any = None
        self._lock = threading.Lock()

    def _check(self) -> tuple[dict[str, Any], int]:
        from graph.driver import make_driver
        from graph.health import check

        with self._lock:  # checks run in worker threads: one driver, made once
            if self._driver is None:
                self._driver = make_driver(self.settings)
            driver = self._driver
        try:
            health = check(driver, self.settings.database, settings=self.settings)
        except CatalogUnavailable:
            with self._lock:
                if self._driver is driver:
                    self._driver = None
            driver.close()
            raise
        body: dict[str, Any] = {
            "status": "ok" if health.sources else "empty",
            "covgraph": __version__,
            "neo4j": {"version": health.version, "edition": health.edition},
            "sources": list(health.sources),
        }
        if not health.sources:
            body["message"] = EMPTY_MESSAGE
            return body, 503
        return body, 200

    async def endpoint(self, request: Request) -> Response:
        try:
            body, status = await run_in_threadpool(self._check)
        except CatalogUnavailable as exc:
            log.warning("readiness: %s", exc)
            # The same code and message as GraphQL gives for the same condition.
            message = (
                missing_database_message(self.settings.database)
                if missing_database(exc)
                else UNAVAILABLE_MESSAGE
            )
            return JSONResponse(
                {
                    "status": "unavailable",
                    "covgraph": __version__,
                    "code": "CATALOG_UNAVAILABLE",
                    "message": message,
                },
                status_code=503,
                headers={"Retry-After": RETRY_AFTER},
            )
        return JSONResponse(body, status_code=status)

    def close(self) -> None:
        if self._driver is not None:
            self._driver.close()
            self._driver = None


async def index(request: Request) -> Response:
    """The static page when one has been added under api/static, else a pointer to /graphql."""
    page = STATIC_DIR / "index.html"
    if page.is_file():
        return FileResponse(page)
    return PlainTextResponse("covgraph API: GraphQL (and GraphiQL) at /graphql\n")


def _cache_enabled() -> bool:
    return os.environ.get("COVGRAPH_API_CACHE", "1").strip().lower() not in {"0", "false", "no"}


def _generation_ttl() -> float:
    raw = os.environ.get("COVGRAPH_API_CACHE_TTL", "1").strip()
    try:
        ttl = float(raw)
    except ValueError:
        raise ConfigError(
            f"COVGRAPH_API_CACHE_TTL must be a number of seconds, got {raw!r}"
        ) from None
    if ttl < 0:
        raise ConfigError(f"COVGRAPH_API_CACHE_TTL must be 0 or more, got {raw!r}")
    return ttl


def query_timeout() -> float | None:
    """COVGRAPH_API_QUERY_TIMEOUT: seconds per Neo4j read (default 10; 0 = the server's limit)."""
    raw = os.environ.get("COVGRAPH_API_QUERY_TIMEOUT", "").strip()
    if not raw:
        return DEFAULT_QUERY_TIMEOUT
    try:
        seconds = float(raw)
    except ValueError:
        raise ConfigError(
            f"COVGRAPH_API_QUERY_TIMEOUT must be a number of seconds, got {raw!r}"
        ) from None
    if seconds < 0:
        raise ConfigError(f"COVGRAPH_API_QUERY_TIMEOUT must be 0 or more, got {raw!r}")
    return seconds or None


def _positive(name: str, default: int) -> int:
    """A whole number above 0 from the environment, or the default."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise ConfigError(f"{name} must be a whole number above 0, got {raw!r}")
    return int(raw)


def max_cost() -> int:
    """COVGRAPH_API_MAX_COST: the most objects a document may be estimated to return."""
    return _positive("COVGRAPH_API_MAX_COST", MAX_COST)


def max_items() -> int:
    """COVGRAPH_API_MAX_ITEMS: the most list items an answer may hold as it runs."""
    return _positive("COVGRAPH_API_MAX_ITEMS", MAX_ITEMS)


def _graphql_route(graphql: GraphQLApp, access: GraphAccess) -> Any:
    """The GraphQL app, behind the response cache unless COVGRAPH_API_RESPONSE_CACHE=0."""
    flag = os.environ.get("COVGRAPH_API_RESPONSE_CACHE", "1").strip().lower()
    if flag in {"0", "false", "no"}:
        return graphql
    return ResponseCache(graphql, access)


async def _warm(access: GraphAccess) -> None:
    """Build the in-memory indexes once at start, so the first requests do not wait for them.

    Best effort: with Neo4j down or the graph empty, requests build them later as usual.
    """
    try:
        await build_context(access).loaders.warm()
    except CatalogUnavailable:
        log.info("Neo4j not available at start; indexes are built on first use")
    except Exception:  # a warm-up failure must never stop the server
        log.exception("building the in-memory indexes at start failed")


def create_app(settings: Neo4jSettings | None = None, *, cache: bool | None = None) -> Starlette:
    """The ASGI app. Settings are read here (NEO4J_*), not at import; Neo4j is contacted lazily."""
    settings = settings or neo4j_settings()
    access = GraphAccess(
        settings,
        cache_enabled=_cache_enabled() if cache is None else cache,
        generation_ttl=_generation_ttl(),
        query_timeout=query_timeout(),
    )
    graphql = GraphQLApp(access, max_cost(), max_items())
    health = Health(settings)
    layer = LayerDownload(graphql.schema, lambda request: build_context(access, request))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        warming = asyncio.ensure_future(_warm(access))
        yield
        warming.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await warming
        await access.close()
        health.close()

    app = Starlette(
        routes=[
            Route("/", index),
            Route("/healthz", health.endpoint),
            Route("/graphql", _graphql_route(graphql, access), methods=["GET", "POST"]),
            Route("/navigator-layer.json", layer.endpoint),
            Route("/static/graphiql/{path:path}", graphiql.asset),
            Mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static"),
        ],
        lifespan=lifespan,
    )
    app.state.access = access
    return app
