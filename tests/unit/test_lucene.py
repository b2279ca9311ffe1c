"""Lucene query strings to predicates through luqum."""

from __future__ import annotations

import pytest

from covgraph.errors import ParseError
from loaders.lucene import parse_lucene


def triples(query: str) -> set[tuple[str, str, str, bool]]:
    return {(p.field, p.operator, p.value, p.negated) for p in parse_lucene(query).predicates}


def test_fields_groups_regex_and_not() -> None:
    found = triples(
        "event.category:process AND event.type:(start or process_started) AND "
        "process.args:(g+s OR /2[0-9]{3}/) AND NOT user.name:root"
    )
    assert found == {
        ("event.category", "eq", "process", False),
        ("event.type", "eq", "start", False),
        ("event.type", "eq", "process_started", False),
        ("process.args", "eq", "g+s", False),
        ("process.args", "regex_match", "2[0-9]{3}", False),
        ("user.name", "eq", "root", True),
    }


def test_phrases_wildcards_exists_ranges_and_bare_terms() -> None:
    found = triples('a:"X Y" AND b:c* AND _exists_:d AND e:[1 TO 5} AND -f:g AND word')
    assert found == {
        ("a", "eq", "x y", False),
        ("b", "wildcard", "c*", False),
        ("d", "exists", "true", False),
        ("e", "gte", "1", False),
        ("e", "lt", "5", False),
        ("f", "eq", "g", True),
        ("*", "match", "word", False),
    }


def test_syntax_error_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="Lucene"):
        parse_lucene("a:(b OR")
