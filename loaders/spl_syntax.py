"""The SPL grammar and the records its readers produce (shared by spl.py and spl_eval.py)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput

_GRAMMAR = Path(__file__).parent / "grammars" / "spl.lark"
# Backslash escapes of SPL values: ``\\``, ``\"``, ``\|`` and an escaped space (``System\ Volume``
# is one term holding a space).
_UNESCAPE = re.compile(r"\\([\\\"| ])")
# The key of a command's ``key=value`` option.
_OPTION = re.compile(r"([A-Za-z_]\w*)=(.*)", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Comparison:
    """One check read from a search, before field mapping.

    ``field`` is the name the events carry at that point of the pipeline, renames undone
    (``Processes.process_name`` after ``drop_dm_object_name``), or None for a keyword term.
    ``datamodel`` is the data model in force (``Endpoint.Processes``) when the search reads one.
    """

    field: str | None
    operator: str
    value: str
    negated: bool = False
    case_insensitive: bool = True
    datamodel: str | None = None
    position: int = 0
    command: str = "search"


@dataclass(frozen=True, slots=True)
class SplError:
    """A part of a search that does not parse, with its offset in the (expanded) search."""

    message: str
    position: int


@dataclass(slots=True)
class SplParse:
    """What a search yields: its checks, the data models it reads, and what was not read."""

    comparisons: list[Comparison] = field(default_factory=list)
    datamodels: list[str] = field(default_factory=list)
    errors: list[SplError] = field(default_factory=list)
    #: Constructs met and passed over ("map command", "where: len() comparison", ...).
    skipped: list[str] = field(default_factory=list)
    #: (field, value) of the checks that choose the events read (``sourcetype=aws:cloudtrail``).
    selections: list[tuple[str, str]] = field(default_factory=list)


@cache
def parser() -> Lark:
    """The SPL grammar, built once on first use."""
    return Lark(
        _GRAMMAR.read_text(encoding="utf-8"),
        parser="lalr",
        start=["pipeline", "search_expr", "eval_expr", "eval_assignments"],
        propagate_positions=True,
        maybe_placeholders=False,
    )


def unescape(text: str) -> str:
    """A quoted or bare SPL value as the events hold it: ``\\\\`` -> ``\\``, ``\\ `` -> `` ``."""
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        text = text[1:-1]
    return _UNESCAPE.sub(r"\1", text)


def error_position(exc: UnexpectedInput) -> int:
    return getattr(exc, "pos_in_stream", None) or 0


def describe_error(exc: UnexpectedInput, text: str) -> str:
    position = error_position(exc)
    near = text[position : position + 30].replace("\n", " ")
    if isinstance(exc, UnexpectedCharacters):
        return f"unexpected character at query position {position} near {near!r}"
    token = getattr(exc, "token", None)
    if token is not None and getattr(token, "type", "") == "$END":
        return "unexpected end of query"
    return f"unexpected {getattr(token, 'value', '?')!r} at query position {position} near {near!r}"


def children(node: Tree[Token] | Token, index: int) -> list[Tree[Token] | Token]:
    """The children of a tree's child (an argument list), or none."""
    if isinstance(node, Tree) and len(node.children) > index:
        inner = node.children[index]
        if isinstance(inner, Tree):
            return list(inner.children)
    return []


def options(tokens: Sequence[Token]) -> tuple[dict[str, str], list[Token]]:
    """A command's ``key=value`` options (keys lower-cased, values unescaped) and its other words.

    The pipeline grammar splits a quoted value from its key (``field="possible_plan"`` is the
    word ``field=`` and then a string), as it splits ``key= value`` written with a space (macros
    expand to ``summariesonly= false``): a key with nothing after its ``=`` takes the next word.
    """
    found: dict[str, str] = {}
    rest: list[Token] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        option = _OPTION.fullmatch(token.value) if token.type == "RAW" else None
        if option is None:
            rest.append(token)
            index += 1
            continue
        value = option.group(2)
        if not value and index + 1 < len(tokens):
            index += 1
            value = tokens[index].value
        found[option.group(1).lower()] = unescape(value)
        index += 1
    return found, rest
