"""`covgraph serve`: the GraphQL API under uvicorn."""

from __future__ import annotations

import argparse
import errno
import socket
from typing import Any

from covgraph.errors import ConfigError


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
    parser.add_argument(
        "--port", type=int, default=8000, help="port to bind (8000; make run: $COVGRAPH_PORT)"
    )
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


def check_port(host: str, port: int, how_to_change: str) -> None:
    """Fail with a clear message unless ``host:port`` can be bound now, as uvicorn will bind it.

    uvicorn's own failure is a bare "[Errno 98]" (with several workers, without the address),
    and `make run` would only reach it after the whole load: checked first instead.
    ``how_to_change`` names the setting that picks another port.
    """
    if not 0 < port < 65536:
        raise ConfigError(f"port {port} is out of range (1-65535): {how_to_change}")
    # The same socket uvicorn makes: IPv6 when the host has a colon, SO_REUSEADDR set (so a
    # port in TIME_WAIT after a restart is not taken for a busy one).
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    where = f"[{host}]:{port}" if family == socket.AF_INET6 else f"{host}:{port}"
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                reason = "the port is already in use (another covgraph serve, or another program)"
            elif exc.errno == errno.EACCES:
                reason = "permission denied (ports below 1024 need privileges)"
            elif exc.errno == errno.EADDRNOTAVAIL:
                reason = "this machine has no such address"
            else:
                reason = exc.strerror or str(exc)
            raise ConfigError(
                f"cannot serve the API on {where}: {reason}; {how_to_change}"
            ) from None
        except (socket.gaierror, UnicodeError) as exc:
            raise ConfigError(f"cannot serve the API on {where}: unknown host ({exc})") from None


def _run(args: argparse.Namespace) -> int:
    import uvicorn

    from graph.settings import neo4j_settings

    if args.workers < 1:
        raise ConfigError(f"--workers must be 1 or more, got {args.workers}")
    check_port(
        args.host,
        args.port,
        "choose another port with --port N (make run: COVGRAPH_PORT=N; host: --host or "
        "COVGRAPH_HOST)",
    )
    settings = neo4j_settings()  # a bad setting fails here, before workers start
    # uvicorn says "Uvicorn running on ..." once it listens; this line comes before that.
    print(
        f"covgraph API starting on http://{args.host}:{args.port}/graphql (Neo4j {settings.uri})",
        flush=True,
    )
    try:
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
    except SystemExit as exc:
        # uvicorn exits on a failed start (a port taken since the check): an exit code for the
        # caller, so that `make run` reports the step that failed.
        return exc.code if isinstance(exc.code, int) else 1
    return 0
