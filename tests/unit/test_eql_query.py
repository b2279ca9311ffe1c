"""EQL queries to predicates: one hand-written query per construct."""

from __future__ import annotations

import pytest

from covgraph.errors import ParseError
from loaders.eql_query import parse_eql


def triples(query: str) -> set[tuple[str, str, str, bool]]:
    return {(p.field, p.operator, p.value, p.negated) for p in parse_eql(query).predicates}


def case_sensitive(query: str) -> set[tuple[str, str]]:
    """(field, raw value) of the checks the query makes with case."""
    return {(p.field, p.raw_value or "") for p in parse_eql(query).predicates if p.case_sensitive}


def test_event_category_is_a_predicate() -> None:
    assert ("event.category", "eq", "process", False) in triples("process where true")


def test_any_event_names_no_category() -> None:
    assert triples("any where process.pid == 4") == {("process.pid", "eq", "4", False)}


def test_double_equals_keeps_case_and_is_marked_case_sensitive() -> None:
    parsed = parse_eql('process where process.name == "WMIC.exe" and process.pid == 4')
    name = next(p for p in parsed.predicates if p.field == "process.name")
    assert (name.operator, name.value, name.raw_value) == ("eq", "WMIC.exe", "WMIC.exe")
    assert name.case_sensitive
    pid = next(p for p in parsed.predicates if p.field == "process.pid")
    assert not pid.case_sensitive  # no letter, no case
    colon = next(
        p
        for p in parse_eql('process where process.name : "WMIC.exe"').predicates
        if p.field == "process.name"
    )
    assert (colon.value, colon.case_sensitive) == ("wmic.exe", False)


def test_colon_folds_case_and_picks_eq_or_wildcard() -> None:
    found = triples('process where process.name : "WMIC.exe" and process.args : "*.MOF"')
    assert ("process.name", "eq", "wmic.exe", False) in found
    assert ("process.args", "wildcard", "*.mof", False) in found


def test_colon_with_a_list_gives_one_predicate_each() -> None:
    found = triples('process where process.name : ("a.exe", "B*.exe")')
    assert ("process.name", "eq", "a.exe", False) in found
    assert ("process.name", "wildcard", "b*.exe", False) in found


def test_like_is_case_sensitive_and_like_tilde_is_not() -> None:
    query = 'file where file.name like "Ab*" and file.path like~ "C:\\\\Temp\\\\*"'
    found = triples(query)
    assert ("file.name", "wildcard", "Ab*", False) in found
    assert ("file.path", "wildcard", "c:\\temp\\*", False) in found
    assert case_sensitive(query) == {("file.name", "Ab*")}


def test_regex_keeps_case_and_regex_tilde_carries_an_inline_flag() -> None:
    found = triples('process where process.name regex "A.*" and process.title regex~ "B.+"')
    assert ("process.name", "regex_match", "A.*", False) in found
    # As Sigma's ``re|i``: the pattern keeps its case and gains ``(?i)``.
    assert ("process.title", "regex_match", "(?i)B.+", False) in found


def test_regex_tilde_keeps_the_written_pattern_as_raw_value() -> None:
    (_, found) = parse_eql('process where process.title regex~ "AbC.*"').predicates
    assert (found.value, found.raw_value) == ("(?i)AbC.*", "AbC.*")


def test_folded_match_function_carries_the_inline_flag() -> None:
    found = triples('process where match~(process.title, "X+") and match(process.name, "Y")')
    assert ("process.title", "regex_match", "(?i)X+", False) in found
    assert ("process.name", "regex_match", "Y", False) in found


def test_in_is_case_sensitive_and_in_tilde_is_not() -> None:
    query = 'process where user.name in ("Admin", "root") and host.name in~ ("HOST")'
    found = triples(query)
    assert ("user.name", "eq", "Admin", False) in found
    assert ("host.name", "eq", "host", False) in found
    assert case_sensitive(query) == {("user.name", "Admin"), ("user.name", "root")}


def test_not_in_and_not_equal_are_negated() -> None:
    found = triples('process where user.name not in ("a", "b") and process.pid != 4')
    assert ("user.name", "eq", "a", True) in found
    assert ("user.name", "eq", "b", True) in found
    assert ("process.pid", "eq", "4", True) in found


def test_negation_parity_through_nested_nots() -> None:
    found = triples(
        'process where not (process.name : "a" and not (process.args : "b" or not user.id : "c"))'
    )
    assert ("process.name", "eq", "a", True) in found
    assert ("process.args", "eq", "b", False) in found
    assert ("user.id", "eq", "c", True) in found


def test_cidrmatch_gives_cidr_predicates() -> None:
    found = triples('network where cidrmatch(destination.ip, "10.0.0.0/8", "192.168.0.0/16")')
    assert ("destination.ip", "cidr", "10.0.0.0/8", False) in found
    assert ("destination.ip", "cidr", "192.168.0.0/16", False) in found


def test_comparisons_and_a_literal_on_the_left() -> None:
    found = triples("process where process.pid > 4 and 10 >= process.parent.pid")
    assert ("process.pid", "gt", "4", False) in found
    assert ("process.parent.pid", "lte", "10", False) in found


def test_optional_fields_read_as_fields() -> None:
    assert ("process.Ext.token.elevation_level", "eq", "full", False) in triples(
        'process where ?process.Ext.token.elevation_level : "Full"'
    )


def test_string_functions_become_wildcards() -> None:
    query = (
        'process where startsWith(process.name, "Cmd") and endsWith~(process.name, ".EXE")'
        ' and stringContains(process.command_line, "-enc")'
    )
    found = triples(query)
    assert ("process.name", "wildcard", "Cmd*", False) in found
    assert ("process.name", "Cmd") in case_sensitive(query)
    assert ("process.name", ".EXE") not in case_sensitive(query)
    assert ("process.name", "wildcard", "*.exe", False) in found
    assert ("process.command_line", "wildcard", "*-enc*", False) in found


def test_null_checks_are_exists() -> None:
    found = triples("process where process.parent.name != null and user.name == null")
    assert ("process.parent.name", "exists", "true", False) in found
    assert ("user.name", "exists", "true", True) in found


def test_path_wildcard_folds_to_the_name_field() -> None:
    assert ("process.name", "eq", "wmic.exe", False) in triples(
        'process where process.executable : "*\\\\WMIC.exe"'
    )


def test_sequence_reads_every_subquery_and_ignores_by_and_maxspan() -> None:
    found = triples(
        "sequence by host.id, process.entity_id with maxspan=30s "
        '[process where process.name == "a"] '
        "[network where destination.port == 445]"
    )
    assert found == {
        ("event.category", "eq", "process", False),
        ("process.name", "eq", "a", False),
        ("event.category", "eq", "network", False),
        ("destination.port", "eq", "445", False),
    }


def test_until_subquery_is_an_exclusion() -> None:
    found = triples(
        'sequence by host.id [process where process.name == "a"] '
        'until [process where event.type == "end"]'
    )
    assert ("event.type", "eq", "end", True) in found


def test_sample_reads_every_subquery() -> None:
    found = triples(
        'sample by host.id [process where process.name == "a"] [file where file.name == "b"]'
    )
    assert ("process.name", "eq", "a", False) in found
    assert ("file.name", "eq", "b", False) in found


def test_unsupported_constructs_are_named() -> None:
    parsed = parse_eql('process where length(process.args) > 3 and process.name == "a"')
    assert parsed.unsupported == ["comparison of length()"]
    assert len(parsed.predicates) == 2


def test_syntax_error_carries_line_and_column() -> None:
    with pytest.raises(ParseError) as caught:
        parse_eql("process where\n  process.name == ")
    assert caught.value.location is not None
    assert caught.value.location.line == 2
    assert caught.value.location.column is not None


def test_missing_event_term_is_negated() -> None:
    found = triples(
        "sequence by host.id with maxspan=1h "
        '[process where process.name == "a.exe"] ![process where process.name == "b.exe"]'
    )
    assert ("process.name", "eq", "a.exe", False) in found
    assert ("process.name", "eq", "b.exe", True) in found
    assert ("process.name", "eq", "b.exe", False) not in found


def test_cidrmatch_values_are_canonical() -> None:
    found = triples('network where cidrmatch(destination.ip, "FE80::/10", "::1", "10.1.2.3/8")')
    assert found >= {
        ("destination.ip", "cidr", "fe80::/10", False),
        ("destination.ip", "cidr", "::1/128", False),
        ("destination.ip", "cidr", "10.0.0.0/8", False),
    }
