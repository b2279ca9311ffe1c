"""Elastic events read per part of a query: each sequence step, each branch of a top-level `or`.

One step's event type, code or OS is not another's: a process start followed by a file
deletion needs the process creation and the file deletion events, not a file creation.
"""

from __future__ import annotations

import pytest

from loaders.elastic import rule_from_toml
from loaders.eql_query import parse_eql

RULE = """[metadata]
creation_date = "2025/01/01"
maturity = "production"
updated_date = "2025/01/01"

[rule]
author = ["Elastic"]
description = "d"
index = {index}
language = "eql"
name = "n"
risk_score = 21
rule_id = "00000000-0000-0000-0000-000000000001"
severity = "low"
tags = {tags}
type = "eql"
query = '''
{query}
'''
{filters}
"""


#: Elastic Defend, Windows Security and Sysmon: the channels event codes can name.
INDEX = '["logs-endpoint.events.*", "logs-system.security*", "logs-windows.sysmon_operational-*"]'


def events(query: str, index: str = INDEX, tags: str = "[]", filters: str = "") -> set[str]:
    text = RULE.format(query=query, index=index, tags=tags, filters=filters)
    result = rule_from_toml(text, "rules/x.toml")
    assert result.rule is not None, result.problems
    return {e for e in result.rule.events if ":" in e or "-" in e}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # Linux: exec, then deleting the file: no file creation event.
        (
            'sequence [process where host.os.type == "linux" and event.action == "exec"]\n'
            ' [file where host.os.type == "linux" and event.action == "deletion"]',
            {"linux-process-creation", "linux-file-delete"},
        ),
        # A step's event code names that step's events only; the other step keeps its own.
        (
            'sequence [process where host.os.type == "windows" and event.type == "start"]\n'
            ' [process where host.os.type == "windows" and event.code == "7"]',
            {"sysmon:1", "windows-security:4688", "sysmon:7"},
        ),
        # One step's OS is not another's.
        (
            'sequence [network where host.os.type == "linux"]\n'
            ' [file where host.os.type == "windows" and event.code == "5145"]',
            {"linux-network-connection", "windows-security:5145"},
        ),
    ],
)
def test_sequence_steps_are_read_each_on_its_own(query: str, expected: set[str]) -> None:
    assert events(query) == expected


def test_or_branches_beside_shared_conditions_are_read_each_on_its_own() -> None:
    query = """any where host.os.type == "windows" and process.name : "msiexec.exe" and
      ((event.category == "file" and event.action == "creation") or
       (event.category == "registry" and event.action == "modification"))"""
    # The file branch's `creation` does not make the registry branch a key creation.
    assert events(query) == {"sysmon:11", "sysmon:13", "windows-security:4657"}


def test_a_branch_narrows_the_shared_os_to_its_own() -> None:
    query = """network where host.os.type in ("macos", "windows") and
      ((host.os.type == "windows" and dns.question.name != null) or
       (host.os.type == "macos" and destination.domain != null))"""
    # The Windows branch's DNS field does not make the macOS branch a DNS query.
    assert events(query) == {"sysmon:22", "macos-network-connection"}


def test_of_two_ors_the_one_naming_kinds_of_events_splits() -> None:
    query = """any where (process.name : "a.exe" or process.parent.name : "a.exe") and
      ((event.category == "file" and event.type == "deletion") or event.category == "registry")"""
    parsed = parse_eql(query)
    assert len(parsed.parts) == 2
    # The deletion branch is Sysmon's file delete; the registry branch, of no type, every
    # registry event.
    assert events(query, tags='["OS: Windows"]') == {
        "sysmon:23",
        "sysmon:12",
        "sysmon:13",
        "sysmon:14",
        "windows-security:4657",
    }


def test_filters_apply_to_every_part() -> None:
    query = 'sequence [process where event.type == "start"] [network where true]'
    filters = """[[rule.filters]]
[rule.filters.meta]
negate = false
[rule.filters.query.match_phrase]
"host.os.type" = "linux"
"""
    assert events(query, filters=filters) == {
        "linux-process-creation",
        "linux-network-connection",
    }


def test_a_query_of_one_part_keeps_its_fallbacks() -> None:
    # No part names an event: the whole query is read, then the alerts index.
    query = 'sequence [any where kibana.alert.rule.name : "x"] [any where true]'
    assert events(query, index='[".alerts-security.*"]') == {"elastic-security-alerts"}
    assert parse_eql('process where process.name : "x"').parts == []


def test_a_step_on_alerts_beside_a_step_on_logs_reads_the_alerts() -> None:
    query = (
        'sequence by user.name [authentication where event.action == "login" and'
        ' host.os.type == "linux"]'
        ' [any where event.kind == "signal" and kibana.alert.rule.name != null]'
    )
    index = '["logs-system.auth*", ".alerts-security.*"]'
    assert events(query, index=index) == {"linux-auth", "elastic-security-alerts"}


def test_a_check_left_unread_makes_the_rule_partial() -> None:
    """A length() comparison is part of the detection no indicator holds: `partial`, beside the
    predicates read; a plain query is `ok`."""

    def status(query: str) -> str:
        text = RULE.format(query=query, index=INDEX, tags="[]", filters="")
        rule = rule_from_toml(text, "rules/x.toml").rule
        assert rule is not None
        return rule.parse_status

    assert status('process where process.name : "x.exe"') == "ok"
    assert status('process where process.name : "x.exe" and length(process.args) > 5') == "partial"
