"""ES|QL queries to predicates, with a lark grammar (grammars/esql.lark).

Why our own grammar: Elastic's ES|QL parser for Python (`detection-rules-esql-py`) needs Python
3.12. The grammar covers the commands detection rules use. Predicates come from every ``where``
(and the ``where`` of an aggregation), on fields of the source events: names an ``eval``,
``stats``, ``grok`` or ``dissect`` creates are not event fields, except an ``eval`` that copies
or lower-cases a field (followed to the field) or names a boolean flag (its test is read where
the flag is filtered on), and a named group of a ``grok`` regular expression: a check of its
value is the source field matching the expression with the value in the group's place, as for
SPL's ``rex`` (and, through ``coalesce(group, field)``, the field having the value). Index
patterns of ``from`` are kept as indices, not predicates.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources

from lark import Lark, Token, Tree

from loaders.elastic_query import (
    ParsedQuery,
    parse_tree,
    pattern_operator,
    unescape_pattern,
)
from loaders.elastic_text import is_text_field, phrase_pattern
from loaders.kql import parse_kql
from loaders.lucene import parse_lucene
from loaders.records import Predicate
from loaders.regex_groups import fill_group

_Node = Tree[Token] | Token
_COMPARATORS = {"<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}
_FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
_STRING_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", '"': '"', "\\": "\\"}
_STRING_FUNCTIONS = {"starts_with": "{}*", "ends_with": "*{}", "contains": "*{}*"}
_FOLDING_FUNCTIONS = frozenset({"to_lower", "to_upper"})
# Functions whose result is the field's value in another type or spelling: a check on the result
# is a check on the field. url_decode is followed too: the decoded text is what a rule means
# (``*etc/passwd*``), and dropping it would drop the web rules' main indicators.
_PASS_THROUGH_FUNCTIONS = frozenset(
    {
        "to_string",
        "to_ip",
        "to_long",
        "to_integer",
        "to_double",
        "url_decode",
        "trim",
        "ltrim",
        "rtrim",
        "mv_first",
        "mv_last",
        "mv_min",
        "mv_max",
        "mv_dedup",
    }
)
_BOOLEAN_NODES = frozenset(
    {"or_", "and_", "not_", "compare", "like", "rlike", "in_", "is_null", "match_op"}
)
# grok names what it extracts in %{PATTERN:name} and in Oniguruma named groups (?<name>...).
_GROK_NAMES = re.compile(r"%\{[^:}]+:([^:}]+)(?::[^}]*)?\}|\(\?<([^>]+)>")
_DISSECT_NAMES = re.compile(r"%\{[+?*&]?([^}>]+?)(?:->)?\}")


@cache
def _parser() -> Lark:
    grammar = resources.files("loaders").joinpath("grammars/esql.lark").read_text("utf-8")
    return Lark(grammar, parser="lalr", propagate_positions=True)


#: The event fields a value reads (several through coalesce()), and whether case is folded.
_Operand = tuple[tuple[str, ...], bool]


@dataclass(frozen=True, slots=True)
class _Capture:
    """A named group a ``grok`` regular expression extracted from event fields, and the fields
    a ``coalesce()`` falls back to when the expression did not match."""

    fields: tuple[str, ...]
    pattern: str
    fallback: tuple[str, ...] = ()


@dataclass(slots=True)
class _Scope:
    """Names the pipeline has created so far, and what some of them stand for."""

    derived: set[str] = field(default_factory=set)
    aliases: dict[str, _Operand] = field(default_factory=dict)
    flags: dict[str, Tree[Token]] = field(
        default_factory=dict
    )  # name -> boolean or case() expression
    captures: dict[str, _Capture] = field(default_factory=dict)

    def define(self, name: str, expr: _Node | None = None) -> None:
        capture = _coalesced_capture(expr, self)
        self.aliases.pop(name, None)
        self.flags.pop(name, None)
        self.captures.pop(name, None)
        self.derived.add(name)
        if capture is not None:
            self.captures[name] = capture
            return
        if isinstance(expr, Tree):
            if expr.data in _BOOLEAN_NODES or _function_name(expr) in ("case", *_BOOLEAN_CALLS):
                self.flags[name] = expr
            else:
                operand = _operand(expr, self)
                if operand is not None:
                    self.aliases[name] = operand


def parse_esql(query: str) -> ParsedQuery:
    """The predicates of an ES|QL query; raises ParseError with the line and column on failure."""
    tree = parse_tree(_parser(), query, "ES|QL")
    out = ParsedQuery()
    scope = _Scope()
    for command in _trees(tree):
        _command(command, scope, out)
    return out


def _command(command: Tree[Token], scope: _Scope, out: ParsedQuery) -> None:
    kind = command.data
    parts = [c for c in command.children if c is not None]
    trees = _trees(command)
    if kind == "from_":
        out.indices.extend(_text(item) for item in _children(parts[0]))
    elif kind == "where":
        _predicate(parts[0], False, scope, out)
    elif kind == "eval":
        for assignment in _trees(trees[0]):
            if assignment.data == "named":
                scope.define(_name(assignment.children[0]), assignment.children[1])
    elif kind == "stats":
        for part in trees:
            for item in _trees(part):
                assignment = _trees(item)[0] if item.data == "aggregate" else item
                if item.data == "aggregate" and len(item.children) > 1:
                    _predicate(item.children[1], False, scope, out)
                if assignment.data == "named":
                    scope.define(_name(assignment.children[0]))
    elif kind == "rename":
        for item in trees:
            old, new = item.children if item.data == "rename_as" else item.children[::-1]
            scope.define(_name(new), old)
    elif kind in ("grok", "dissect"):
        pattern = _string_value(str(parts[1]))
        names = _GROK_NAMES if kind == "grok" else _DISSECT_NAMES
        source = _operand(parts[0], scope)
        for found in names.finditer(pattern):
            name = next(g for g in found.groups() if g is not None).strip()
            scope.define(name)
            # A regular expression's own named group (no %{PATTERN} in it, whose regex is
            # grok's library's): a check of its value is the source matching the expression
            # with that value in the group's place, as for SPL's rex.
            if kind == "grok" and source is not None and "%{" not in pattern and found.group(2):
                scope.captures[name] = _Capture(source[0], pattern)
    elif kind == "completion":
        scope.define(_name(parts[0]) if len(parts) == 3 else "completion")
    elif kind in ("enrich", "lookup_join"):
        out.skip(f"{kind.replace('_', ' ')} (fields it adds are not followed)")


def _trees(node: _Node) -> list[Tree[Token]]:
    """The sub-trees of a node (its tokens and empty optional slots left out)."""
    return [c for c in _children(node) if isinstance(c, Tree)]


def _children(node: _Node) -> list[_Node]:
    return [c for c in node.children if c is not None] if isinstance(node, Tree) else []


def _predicate(node: _Node, negated: bool, scope: _Scope, out: ParsedQuery) -> None:
    """Collect the predicates of a boolean expression; ``negated`` is the NOT parity."""
    if not isinstance(node, Tree):
        return
    kind = node.data
    if kind in ("or_", "and_"):
        for child in node.children:
            _predicate(child, negated, scope, out)
    elif kind == "not_":
        _predicate(node.children[-1], not negated, scope, out)
    elif kind == "compare":
        _compare(node, negated, scope, out)
    elif kind in ("like", "rlike", "in_"):
        _match_list(node, negated, scope, out)
    elif kind == "is_null":
        operand = _operand(node.children[0], scope)
        capture = _capture_of(node.children[0], scope)
        not_null = any(isinstance(c, Token) and c.type == "NOT" for c in node.children)
        if capture is not None and not capture.fallback:
            # A grok group is set where its expression matched the source field.
            for name in capture.fields:
                out.add(name, "regex_match", capture.pattern, negated=negated ^ (not not_null),
                        case_insensitive=False)  # fmt: skip
        elif operand is None:
            out.skip("is null on a computed value")
        else:
            for name in operand[0]:
                out.add(
                    name, "exists", True, negated=negated ^ (not not_null), case_insensitive=True
                )
    elif kind == "match_op":
        _field_test(node.children[0], "match", [node.children[1]], negated, scope=scope, out=out)
    elif kind == "function_call":
        _call(node, negated, scope, out)
    elif kind == "name":
        name = _name(node)
        if name in scope.flags:
            _flag(name, "==", "true", negated, scope=scope, out=out)
        elif name not in scope.derived:
            out.add(name, "eq", True, negated=negated, case_insensitive=True)
    elif kind in ("true", "false"):
        return
    else:
        out.skip(f"{kind} as a condition")


def _compare(node: Tree[Token], negated: bool, scope: _Scope, out: ParsedQuery) -> None:
    left, op_token, right = node.children
    op = str(op_token)
    if _literal(left) is not None and _literal(right) is None:
        left, right, op = right, left, _FLIPPED[op]
    value = _literal(right)
    capture = _capture_of(left, scope)
    if capture is not None and value is not None and op in ("==", "!="):
        _capture_test(
            capture, _name(left), "eq", [str(value)], negated=negated ^ (op == "!="), out=out
        )
        return
    if isinstance(left, Tree) and left.data == "name" and _name(left) in scope.flags:
        if value is not None:
            _flag(_name(left), op, value, negated, scope=scope, out=out)
        return
    operand = _operand(left, scope)
    if operand is None or value is None:
        out.skip("comparison of computed values")
        return
    names, folded = operand
    for field_name in names:
        if op in ("==", "!="):
            out.add(
                field_name, "eq", value, negated=negated ^ (op == "!="), case_insensitive=folded
            )
        else:
            out.add(field_name, _COMPARATORS[op], value, negated=negated, case_insensitive=False)


def _match_list(node: Tree[Token], negated: bool, scope: _Scope, out: ParsedQuery) -> None:
    """``like``, ``rlike`` and ``in``, each with an optional ``not`` and one or more values."""
    children = [c for c in node.children if c is not None]
    negated ^= any(isinstance(c, Token) and c.type == "NOT" for c in children)
    subject, values = children[0], children[-1]
    items = (
        values.children
        if isinstance(values, Tree) and values.data in ("expr_list", "tuple")
        else [values]
    )
    operator = {"like": "like", "rlike": "regex_match", "in_": "eq"}[node.data]
    _field_test(subject, operator, items, negated, scope=scope, out=out)


def _field_test(
    subject: _Node,
    operator: str,
    items: list[_Node],
    negated: bool,
    *,
    scope: _Scope,
    out: ParsedQuery,
) -> None:
    capture = _capture_of(subject, scope)
    if capture is not None and operator in ("eq", "like"):
        values = [_literal(item) for item in items]
        if all(v is not None for v in values):
            texts = [str(v) for v in values]
            _capture_test(capture, _name(subject), operator, texts, negated=negated, out=out)
            return
    operand = _operand(subject, scope)
    if operand is None:
        out.skip(f"{operator} on a computed value")
        return
    names, folded = operand
    for item in items:
        value = _literal(item)
        if value is None:
            out.skip(f"{operator} with a computed value")
            continue
        for field_name in names:
            if operator == "like":
                pattern = unescape_pattern(value)
                out.add(
                    field_name,
                    pattern_operator(pattern),
                    pattern,
                    negated=negated,
                    case_insensitive=folded,
                    raw_value=value,
                )
            elif operator == "match" and is_text_field(field_name):
                # A match query on a text field: the field holds any of the value's words,
                # each "contains word" as for KQL's `:` on such a field.
                for word in _MATCH_WORDS.split(str(value)):
                    if word:
                        out.add(
                            field_name,
                            "wildcard",
                            phrase_pattern(word),
                            negated=negated,
                            case_insensitive=True,
                            raw_value=value,
                        )
            elif operator == "match":
                out.add(field_name, "eq", value, negated=negated, case_insensitive=True)
            else:
                out.add(field_name, operator, value, negated=negated, case_insensitive=folded)


#: What separates the words of a match query's text: spaces, and the `|` of an alternation the
#: text analyzer splits on as well (`"rahc|metsys|daolnwod"`).
_MATCH_WORDS = re.compile(r"[\s|]+")

_BOOLEAN_CALLS = (
    "starts_with",
    "ends_with",
    "contains",
    "cidr_match",
    "kql",
    "qstr",
    "match",
    "mv_contains",
)


def _call(node: Tree[Token], negated: bool, scope: _Scope, out: ParsedQuery) -> None:
    name = _function_name(node)
    args = _arguments(node)
    if name in ("kql", "qstr") and args and _literal(args[0]) is not None:
        inner = (parse_kql if name == "kql" else parse_lucene)(str(_literal(args[0])))
        for predicate in inner.predicates:
            out.predicates.append(_negate(predicate) if negated else predicate)
        for construct in inner.unsupported:
            out.skip(construct)
    elif name in _STRING_FUNCTIONS and len(args) == 2:
        operand, value = _operand(args[0], scope), _literal(args[1])
        if operand is None or value is None:
            out.skip(f"{name}() on computed values")
            return
        pattern = _STRING_FUNCTIONS[name].format(value)
        for field_name in operand[0]:
            out.add(
                field_name,
                "wildcard",
                pattern,
                negated=negated,
                case_insensitive=operand[1],
                raw_value=value,
            )
    elif name == "cidr_match" and args:
        _field_test(args[0], "cidr", args[1:], negated, scope=scope, out=out)
    elif name in ("match", "mv_contains") and len(args) >= 2:
        _field_test(
            args[0], "match" if name == "match" else "eq", args[1:2], negated, scope=scope, out=out
        )
    else:
        out.skip(f"{name}()")


def _flag(
    name: str, op: str, value: str, negated: bool, *, scope: _Scope, out: ParsedQuery
) -> None:
    """Read the test behind an eval'd flag that a ``where`` filters on."""
    expr = scope.flags[name]
    if _function_name(expr) == "case":
        args = _arguments(expr)
        for condition, result in zip(args[0::2], args[1::2], strict=False):
            outcome = _literal(result)
            if outcome is not None and _holds(outcome, op, value):
                _predicate(condition, negated, scope, out)
        return
    wanted = value.lower() == "true"
    if op in ("==", "!="):
        _predicate(expr, negated ^ (wanted != (op == "==")), scope, out)


def _holds(left: str, op: str, right: str) -> bool:
    try:
        a: float | str = float(left)
        b: float | str = float(right)
    except ValueError:
        a, b = left.lower(), right.lower()
    checks = {"==": a == b, "!=": a != b}
    if isinstance(a, float) and isinstance(b, float):
        checks.update({"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b})
    return checks.get(op, False)


def _negate(predicate: Predicate) -> Predicate:
    return replace(predicate, negated=not predicate.negated)


def _capture_of(node: _Node, scope: _Scope) -> _Capture | None:
    if isinstance(node, Tree) and node.data == "name":
        return scope.captures.get(_name(node))
    return None


def _coalesced_capture(expr: _Node | None, scope: _Scope) -> _Capture | None:
    """``coalesce(group, field...)``: the group, and the fields when the grok did not match."""
    if not isinstance(expr, Tree) or _function_name(expr) != "coalesce":
        return None
    args = _arguments(expr)
    capture = _capture_of(args[0], scope) if args else None
    if capture is None:
        return None
    rest = [_operand(arg, scope) for arg in args[1:]]
    if any(part is None for part in rest):
        return None
    fallback = tuple(n for part in rest if part for n in part[0])
    return _Capture(capture.fields, capture.pattern, capture.fallback + fallback)


def _capture_test(
    capture: _Capture,
    group: str,
    operator: str,
    values: list[str],
    *,
    negated: bool,
    out: ParsedQuery,
) -> None:
    """``group == v``, ``group in (...)`` or ``group like p`` on a grok capture: the source
    fields match the expression with the value in the group's place, or, where a coalesce()
    falls back to a field, that field has the value."""
    for value in values:
        wildcards = operator == "like"
        if wildcards and ("?" in value or "\\" in value):
            # The group is filled with `*` as any text only; LIKE's `?` and escapes are not.
            out.skip(f"like with ? or an escape on a grok group ({group})")
            continue
        filled = fill_group(capture.pattern, group, value, folded=False, wildcards=wildcards)
        if filled is None:
            out.skip(f"check on a grok group ({group})")
            continue
        for source in capture.fields:
            out.add(source, "regex_match", filled, negated=negated, case_insensitive=False,
                    raw_value=value)  # fmt: skip
        for field_name in capture.fallback:
            pattern = unescape_pattern(value) if wildcards else value
            out.add(field_name, pattern_operator(pattern) if wildcards else "eq", pattern,
                    negated=negated, case_insensitive=False, raw_value=value)  # fmt: skip


def _operand(node: _Node, scope: _Scope) -> _Operand | None:
    """The event fields a value reads, through aliases, and whether case is folded."""
    if not isinstance(node, Tree):
        return None
    if node.data == "name":
        name = _name(node)
        if name in scope.aliases:
            return scope.aliases[name]
        return None if name in scope.derived else ((name,), False)
    if node.data == "cast":
        return _operand(node.children[0], scope)
    function = _function_name(node)
    args = _arguments(node) if function else []
    if function in _FOLDING_FUNCTIONS and len(args) == 1:
        inner = _operand(args[0], scope)
        return (inner[0], True) if inner else None
    if function in _PASS_THROUGH_FUNCTIONS and len(args) == 1:
        return _operand(args[0], scope)
    if function == "json_extract" and len(args) == 2 and _literal(args[1]) is not None:
        # json_extract(_source, "a.b") reads the event field a.b.
        return ((str(_literal(args[1])).removeprefix("$."),), False)
    if function == "coalesce" and args:
        parts = [_operand(arg, scope) for arg in args]
        if any(part is None for part in parts):
            return None
        names = tuple(n for part in parts if part for n in part[0])
        return names, any(part[1] for part in parts if part)
    return None


def _function_name(node: _Node) -> str | None:
    if isinstance(node, Tree) and node.data == "function_call":
        return str(node.children[0]).lower()
    return None


def _arguments(node: Tree[Token]) -> list[_Node]:
    args = node.children[1] if len(node.children) > 1 else None
    return list(args.children) if isinstance(args, Tree) else []


def _literal(node: _Node) -> str | None:
    """The text of a constant (string, number, boolean), None for anything else."""
    if not isinstance(node, Tree):
        return None
    if node.data == "string":
        return _string_value(str(node.children[0]))
    if node.data == "number":
        return str(node.children[0])
    if node.data in ("true", "false"):
        return node.data
    if node.data == "negative":
        inner = _literal(node.children[0])
        number = isinstance(node.children[0], Tree) and node.children[0].data == "number"
        return f"-{inner}" if inner is not None and number else None
    return None


def _string_value(text: str) -> str:
    if text.startswith('"""'):
        return text[3:-3]
    body = text[1:-1]
    return re.sub(r"\\(.)", lambda m: _STRING_ESCAPES.get(m.group(1), m.group(1)), body)


def _name(node: _Node) -> str:
    token = node.children[0] if isinstance(node, Tree) else node
    return str(token).replace("``", "\x00").replace("`", "").replace("\x00", "`")


def _text(node: _Node) -> str:
    text = str(node.children[0] if isinstance(node, Tree) else node)
    return _string_value(text) if text.startswith('"') else text
