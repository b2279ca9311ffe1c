"""ES|QL queries to predicates: one hand-written query per construct."""

from __future__ import annotations

import pytest

from covgraph.errors import ParseError
from loaders.esql import parse_esql


def triples(query: str) -> set[tuple[str, str, str, bool]]:
    return {(p.field, p.operator, p.value, p.negated) for p in parse_esql(query).predicates}


def test_from_patterns_are_indices_not_predicates() -> None:
    parsed = parse_esql('FROM logs-endpoint.events.process-*, "logs-x" METADATA _id | LIMIT 5')
    assert parsed.indices == ["logs-endpoint.events.process-*", "logs-x"]
    assert parsed.predicates == []


def test_equality_is_case_sensitive_and_inequality_is_negated() -> None:
    query = 'from a | where process.name == "CMD.exe" and user.id != "S-1"'
    assert triples(query) == {
        ("process.name", "eq", "CMD.exe", False),
        ("user.id", "eq", "S-1", True),
    }
    assert all(p.case_sensitive for p in parse_esql(query).predicates)


def test_to_lower_folds_case() -> None:
    parsed = parse_esql('from a | WHERE TO_LOWER(process.name) == "WMIC.exe"')
    assert triples('from a | WHERE TO_LOWER(process.name) == "WMIC.exe"') == {
        ("process.name", "eq", "wmic.exe", False)
    }
    assert not parsed.predicates[0].case_sensitive


def test_like_and_not_like() -> None:
    found = triples(
        'from a | where process.name like "python*" and process.executable not like "/usr/*"'
        ' and file.name like ("a.ps1", "b*.psm1")'
    )
    assert found == {
        ("process.name", "wildcard", "python*", False),
        ("process.executable", "wildcard", "/usr/*", True),
        ("file.name", "eq", "a.ps1", False),
        ("file.name", "wildcard", "b*.psm1", False),
    }


def test_like_escapes_and_triple_quoted_strings() -> None:
    assert triples('from a | where to_lower(file.path) like """C:\\\\Temp\\\\*.exe"""') == {
        ("file.path", "wildcard", "c:\\temp\\*.exe", False)
    }


def test_rlike_is_a_regex() -> None:
    assert triples('from a | where url.path rlike ".*/admin/.*"') == {
        ("url.path", "regex_match", ".*/admin/.*", False)
    }


def test_in_and_not_in() -> None:
    assert triples('from a | where event.action in ("a", "b") and user.name not in ("c")') == {
        ("event.action", "eq", "a", False),
        ("event.action", "eq", "b", False),
        ("user.name", "eq", "c", True),
    }


def test_is_null_and_is_not_null() -> None:
    assert triples("from a | where host.id is not null and user.name IS NULL") == {
        ("host.id", "exists", "true", False),
        ("user.name", "exists", "true", True),
    }


def test_negation_parity_and_comparisons() -> None:
    found = triples("from a | where not (x > 5 or not y <= 2) and 10 < z")
    assert found == {("x", "gt", "5", True), ("y", "lte", "2", False), ("z", "gt", "10", False)}


def test_functions() -> None:
    found = triples(
        'from a | where starts_with(process.name, "Cmd") and ends_with(to_lower(file.name), ".PS1")'
        ' and cidr_match(source.ip, "10.0.0.0/8", "fd00::/8")'
    )
    assert found == {
        ("process.name", "wildcard", "Cmd*", False),
        ("file.extension", "eq", "ps1", False),
        ("source.ip", "cidr", "10.0.0.0/8", False),
        ("source.ip", "cidr", "fd00::/8", False),
    }


def test_embedded_kql_with_negation() -> None:
    assert triples('from a | where not KQL("""event.type : "start" and not x : y""")') == {
        ("event.type", "eq", "start", True),
        ("x", "eq", "y", False),
    }


def test_names_made_by_the_pipeline_are_not_event_fields() -> None:
    parsed = parse_esql(
        "from a | stats Esql.count = count(*) by host.id | where Esql.count > 5 "
        '| where host.id != "x"'
    )
    assert {(p.field, p.operator) for p in parsed.predicates} == {("host.id", "eq")}
    assert "comparison of computed values" in parsed.unsupported


def test_eval_alias_and_coalesce_are_followed_to_the_fields() -> None:
    found = triples(
        "from a | eval Esql.cmd = to_lower(process.command_line), "
        "Esql.ip = coalesce(client.ip, source.ip) "
        '| where Esql.cmd like "*-enc*" and Esql.ip is not null'
    )
    assert found == {
        ("process.command_line", "wildcard", "*-enc*", False),
        ("client.ip", "exists", "true", False),
        ("source.ip", "exists", "true", False),
    }


def test_boolean_flag_from_eval_is_read_where_filtered() -> None:
    found = triples(
        'from a | eval Esql.susp = process.name == "a" or file.name like "b*" | where Esql.susp'
    )
    assert found == {("process.name", "eq", "a", False), ("file.name", "wildcard", "b*", False)}


def test_case_flag_takes_the_branches_the_where_keeps() -> None:
    found = triples(
        'from a | eval s = case(file.extension == "exe", 1, file.extension == "dll", 2, 0) '
        "| where s >= 2"
    )
    assert found == {("file.extension", "eq", "dll", False)}


def test_grok_dissect_and_rename_define_names() -> None:
    parsed = parse_esql(
        'from a | grok message "%{IP:Esql.ip} %{WORD:Esql.verb}" '
        '| dissect url.path "/%{Esql.part}/x" '
        "| rename user.name as Esql.user "
        '| where Esql.ip == "1.2.3.4" and Esql.part == "p" and Esql.user == "root"'
    )
    assert {(p.field, p.value) for p in parsed.predicates} == {("user.name", "root")}


def test_grok_named_groups_define_names() -> None:
    parsed = parse_esql(
        'from a | grok aws.cloudtrail.user_identity.arn """:(?<Esql.caller_account>[0-9]{12}):""" '
        '| where Esql.caller_account IS NOT NULL and event.action == "Invoke"'
    )
    # event.action has one spelling: its value is folded even under `==`. The group is set
    # where its expression matches the ARN.
    assert {(p.field, p.value) for p in parsed.predicates} == {
        ("event.action", "invoke"),
        ("aws.cloudtrail.user_identity.arn", ":(?<Esql.caller_account>[0-9]{12}):"),
    }


def test_backquoted_name_parts_and_comments() -> None:
    assert triples("from a // source\n| where source.`as`.number == 1 /* asn */") == {
        ("source.as.number", "eq", "1", False)
    }


def test_stats_aggregate_filter_is_read() -> None:
    assert triples('from a | stats c = count(*) where event.outcome == "failure" by user.name') == {
        ("event.outcome", "eq", "failure", False)
    }


def test_syntax_error_carries_line_and_column() -> None:
    with pytest.raises(ParseError) as caught:
        parse_esql("from a\n| where x ==")
    assert caught.value.location is not None
    assert caught.value.location.line == 2


def test_unknown_command_is_an_error() -> None:
    with pytest.raises(ParseError, match="ES\\|QL"):
        parse_esql("from a | frobnicate x")


def test_to_ip_and_url_decode_reach_the_field() -> None:
    found = triples(
        "from logs-* | where to_ip(source.ip) is not null"
        ' and not cidr_match(to_ip(source.ip), "10.0.0.0/8")'
        " | eval Esql.url = to_lower(URL_DECODE(url.original))"
        ' | where Esql.url like "*etc/passwd*"'
    )
    assert found >= {
        ("source.ip", "exists", "true", False),
        ("source.ip", "cidr", "10.0.0.0/8", True),
        ("url.original", "wildcard", "*etc/passwd*", False),
    }


def test_match_on_a_text_field_is_contains_each_word() -> None:
    # `:` and MATCH() run a match query: on a keyword field the value, on a text field any of
    # its words, each "contains word" as KQL's `:` on the same field gives.
    query = (
        'from a | where powershell.file.script_block_text : "rahc|metsys daolnwod"'
        ' and not powershell.file.script_block_text : "26a2-4ca4"'
        ' and match(process.name, "svchost.exe")'
    )
    assert triples(query) == {
        ("powershell.file.script_block_text", "wildcard", "*rahc*", False),
        ("powershell.file.script_block_text", "wildcard", "*metsys*", False),
        ("powershell.file.script_block_text", "wildcard", "*daolnwod*", False),
        ("powershell.file.script_block_text", "wildcard", "*26a2-4ca4*", True),
        ("process.name", "eq", "svchost.exe", False),
    }


def test_contains_is_a_wildcard_like_starts_and_ends_with() -> None:
    query = (
        'from a | where contains(to_lower(tls.client.server_name), "alpn") and not contains(x, "b")'
    )
    assert triples(query) == {
        ("tls.client.server_name", "wildcard", "*alpn*", False),
        ("x", "wildcard", "*b*", True),
    }


def test_checks_of_a_grok_group_are_the_field_matching_with_the_value_in_its_place() -> None:
    query = (
        'from a | grok dns.question.name """(?:[^.]+\\.)+(?<parent>[^.]+\\.[^.]+)$"""'
        " | eval parent = coalesce(parent, dns.question.name)"
        ' | where parent in ("anydesk.com", "x.io")'
        ' | grok process.command_line """h=(?<server>[^&]+)&"""'
        ' | where not server like "*.example.com"'
    )
    assert triples(query) == {
        ("dns.question.name", "regex_match", "(?:[^.]+\\.)+(?<parent>anydesk\\.com)$", False),
        ("dns.question.name", "regex_match", "(?:[^.]+\\.)+(?<parent>x\\.io)$", False),
        # coalesce() falls back to the field itself when the expression does not match.
        ("dns.question.name", "eq", "anydesk.com", False),
        ("dns.question.name", "eq", "x.io", False),
        ("process.command_line", "regex_match", "h=(?<server>.*\\.example\\.com)&", True),
    }


def test_a_grok_pattern_of_the_library_gives_no_group_checks() -> None:
    query = 'from a | grok message "%{IP:ip} %{WORD:verb}" | where verb == "GET"'
    assert triples(query) == set()
