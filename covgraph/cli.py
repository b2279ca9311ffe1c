"""The `covgraph` command line: one sub-command module per concern."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from covgraph import __version__
from covgraph.errors import CovgraphError

# Each module registers its sub-commands; handlers import their heavy dependencies lazily so
# that `covgraph --help` stays fast.
COMMAND_MODULES = (
    "covgraph.cmd_neo4j",
    "covgraph.cmd_load",
    "covgraph.cmd_serve",
    "covgraph.cmd_sync",
    "covgraph.cmd_query",
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command registered."""
    import importlib

    parser = argparse.ArgumentParser(
        prog="covgraph",
        description="Detection coverage graph: rules and ATT&CK in Neo4j, served over GraphQL.",
    )
    parser.add_argument("--version", action="version", version=f"covgraph {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns its exit code. CovgraphError is printed, not traced."""
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
    except CovgraphError as exc:
        print(f"covgraph: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("covgraph: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`covgraph query ... | head`): nothing more to say to it.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    return code


if __name__ == "__main__":
    sys.exit(main())
