"""Kibana filters of Elastic rules (Elasticsearch query DSL clauses) to predicates.

A rule's ``filters`` are ANDed with its query; ``meta.negate`` turns one into an exclusion and
``meta.disabled`` switches it off. Only the leaf clauses rules use are read: wildcard, term,
terms, match, match_phrase, prefix, regexp, exists, range, and bool around them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from loaders.elastic_query import ParsedQuery, pattern_operator, unescape_pattern

_RANGE_KEYS = {"gt": "gt", "gte": "gte", "lt": "lt", "lte": "lte"}


def parse_filters(filters: Sequence[object]) -> ParsedQuery:
    """The predicates of a rule's Kibana filters."""
    out = ParsedQuery()
    for entry in filters:
        if not isinstance(entry, Mapping):
            out.skip("filter that is not a table")
            continue
        meta = entry.get("meta") or {}
        if isinstance(meta, Mapping) and meta.get("disabled"):
            continue
        negated = bool(meta.get("negate")) if isinstance(meta, Mapping) else False
        clause = entry.get("query")
        if clause is None:
            clause = {k: v for k, v in entry.items() if k not in ("meta", "$state")}
        _clause(clause, negated, out)
    return out


def _clause(clause: object, negated: bool, out: ParsedQuery) -> None:
    if not isinstance(clause, Mapping):
        out.skip("filter clause that is not a table")
        return
    for kind, body in clause.items():
        if kind == "bool" and isinstance(body, Mapping):
            for occur in ("must", "filter", "should", "must_not"):
                items = body.get(occur) or []
                for item in items if isinstance(items, list) else [items]:
                    _clause(item, negated ^ (occur == "must_not"), out)
        elif kind == "exists" and isinstance(body, Mapping) and "field" in body:
            out.add(str(body["field"]), "exists", True, negated=negated, case_insensitive=True)
        elif isinstance(body, Mapping) and body:
            for field_name, spec in body.items():
                _leaf(kind, str(field_name), spec, negated, out)
        else:
            out.skip(f"{kind} filter")


def _leaf(kind: str, field_name: str, spec: object, negated: bool, out: ParsedQuery) -> None:
    options = spec if isinstance(spec, Mapping) else {}
    value = options.get("value", options.get("query")) if options else spec
    folded = bool(options.get("case_insensitive", False))
    if kind == "range" and options:
        for key, operator in _RANGE_KEYS.items():
            if key in options:
                out.add(field_name, operator, options[key], negated=negated, case_insensitive=False)
    elif kind == "terms" and isinstance(spec, list):
        for item in spec:
            out.add(field_name, "eq", item, negated=negated, case_insensitive=False)
    elif value is None or isinstance(value, Mapping | list):
        out.skip(f"{kind} filter")
    elif kind == "wildcard":
        pattern = unescape_pattern(str(value))
        out.add(
            field_name,
            pattern_operator(pattern),
            pattern,
            negated=negated,
            case_insensitive=folded,
            raw_value=str(value),
        )
    elif kind == "prefix":
        out.add(
            field_name,
            "wildcard",
            f"{value}*",
            negated=negated,
            case_insensitive=folded,
            raw_value=str(value),
        )
    elif kind == "term":
        out.add(field_name, "eq", value, negated=negated, case_insensitive=folded)
    elif kind in ("match", "match_phrase"):
        out.add(field_name, "eq", value, negated=negated, case_insensitive=True)
    elif kind == "regexp":
        out.add(field_name, "regex_match", value, negated=negated, case_insensitive=False)
    else:
        out.skip(f"{kind} filter")
