"""EQL queries to predicates, through the `eql` package in its Elasticsearch syntax mode.

The `eql` AST drops what separates Elastic's case-sensitive and case-insensitive operators
(``like`` / ``like~``, ``in`` / ``in~``, ``regex`` / ``regex~``, ``startsWith~``): all come back
as the same node. A small subclass of its tree walker marks the insensitive nodes as it builds
them, and the optimiser is not run so that the marked nodes reach our walk unchanged.
"""

from __future__ import annotations

from typing import Any

import eql
from eql import ast
from eql.errors import EqlParseError
from eql.parser import LarkToEQL, lark_parser
from lark.exceptions import LarkError, UnexpectedInput

from loaders.elastic_query import ParsedQuery, pattern_operator, query_error
from loaders.records import Predicate

_COMPARATORS = {"<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}
_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}

# Functions that test a string field against fixed strings, and the pattern each one means.
_STRING_FUNCTIONS = {
    "startswith": "{}*",
    "endswith": "*{}",
    "stringcontains": "*{}*",
}


class _FoldedCall(ast.FunctionCall):  # type: ignore[misc]
    """A function call written case-insensitively (``:``, ``like~``, ``regex~``, ``f~()``)."""

    __slots__ = ()


class _FoldedInSet(ast.InSet):  # type: ignore[misc]
    """An ``in~`` set."""

    __slots__ = ()


class _CaseMarkingWalker(LarkToEQL):  # type: ignore[misc]
    """`eql`'s tree walker, marking the nodes whose comparison ignores case."""

    def string_predicate(self, node: Any) -> Any:
        info = super().string_predicate(node)
        if node["STRING_PREDICATE"] in (":", "like~", "regex~"):
            info.node.__class__ = _FoldedCall
        return info

    def in_set(self, node: Any) -> Any:
        info = super().in_set(node)
        if node.get("IN") == "in~" and type(info.node) is ast.InSet:
            info.node.__class__ = _FoldedInSet
        return info

    def function_call(self, node: Any, prev_node: Any = None, prev_arg: Any = None) -> Any:
        info = super().function_call(node, prev_node, prev_arg)
        text = self.text[node.meta.start_pos : node.meta.end_pos]
        head = text.split("(", 1)[0].rstrip()
        if head.endswith("~") and type(info.node) is ast.FunctionCall:
            info.node.__class__ = _FoldedCall
        return info


def parse_eql(query: str) -> ParsedQuery:
    """The predicates of an EQL query; raises ParseError with the line and column on failure."""
    tree = _parse(query)
    result = ParsedQuery()
    _walk(tree, False, result, top=True)
    result.parts_end = len(result.predicates)
    return result


def _parse(query: str) -> ast.EqlNode:
    text = query if query.endswith("\n") else query + "\n"
    config = eql.ParserConfig(
        elasticsearch_syntax=True,
        check_functions=False,
        allow_sample=True,
        allow_runs=True,
        allow_negation=True,
    )
    with config, eql.parser.ignore_missing_functions:
        walker = _CaseMarkingWalker(text)
        try:
            lark_tree = lark_parser.parse(text, start="piped_query")
        except UnexpectedInput as exc:
            raise query_error(
                f"EQL syntax error: {_first_line(exc)}", exc.line, exc.column
            ) from None
        except LarkError as exc:
            raise query_error(f"EQL syntax error: {_first_line(exc)}", None, None) from None
        try:
            info = walker.visit(lark_tree)
        except EqlParseError as exc:
            raise query_error(f"EQL: {exc.error_msg}", exc.line + 1, exc.column + 1) from None
    node = getattr(info, "node", info)
    if not isinstance(node, ast.EqlNode):
        raise query_error("EQL: the query is not an event query", None, None)
    return node


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _walk(node: object, negated: bool, out: ParsedQuery, *, top: bool = False) -> None:
    """Collect predicates; ``negated`` is the parity of the NOTs above the node. ``top``: the
    node is the query itself, whose sequence steps or ``or`` branches are parts (out.parts)."""
    if isinstance(node, ast.PipedQuery):
        _walk(node.first, negated, out, top=top)
        if node.pipes:
            out.skip("pipes")
    elif isinstance(node, ast.EventQuery):
        start = len(out.predicates)
        if node.event_type != "any":
            out.add("event.category", "eq", node.event_type, negated=negated, case_insensitive=True)
        category = out.predicates[start:]
        branches = _top_or(node.query) if top else None
        if branches is None:
            _walk(node.query, negated, out)
        else:
            # Each branch of `any where (A) or (B)`, or of `any where C and ((A) or (B))`, is a
            # kind of event of its own; the conditions beside the `or` apply to every branch.
            common: list[Predicate] = []
            branch_predicates: list[list[Predicate]] = []
            terms = node.query.terms if isinstance(node.query, ast.And) else [node.query]
            for term in terms:
                for branch in branches.terms if term is branches else [term]:
                    begin = len(out.predicates)
                    _walk(branch, negated, out)
                    if term is branches:
                        branch_predicates.append(out.predicates[begin:])
                    else:
                        common += out.predicates[begin:]
            out.parts += [
                category + _narrowed(common, found) + found for found in branch_predicates
            ]
    elif isinstance(node, ast.Sequence | ast.Sample | ast.Join):
        # Sequences and samples: every sub-query; ``by`` keys and ``maxspan`` are not checks.
        # A missing-event term (``![...]``, data is_negated) is an event the rule excludes.
        for sub in node.queries:
            begin = len(out.predicates)
            _walk(
                sub.query,
                negated != bool((getattr(sub, "data", None) or {}).get("is_negated")),
                out,
            )
            if top:
                out.parts.append(out.predicates[begin:])
        close = getattr(node, "close", None)
        if close is not None:
            # An ``until`` sub-query ends the sequence: the rule excludes what it matches.
            _walk(close.query, not negated, out)
    elif isinstance(node, ast.And | ast.Or):
        for term in node.terms:
            _walk(term, negated, out)
    elif isinstance(node, ast.Not):
        _walk(node.term, not negated, out)
    elif isinstance(node, ast.Comparison):
        _comparison(node, negated, out)
    elif isinstance(node, ast.InSet):
        _in_set(node, negated, out)
    elif isinstance(node, ast.IsNull | ast.IsNotNull):
        name = _field_name(node.expr)
        if name is None:
            out.skip("null check on an expression")
        else:
            absent = isinstance(node, ast.IsNull)
            out.add(name, "exists", True, negated=negated ^ absent, case_insensitive=True)
    elif isinstance(node, ast.FunctionCall):
        _function(node, negated, out)
    elif isinstance(node, ast.Boolean):
        return
    elif isinstance(node, ast.Field):
        out.skip("bare boolean field")
    else:
        out.skip(type(node).__name__)


#: Fields that say which kind of event a branch matches.
_EVENT_KIND_FIELDS = ("event.category", "event.type", "event.action", "event.code", "os.type")


def _top_or(query: object) -> ast.Or | None:
    """The `or` whose branches are the query's parts: the query itself, or among the terms of a
    top-level `and` the only `or`, else the only one whose branches name kinds of events
    (`event.category == "file"` in one, `"registry"` in the other); None when there is none."""
    if isinstance(query, ast.Or):
        return query
    if isinstance(query, ast.And):
        ors = [term for term in query.terms if isinstance(term, ast.Or)]
        if len(ors) > 1:
            ors = [o for o in ors if _names_event_kind(o)]
        if len(ors) == 1:
            return ors[0]
    return None


def _names_event_kind(node: ast.BaseNode) -> bool:
    """Whether a field of _EVENT_KIND_FIELDS appears anywhere under the node."""
    if (name := _field_name(node)) is not None and name.endswith(_EVENT_KIND_FIELDS):
        return True
    # eql's own `children()` recurses into strings without end: its slots are walked here.
    for _, value in node.iter_slots():
        for child in value if isinstance(value, list | tuple) else [value]:
            if isinstance(child, ast.BaseNode) and _names_event_kind(child):
                return True
    return False


def _narrowed(common: list[Predicate], branch: list[Predicate]) -> list[Predicate]:
    """The conditions beside an `or` as they apply to one branch: an equality on a field the
    branch itself checks for equality gives way to the branch's (`host.os.type in ("macos",
    "windows") and ((host.os.type == "windows" and ...) or ...)`: the branch is Windows)."""
    own = {p.field for p in branch if p.operator == "eq" and not p.negated}
    return [p for p in common if not (p.operator == "eq" and not p.negated and p.field in own)]


def _field_name(node: object) -> str | None:
    if isinstance(node, ast.Field):
        return ".".join(str(part) for part in [node.base, *node.path])
    return None


def _literal(node: object) -> object | None:
    if isinstance(node, ast.String | ast.Number | ast.Boolean):
        value: object = node.value
        return value
    return None


def _comparison(node: ast.Comparison, negated: bool, out: ParsedQuery) -> None:
    left, op, right = node.left, node.comparator, node.right
    if _field_name(left) is None and _field_name(right) is not None:
        left, op, right = right, _FLIPPED[op], left
    name = _field_name(left)
    if name is None:
        what = f"{left.name}()" if isinstance(left, ast.FunctionCall) else type(left).__name__
        out.skip(f"comparison of {what}")
        return
    if isinstance(right, ast.Null):
        if op in ("==", "!="):
            out.add(name, "exists", True, negated=negated ^ (op == "=="), case_insensitive=True)
        return
    value = _literal(right)
    if value is None:
        out.skip("field compared with field")
        return
    if op in ("==", "!="):
        # ``==`` compares exactly: case kept, and ``*`` is a plain character.
        out.add(name, "eq", value, negated=negated ^ (op == "!="), case_insensitive=False)
    else:
        out.add(name, _COMPARATORS[op], value, negated=negated, case_insensitive=False)


def _in_set(node: ast.InSet, negated: bool, out: ParsedQuery) -> None:
    name = _field_name(node.expression)
    if name is None:
        out.skip("in on an expression")
        return
    folded = isinstance(node, _FoldedInSet)
    for item in node.container:
        value = _literal(item)
        if value is None:
            out.skip("in with a non-literal member")
            continue
        out.add(name, "eq", value, negated=negated, case_insensitive=folded)


def _function(node: ast.FunctionCall, negated: bool, out: ParsedQuery) -> None:
    name = node.name.lower()
    args = node.arguments
    field_name = _field_name(args[0]) if args else None
    if field_name is None:
        out.skip(f"{node.name}() on an expression")
        return
    folded = isinstance(node, _FoldedCall)
    values = [_literal(arg) for arg in args[1:]]
    strings = [str(v) for v in values if v is not None]
    if len(strings) != len(values) or not strings:
        out.skip(f"{node.name}() with non-literal arguments")
        return
    if name == "wildcard":
        for text in strings:
            out.add(
                field_name, pattern_operator(text), text, negated=negated, case_insensitive=folded
            )
    elif name in ("match", "matchlite"):
        # A folded regex keeps its case-insensitivity as an inline ``(?i)`` flag, the way the
        # Sigma loader writes ``re|i``; the value as written stays the raw value.
        for text in strings:
            pattern = f"(?i){text}" if folded else text
            out.add(
                field_name,
                "regex_match",
                pattern,
                negated=negated,
                case_insensitive=False,
                raw_value=text,
            )
    elif name == "cidrmatch":
        for text in strings:
            out.add(field_name, "cidr", text, negated=negated, case_insensitive=True)
    elif name in _STRING_FUNCTIONS:
        for text in strings:
            pattern = _STRING_FUNCTIONS[name].format(text)
            out.add(
                field_name,
                "wildcard",
                pattern,
                negated=negated,
                case_insensitive=folded,
                raw_value=text,
            )
    else:
        out.skip(f"{node.name}()")
