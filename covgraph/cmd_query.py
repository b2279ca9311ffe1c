"""`covgraph query` and `covgraph technique`: the GraphQL API from the command line, no server.

`query` runs any document and prints the JSON body the HTTP API would send, for scripts (`jq`).
`technique` prints a technique's page as tables: coverage, events, fields, indicators with their
corpus reach, exclusions and rules per vendor, from the same single request the web page makes.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Set
from pathlib import Path
from typing import Any

from covgraph.errors import ConfigError

VENDORS = ("SIGMA", "ELASTIC", "SPLUNK")


def register(commands: Any) -> None:
    """Add `query` and `technique` to the CLI's sub-commands."""
    query = commands.add_parser(
        "query",
        help="run a GraphQL document against the graph and print the JSON answer",
        description="Run one GraphQL document in process (no server needed) against Neo4j "
        "(NEO4J_URI, else the local server) and print the body the HTTP API would answer. "
        "Exit status: 0 without errors, 1 when the answer has errors, 2 when Neo4j is "
        "unavailable.",
    )
    query.add_argument(
        "document", nargs="?", help="the GraphQL document; '-' or none: read it from stdin"
    )
    query.add_argument("-f", "--file", type=Path, help="read the document from this file")
    query.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a variable; VALUE is text for a String or ID variable, else JSON when it parses "
        '(42, true, ["T1047"]), else text (repeatable)',
    )
    query.add_argument(
        "--variables", metavar="JSON", help="variables as one JSON object (--var adds to it)"
    )
    query.add_argument(
        "--operation", metavar="NAME", help="the operation to run, in a document of several"
    )
    query.add_argument("--compact", action="store_true", help="one line of JSON, no indent")
    query.set_defaults(handler=_run_query)

    technique = commands.add_parser(
        "technique",
        help="print a technique's coverage and authoring guide as tables",
        description="A technique's page in the terminal: rules per vendor, events, the fields "
        "filtered most, the top indicators with their corpus reach, what the rules exclude, and "
        "the rules. Neo4j: NEO4J_URI, else the local server.",
    )
    technique.add_argument("id", help="ATT&CK technique id, e.g. T1546.003")
    technique.add_argument(
        "--sub", action="store_true", help="count the rules of its sub-techniques too"
    )
    technique.add_argument(
        "--vendor",
        action="append",
        type=str.upper,
        choices=VENDORS,
        help="authoring guide from these vendors' rules only (repeatable)",
    )
    technique.add_argument("--first", type=int, default=15, help="rows per table (15; at most 200)")
    technique.add_argument(
        "--rules", action="store_true", help="list every rule, not only the counts per vendor"
    )
    technique.add_argument(
        "--json", action="store_true", help="print the API's JSON answer instead of tables"
    )
    technique.set_defaults(handler=_run_technique)


def _document(args: argparse.Namespace) -> str:
    if args.file is not None and args.document not in (None, "-"):
        raise ConfigError("give the document either as an argument or with --file, not both")
    if args.file is not None:
        try:
            text = str(args.file.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"cannot read {args.file}: {exc.strerror or exc}") from None
        return _not_empty(text, str(args.file))
    if args.document in (None, "-"):
        if sys.stdin.isatty():
            raise ConfigError(
                "no GraphQL document: give it as an argument, with --file or on stdin"
            )
        return _not_empty(sys.stdin.read(), "stdin")
    return _not_empty(str(args.document), "the argument")


def _not_empty(document: str, where: str) -> str:
    if not document.strip():
        raise ConfigError(f"the GraphQL document ({where}) is empty")
    return document


def _variables(args: argparse.Namespace, texts: Set[str] = frozenset()) -> dict[str, Any]:
    """--variables, then each --var: the text itself for a variable in `texts` (declared
    String or ID), else JSON when it parses, else the text."""
    variables: dict[str, Any] = {}
    if args.variables:
        try:
            parsed = json.loads(args.variables)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"--variables is not JSON: {exc}") from None
        if not isinstance(parsed, dict):
            raise ConfigError('--variables must be a JSON object, e.g. \'{"id": "T1047"}\'')
        variables.update(parsed)
    for item in args.var:
        name, sep, raw = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ConfigError(f"--var {item!r}: expected NAME=VALUE")
        value: Any = raw
        if name not in texts:
            with contextlib.suppress(json.JSONDecodeError):
                value = json.loads(raw)
        variables[name] = value
    return variables


def _exit_code(body: dict[str, Any]) -> int:
    from covgraph.inprocess import UNAVAILABLE, error_codes

    codes = error_codes(body)
    if UNAVAILABLE in codes:
        return 2
    return 1 if codes else 0


def _text_variables(document: str) -> set[str]:
    """The document's variables declared String or ID (not lists): `--var id=1047` is then the
    text "1047", not the number."""
    from graphql import GraphQLError, NamedTypeNode, NonNullTypeNode, OperationDefinitionNode, parse

    try:
        parsed = parse(document)
    except GraphQLError:
        return set()  # the API reports the syntax error itself
    names: set[str] = set()
    for definition in parsed.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        for variable in definition.variable_definitions or ():
            kind = variable.type
            if isinstance(kind, NonNullTypeNode):
                kind = kind.type
            if isinstance(kind, NamedTypeNode) and kind.name.value in ("String", "ID"):
                names.add(variable.variable.name.value)
    return names


def _run_query(args: argparse.Namespace) -> int:
    from covgraph.inprocess import execute

    document = _document(args)
    body = execute(document, _variables(args, _text_variables(document)), args.operation)
    print(json.dumps(body, indent=None if args.compact else 2, ensure_ascii=False))
    return _exit_code(body)


def _run_technique(args: argparse.Namespace) -> int:
    from covgraph.inprocess import execute
    from covgraph.technique_view import DOCUMENT, render

    if not 1 <= args.first <= 200:
        raise ConfigError(f"--first must be between 1 and 200, got {args.first}")
    variables = {
        "id": args.id.strip(),
        "sub": bool(args.sub),
        "vendors": sorted(set(args.vendor)) if args.vendor else None,
        "first": args.first,
        "rules": bool(args.rules),
    }
    body = execute(DOCUMENT, variables)
    code = _exit_code(body)
    if args.json:
        print(json.dumps(body, indent=2, ensure_ascii=False))
        return code
    if code:
        for error in body.get("errors") or []:
            print(f"covgraph: error: {error.get('message')}", file=sys.stderr)
        return code
    found = (body.get("data") or {}).get("technique")
    if found is None:
        print(f"covgraph: error: unknown technique id: {args.id}", file=sys.stderr)
        return 1
    render(found, body["data"].get("similarTechniques") or [], variables)
    return 0
