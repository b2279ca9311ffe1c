"""KQL queries to predicates: one hand-written query per construct."""

from __future__ import annotations

import pytest

from covgraph.errors import ParseError
from loaders.kql import parse_kql


def triples(query: str) -> set[tuple[str, str, str, bool]]:
    return {(p.field, p.operator, p.value, p.negated) for p in parse_kql(query).predicates}


def test_field_value_is_case_insensitive_eq() -> None:
    assert triples("process.name : WMIC.exe") == {("process.name", "eq", "wmic.exe", False)}


def test_quoted_value_keeps_stars_literal() -> None:
    found = {(p.operator, p.value, p.raw_value) for p in parse_kql('a.b : "x*y"').predicates}
    assert found == {("eq", "x*y", "x*y")}


def test_unquoted_star_is_a_wildcard() -> None:
    assert triples("process.args : *.Mof") == {("process.args", "wildcard", "*.mof", False)}


def test_escaped_star_is_literal() -> None:
    assert triples("a : x\\*y") == {("a", "eq", "x*y", False)}
    assert triples("a : x\\*y*") == {("a", "wildcard", "x?y*", False)}


def test_escaped_backslash_before_a_wildcard() -> None:
    assert triples("file.path : C\\:\\\\Temp\\\\*") == {
        ("file.path", "wildcard", "c:\\temp\\*", False)
    }


def test_value_list_gives_one_predicate_each() -> None:
    assert triples("event.type : (start or process_started)") == {
        ("event.type", "eq", "start", False),
        ("event.type", "eq", "process_started", False),
    }


def test_not_inside_a_value_list() -> None:
    assert ("process.args", "eq", "y", True) in triples("process.args : (x and not y)")


def test_negation_parity() -> None:
    found = triples("a : 1 and not (b : 2 or not c : 3)")
    assert found == {("a", "eq", "1", False), ("b", "eq", "2", True), ("c", "eq", "3", False)}


def test_keywords_are_case_insensitive() -> None:
    assert triples("a : 1 AND NOT b : 2 OR c : 3") == {
        ("a", "eq", "1", False),
        ("b", "eq", "2", True),
        ("c", "eq", "3", False),
    }


def test_exists() -> None:
    assert triples("user_agent.original : *") == {("user_agent.original", "exists", "true", False)}


def test_ranges() -> None:
    assert triples("a >= 5 and b < 2") == {("a", "gte", "5", False), ("b", "lt", "2", False)}


def test_nested_field() -> None:
    assert triples("gcp.audit.binding : { role : Owner and action : ADD }") == {
        ("gcp.audit.binding.role", "eq", "owner", False),
        ("gcp.audit.binding.action", "eq", "add", False),
    }


def test_unquoted_value_with_inner_spaces() -> None:
    assert triples("user_agent.original : *S3 Browser* and x : y") == {
        ("user_agent.original", "wildcard", "*s3 browser*", False),
        ("x", "eq", "y", False),
    }


def test_bare_terms_match_any_field() -> None:
    assert triples('"Invoke-Mimikatz" or mimikatz') == {
        ("*", "match", "invoke-mimikatz", False),
        ("*", "match", "mimikatz", False),
    }


def test_quoted_escapes() -> None:
    assert triples('a : "C:\\\\Windows\\\\\\"x\\""') == {("a", "eq", 'c:\\windows\\"x"', False)}


def test_path_wildcard_folds_to_the_name_field() -> None:
    assert triples("process.executable : *\\\\wmic.exe") == {
        ("process.name", "eq", "wmic.exe", False)
    }


def test_syntax_error_carries_line_and_column() -> None:
    with pytest.raises(ParseError) as caught:
        parse_kql("a : 1 and\n  (b : 2")
    assert caught.value.location is not None
    assert caught.value.location.line == 2


def test_empty_query_yields_nothing() -> None:
    assert parse_kql("").predicates == []


# --- CIDR values ---------------------------------------------------------------------------


def test_cidr_value_on_an_ip_field_is_a_cidr_check() -> None:
    assert triples('not destination.ip:(10.0.0.0/8 or "FE80::/10" or 127.0.0.1)') == {
        ("destination.ip", "cidr", "10.0.0.0/8", True),
        ("destination.ip", "cidr", "fe80::/10", True),
        ("destination.ip", "eq", "127.0.0.1", True),
    }


def test_cidr_text_on_a_keyword_field_is_eq() -> None:
    assert triples("aws.x.cidrIp:0.0.0.0/0") == {("aws.x.cidrIp", "eq", "0.0.0.0/0", False)}
