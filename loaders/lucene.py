"""Lucene query-string queries to predicates, through `luqum`."""

from __future__ import annotations

import re

from loaders.elastic_query import ParsedQuery, pattern_operator, query_error
from loaders.elastic_text import is_text_field, phrase_pattern

_POSITION = re.compile(r"position (\d+)")
# Lower-case ``or`` / ``and`` are plain words to Lucene; Elastic's rules write them as operators.
_OPERATOR_WORDS = frozenset({"or", "and"})


def parse_lucene(query: str) -> ParsedQuery:
    """The predicates of a Lucene query; raises ParseError with the position on failure."""
    # luqum builds its ply tables when first imported: import it here, not at module import.
    from luqum.exceptions import ParseError as LuqumError
    from luqum.parser import parser

    try:
        tree = parser.parse(query)
    except LuqumError as exc:
        line, column = _line_column(query, str(exc))
        raise query_error(f"Lucene syntax error: {exc}", line, column) from None
    result = ParsedQuery()
    _walk(tree, None, False, result)
    return result


def _line_column(query: str, message: str) -> tuple[int | None, int | None]:
    found = _POSITION.search(message)
    if found:
        offset = int(found.group(1))
    elif "end of expression" in message:
        offset = len(query.rstrip())  # luqum gives no position for a query cut short
    else:
        return None, None
    before = query[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1


def _walk(node: object, field_name: str | None, negated: bool, out: ParsedQuery) -> None:
    """Collect predicates under ``field_name`` (None outside a field), with NOT parity."""
    from luqum import tree

    if isinstance(node, tree.SearchField):
        name = node.name if field_name is None else f"{field_name}.{node.name}"
        if name == "_exists_" and isinstance(node.expr, tree.Word):
            out.add(node.expr.value, "exists", True, negated=negated, case_insensitive=True)
            return
        _walk(node.expr, name, negated, out)
    elif isinstance(node, tree.Not | tree.Prohibit):
        _walk(node.a, field_name, not negated, out)
    elif isinstance(node, tree.Plus | tree.Group | tree.FieldGroup | tree.Boost):
        _walk(node.children[0], field_name, negated, out)
    elif isinstance(node, tree.BaseOperation):
        for child in node.children:
            if isinstance(child, tree.Word) and child.value.lower() in _OPERATOR_WORDS:
                continue
            _walk(child, field_name, negated, out)
    elif isinstance(node, tree.Word):
        _term(node.value, field_name, negated, out)
    elif isinstance(node, tree.Phrase):
        value = node.value[1:-1].replace('\\"', '"')
        _add(field_name, "eq", value, negated, out=out)
    elif isinstance(node, tree.Regex):
        out.add(
            field_name, "regex_match", node.value[1:-1], negated=negated, case_insensitive=False
        )
    elif isinstance(node, tree.From | tree.To):
        operator = (
            ("gte" if node.include else "gt")
            if isinstance(node, tree.From)
            else ("lte" if node.include else "lt")
        )
        _bound(field_name, operator, node.a, negated, out)
    elif isinstance(node, tree.Range):
        _bound(field_name, "gte" if node.include_low else "gt", node.low, negated, out)
        _bound(field_name, "lte" if node.include_high else "lt", node.high, negated, out)
    else:
        out.skip(type(node).__name__)


def _term(raw: str, field_name: str | None, negated: bool, out: ParsedQuery) -> None:
    value = re.sub(r"\\(.)", r"\1", raw)
    if field_name is not None and value == "*":
        out.add(field_name, "exists", True, negated=negated, case_insensitive=True)
        return
    _add(field_name, pattern_operator(value), value, negated, out=out, raw=raw)


def _add(
    field_name: str | None,
    operator: str,
    value: str,
    negated: bool,
    *,
    out: ParsedQuery,
    raw: str | None = None,
) -> None:
    if field_name is None:
        out.add(None, "match", value, negated=negated, case_insensitive=True, raw_value=raw)
    elif operator == "eq" and is_text_field(field_name):
        # A term or phrase on a full-text field is a match query: the field contains it.
        pattern = phrase_pattern(value)
        out.add(
            field_name, "wildcard", pattern, negated=negated, case_insensitive=True, raw_value=raw
        )
    else:
        out.add(field_name, operator, value, negated=negated, case_insensitive=True, raw_value=raw)


def _bound(
    field_name: str | None, operator: str, node: object, negated: bool, out: ParsedQuery
) -> None:
    from luqum import tree

    if field_name is None or not isinstance(node, tree.Word) or node.value == "*":
        return
    out.add(field_name, operator, node.value, negated=negated, case_insensitive=False)
