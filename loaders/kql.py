"""KQL (Kibana Query Language) queries to predicates, with a lark grammar (grammars/kql.lark).

Why our own grammar: Elastic's KQL parser lives in the detection-rules repository and is not on
PyPI; `kibana-ql` (MIT, 2023) fails on three rules of the corpus, drops the difference between
an escaped and a bare ``*`` and reports no error positions. The grammar follows Kibana's kuery
grammar, including unquoted values with inner spaces.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

from lark import Lark, Token, Tree

from loaders.elastic_query import ParsedQuery, parse_tree
from loaders.elastic_text import is_text_field, phrase_pattern
from loaders.predicates import is_cidr

_Node = Tree[Token] | Token
_RANGE_OPERATORS = {"<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}
_QUOTED_ESCAPES = {"t": "\t", "r": "\r", "n": "\n", '"': '"', "\\": "\\"}
_UNICODE_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
# Stands for an escaped ``*`` between unescaping and building the value (a private-use char).
_LITERAL_STAR = "\ue000"


@cache
def _parser() -> Lark:
    grammar = resources.files("loaders").joinpath("grammars/kql.lark").read_text("utf-8")
    return Lark(grammar, parser="lalr", propagate_positions=True)


def parse_kql(query: str) -> ParsedQuery:
    """The predicates of a KQL query; raises ParseError with the line and column on failure."""
    tree = parse_tree(_parser(), query, "KQL")
    result = ParsedQuery()
    for child in tree.children:
        _walk(child, "", False, result)
    return result


def _walk(node: _Node, prefix: str, negated: bool, out: ParsedQuery) -> None:
    """Collect predicates; ``prefix`` is the enclosing nested field, ``negated`` NOT parity."""
    if not isinstance(node, Tree):
        return
    kind = node.data
    if kind in ("or_query", "and_query"):
        for child in node.children:
            _walk(child, prefix, negated, out)
    elif kind == "not_":
        _walk(node.children[-1], prefix, not negated, out)
    elif kind == "nested":
        field_name = _join(prefix, _literal_text(node.children[0])[0])
        _walk(node.children[1], field_name, negated, out)
    elif kind == "field_value":
        field_name = _join(prefix, _literal_text(node.children[0])[0])
        _values(node.children[1], field_name, negated, out)
    elif kind == "field_range":
        field_name = _join(prefix, _literal_text(node.children[0])[0])
        operator = _RANGE_OPERATORS[str(node.children[1])]
        value, _quoted, raw = _literal_text(node.children[2])
        out.add(
            field_name,
            operator,
            _plain(value),
            negated=negated,
            case_insensitive=False,
            raw_value=raw,
        )
    elif kind == "bare":
        value, quoted, raw = _literal_text(node.children[0])
        text = _pattern(value, quoted) if _has_bare_star(raw) and not quoted else _plain(value)
        out.add(None, "match", text, negated=negated, case_insensitive=True, raw_value=raw)


def _values(node: _Node, field_name: str, negated: bool, out: ParsedQuery) -> None:
    """Predicates of a value list: ``f : (a or b)``, ``f : (not a)``, ``f : *``."""
    if not isinstance(node, Tree):
        return
    if node.data in ("or_list", "and_list"):
        for child in node.children:
            _values(child, field_name, negated, out)
    elif node.data == "not_list":
        _values(node.children[-1], field_name, not negated, out)
    elif node.data == "literal":
        value, quoted, raw = _literal_text(node)
        if not quoted and value == "*":
            out.add(
                field_name, "exists", True, negated=negated, case_insensitive=True, raw_value=raw
            )
        elif not quoted and _has_bare_star(raw):
            out.add(
                field_name,
                "wildcard",
                _pattern(value, quoted),
                negated=negated,
                case_insensitive=True,
                raw_value=raw,
            )
        else:
            # Kibana compares an ip field with ``10.0.0.0/8`` (quoted or not) as a range; a
            # keyword field (cloudtrail's cidrIp) compares the text.
            cidr = is_cidr(value) and _ip_field(field_name)
            if is_text_field(field_name):
                # A phrase search on a full-text field: the field contains the value.
                out.add(
                    field_name,
                    "wildcard",
                    phrase_pattern(_plain(value)),
                    negated=negated,
                    case_insensitive=True,
                    raw_value=raw,
                )
                return
            out.add(
                field_name,
                "cidr" if cidr else "eq",
                _plain(value),
                negated=negated,
                case_insensitive=True,
                raw_value=raw,
            )


def _ip_field(name: str) -> bool:
    """True for an ECS ip-typed field (source.ip, client.ip, related.ip...)."""
    return name.rsplit(".", 1)[-1] == "ip"


def _join(prefix: str, name: str) -> str:
    name = _plain(name)
    return f"{prefix}.{name}" if prefix else name


def _plain(value: str) -> str:
    """The value as compared by eq and ranges: an escaped ``*`` is a plain star."""
    return value.replace(_LITERAL_STAR, "*")


def _literal_text(node: _Node) -> tuple[str, bool, str]:
    """(unescaped text, was quoted, text as written) of a literal."""
    token = node.children[0] if isinstance(node, Tree) else node
    raw = str(token)
    if raw.startswith('"'):
        return _unescape_quoted(raw[1:-1]), True, raw[1:-1]
    return _unescape_unquoted(raw), False, raw


def _unescape_quoted(text: str) -> str:
    text = _UNICODE_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text) and text[i + 1] in _QUOTED_ESCAPES:
            out.append(_QUOTED_ESCAPES[text[i + 1]])
            i += 2
        else:
            out.append(char)
            i += 1
    return "".join(out)


def _unescape_unquoted(text: str) -> str:
    """Drop escapes; an escaped ``*`` becomes a marker so it is not taken for a wildcard."""
    text = _UNICODE_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            out.append(_QUOTED_ESCAPES.get(nxt, nxt) if nxt != "*" else _LITERAL_STAR)
            i += 2
        else:
            out.append(char)
            i += 1
    return "".join(out).strip()


def _has_bare_star(raw: str) -> bool:
    escaped = False
    for char in raw:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "*":
            return True
    return False


def _pattern(value: str, quoted: bool) -> str:
    """A canonical pattern: bare ``*`` is the wildcard; a literal ``*`` or ``?`` becomes ``?``.

    Canonical patterns have no escapes (backslashes are plain characters, as in Windows paths),
    so a literal star can only be kept as the one-character wildcard: a slight widening.
    """
    if quoted:
        return value.replace("*", "?")
    return value.replace(_LITERAL_STAR, "?")
