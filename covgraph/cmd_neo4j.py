"""`covgraph neo4j install | start | stop | status`: the local development server."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import Any

from graph.settings import LocalServerSettings, local_server_settings, neo4j_settings

EXIT_NOT_RUNNING = 3  # as `pg_ctl status` does


def register(commands: Any) -> None:
    """Add `neo4j install|start|stop|status` to the CLI's sub-commands."""
    parser = commands.add_parser("neo4j", help="manage the local Neo4j server")
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    for name, handler, text in (
        ("install", _install, "resolve the server jars with Maven (start does it when needed)"),
        ("start", _start, "start the server in the background and wait for Bolt"),
        ("stop", _stop, "stop the server this home's pid file names"),
        ("status", _status, "say whether it runs (exit 0) or not (exit 3)"),
    ):
        sub = actions.add_parser(name, help=text)
        sub.add_argument("--home", help="server home (data, logs, pid); $COVGRAPH_NEO4J_HOME")
        sub.add_argument("--bolt-port", type=int, help="Bolt port; $COVGRAPH_NEO4J_BOLT_PORT")
        sub.add_argument("--http-port", type=int, help="HTTP port; $COVGRAPH_NEO4J_HTTP_PORT")
        sub.set_defaults(handler=handler)


def _settings(args: argparse.Namespace) -> LocalServerSettings:
    from pathlib import Path

    settings = local_server_settings()
    changes: dict[str, Any] = {}
    if args.home:
        changes["home"] = Path(args.home).expanduser().resolve()
    if args.bolt_port:
        changes["bolt_port"] = args.bolt_port
    if args.http_port:
        changes["http_port"] = args.http_port
    return dataclasses.replace(settings, **changes)


def _external_uri() -> str | None:
    settings = neo4j_settings()
    return settings.uri if settings.external else None


def _install(args: argparse.Namespace) -> int:
    from graph.launcher import install

    lib = install(_settings(args), quiet=False)
    print(f"Neo4j jars in {lib}")
    return 0


def _start(args: argparse.Namespace) -> int:
    uri = _external_uri()
    if uri:
        from graph.driver import connect

        connect().close()
        print(f"NEO4J_URI is set: using the server at {uri}; nothing to start")
        return 0
    from graph.launcher import start

    started, state = start(_settings(args))
    print(("started: " if started else "already running, nothing started: ") + state.describe())
    # Commands that connect use the configured ports: with the server elsewhere they would fail.
    return 1 if state.ports_differ else 0


def _stop(args: argparse.Namespace) -> int:
    uri = _external_uri()
    if uri:
        print(f"NEO4J_URI is set: the server at {uri} is not managed by covgraph; nothing to stop")
        return 0
    from graph.launcher import status, stop

    settings = _settings(args)
    pid = status(settings).pid
    if stop(settings):
        print(f"stopped Neo4j (pid {pid}, home {settings.home})")
    else:
        print(f"Neo4j was not running (home {settings.home})")
    return 0


def _status(args: argparse.Namespace) -> int:
    uri = _external_uri()
    if uri:
        from covgraph.errors import CatalogUnavailable
        from graph.health import check

        try:
            health = check(settings=neo4j_settings())
        except CatalogUnavailable as exc:
            print(exc, file=sys.stderr)
            return EXIT_NOT_RUNNING
        print(f"Neo4j {health.version} ({health.edition}) answers at {uri}")
        return 0
    from graph.launcher import status

    state = status(_settings(args))
    print(state.describe())
    return 0 if state.running else EXIT_NOT_RUNNING
