"""The ASGI app: GraphQL (and GraphiQL) at /graphql, readiness at /healthz, the page at /."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse

from api.context import Context, build_context
from api.errors import is_unavailable
from api.response_cache import ResponseCache
from api.schema import build_schema
from covgraph import __version__
from covgraph.errors import CatalogUnavailable, ConfigError
from graph.queries.runner import GraphAccess
from graph.settings import Neo4jSettings, neo4j_settings

STATIC_DIR = Path(__file__).resolve().parent / "static"
#: Seconds a client is told to wait before retrying while Neo4j is unavailable.
RETRY_AFTER = "5"

log = logging.getLogger(__name__)


class GraphQLApp(GraphQL[Context, None]):
    """Strawberry's ASGI app with covgraph's context and the 503 rule for outages."""

    def __init__(self, access: GraphAccess) -> None:
        super().__init__(build_schema(), graphql_ide="graphiql", allow_queries_via_get=True)
        self.access = access

    async def get_context(self, request: Any, response: Any) -> Context:
        return build_context(self.access, request, response)

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
    """`/healthz`: graph.health.check through a sync driver made on first use."""

    def __init__(self, settings: Neo4jSettings) -> None:
        self.settings = settings
        self._driver: Any = None
        self._lock = threading.Lock()

    def _check(self) -> dict[str, Any]:
        from graph.driver import make_driver
        from graph.health import check

        with self._lock:  # checks run in worker threads: one driver, made once
            if self._driver is None:
                self._driver = make_driver(self.settings)
            driver = self._driver
        try:
            health = check(driver, self.settings.database)
        except CatalogUnavailable:
            with self._lock:
                if self._driver is driver:
                    self._driver = None
            driver.close()
            raise
        return {
            "status": "ok",
            "covgraph": __version__,
            "neo4j": {"version": health.version, "edition": health.edition},
            "sources": list(health.sources),
        }

    async def endpoint(self, request: Request) -> Response:
        try:
            body = await run_in_threadpool(self._check)
        except CatalogUnavailable as exc:
            return JSONResponse(
                {"status": "unavailable", "covgraph": __version__, "error": str(exc)},
                status_code=503,
                headers={"Retry-After": RETRY_AFTER},
            )
        return JSONResponse(body)

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
    )
    graphql = GraphQLApp(access)
    health = Health(settings)

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
            Mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static"),
        ],
        lifespan=lifespan,
    )
    app.state.access = access
    return app
