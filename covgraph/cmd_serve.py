"""`covgraph serve`: the GraphQL API under uvicorn."""

from __future__ import annotations

import argparse
from typing import Any


def register(commands: Any) -> None:
    """Add `serve` to the CLI's sub-commands."""
    parser = commands.add_parser(
        "serve",
        help="serve the GraphQL API (GraphiQL at /graphql, readiness at /healthz)",
        description="Serve the API with uvicorn. Neo4j is reached through NEO4J_URI, "
        "NEO4J_USER, NEO4J_PASSWORD and NEO4J_DATABASE, else the local server "
        "(COVGRAPH_NEO4J_*). The server starts even when Neo4j is down: requests then answer "
        "503 until it is back.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to bind (8000)")
    parser.add_argument(
        "--workers", type=int, default=1, help="worker processes, each with its own cache (1)"
    )
    parser.add_argument(
        "--log-level",
        default="info",
        choices=("critical", "error", "warning", "info", "debug"),
        help="uvicorn log level (info)",
    )
    parser.set_defaults(handler=_run)


def _run(args: argparse.Namespace) -> int:
    import uvicorn

    from covgraph.errors import ConfigError
    from graph.settings import neo4j_settings

    if args.workers < 1:
        raise ConfigError(f"--workers must be 1 or more, got {args.workers}")
    settings = neo4j_settings()  # a bad setting fails here, before workers start
    print(f"covgraph API on http://{args.host}:{args.port}/graphql (Neo4j {settings.uri})")
    uvicorn.run(
        "api.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        reload=False,
        log_level=args.log_level,
        access_log=False,
    )
    return 0
