"""The Sigma loader on small hand-written files: records, events, tags and log sources."""

from __future__ import annotations

from pathlib import Path

import pytest
from sigma_files import only, read, write

from loaders.sigma import load_sigma, techniques_of
from loaders.sigma_events import sigma_events

FULL_RULE = """\
title: WMI consumer
id: 11111111-2222-3333-4444-555555555555
status: deprecated
description: Detects a consumer.
references:
    - https://example.org/a
author: Someone, Someone Else
date: 2020-01-02
modified: 2021-03-04
tags:
    - attack.persistence
    - attack.t1546.003
    - attack.T1047
    - car.2016-04-005
logsource:
    product: windows
    service: wmi
detection:
    selection:
        EventID: 5861
    # a comment kept in the query
    filter:
        EventID: 5859
    condition: selection and not filter
falsepositives:
    - Admins
level: medium
"""


def test_metadata_is_read_into_the_rule(tmp_path: Path) -> None:
    result = read(tmp_path, FULL_RULE, "deprecated/windows/wmi.yml")
    (rule,) = result.rules
    assert rule.uid == "sigma:11111111-2222-3333-4444-555555555555"
    assert (rule.vendor, rule.native_id) == ("sigma", "11111111-2222-3333-4444-555555555555")
    assert (rule.title, rule.description) == ("WMI consumer", "Detects a consumer.")
    assert (rule.level, rule.status, rule.deprecated) == ("medium", "deprecated", True)
    assert (rule.collection, rule.path) == ("deprecated", "deprecated/windows/wmi.yml")
    assert rule.author == "Someone, Someone Else"
    assert (rule.date, rule.modified) == ("2020-01-02", "2021-03-04")
    assert rule.references == ("https://example.org/a",)
    assert rule.falsepositives == ("Admins",)
    assert rule.tags[1] == "attack.t1546.003"
    assert rule.techniques == ("T1546.003", "T1047")
    assert (rule.rule_type, rule.language, rule.parse_status) == ("sigma", "sigma", "ok")
    assert rule.extra == {
        "logsource_product": "windows",
        "logsource_category": None,
        "logsource_service": "wmi",
    }
    assert rule.query is not None
    assert rule.query.startswith("detection:\n    selection:")
    assert "# a comment kept in the query" in rule.query
    assert rule.query.endswith("condition: selection and not filter")
    # only the EventID the rule matches on names an event; the excluded one does not
    assert rule.events == ("wmi-activity:5861",)
    assert [e.id for e in result.events] == ["wmi-activity:5861"]
    assert result.problems == []


def test_status_alone_does_not_deprecate_and_folder_alone_does(tmp_path: Path) -> None:
    text = FULL_RULE.replace("status: deprecated", "status: test")
    (rule,) = read(tmp_path, text).rules
    assert rule.deprecated is False
    (rule,) = read(tmp_path, text, "deprecated/x.yml").rules
    assert rule.deprecated is True


def test_techniques_come_from_attack_technique_tags_only() -> None:
    tags = ["attack.t1059.001", "attack.execution", "attack.g0016", "car.t1000", "attack.t1059.001"]
    assert techniques_of(tags) == ("T1059.001",)


@pytest.mark.parametrize(
    ("logsource", "expected"),
    [
        (("windows", "process_creation", None), ["sysmon:1", "windows-security:4688"]),
        (("windows", "ps_script", None), ["powershell:4104"]),
        (("windows", "ps_classic_start", None), ["powershell-classic:400"]),
        (("windows", "registry_set", None), ["sysmon:13", "windows-security:4657"]),
        (("windows", "pipe_created", None), ["sysmon:17", "sysmon:18"]),
        (("windows", "file_access", None), ["windows-file-access"]),
        (("windows", None, "security"), ["windows-security"]),  # no EventID in the rule
        (("linux", None, "auditd"), ["linux-auditd"]),
        (("linux", "process_creation", None), ["linux-process-creation"]),
        ((None, "proxy", None), ["proxy"]),
        (("aws", None, "cloudtrail"), ["aws-cloudtrail"]),
        (("gcp", None, "google_workspace.admin"), ["gcp-google-workspace-admin"]),
        ((None, "webserver", None), ["webserver"]),
        # The web servers' services are their error logs (access logs are category webserver).
        ((None, None, "apache"), ["apache-error"]),
        ((None, None, "nginx"), ["nginx-error"]),
        (("apache", None, "access"), ["apache-access"]),
        # sshd and sudo write to the auth log as well.
        (("linux", None, "sshd"), ["linux-sshd", "linux-auth"]),
        (("linux", None, "sudo"), ["linux-sudo", "linux-auth"]),
        (("linux", None, "cron"), ["linux-cron"]),
    ],
)
def test_log_sources_name_their_events(
    logsource: tuple[str | None, str | None, str | None], expected: list[str]
) -> None:
    assert [event.id for event in sigma_events(*logsource)] == expected


def test_service_event_ids_come_from_positive_event_id_items(tmp_path: Path) -> None:
    text = FULL_RULE.replace("service: wmi", "service: security").replace(
        "EventID: 5861", "EventID:\n            - 4688\n            - 4689"
    )
    (rule,) = read(tmp_path, text).rules
    assert rule.events == ("windows-security:4688", "windows-security:4689")


def test_sysmon_service_with_event_id(tmp_path: Path) -> None:
    text = FULL_RULE.replace("service: wmi", "service: sysmon").replace("5861", "1")
    (rule,) = read(tmp_path, text).rules
    assert rule.events == ("sysmon:1",)


def test_malformed_yaml_skips_the_file_with_its_line(tmp_path: Path) -> None:
    result = read(tmp_path, "title: x\nid: [unclosed\ndetection:\n  a: b\n")
    assert result.rules == []
    problem = only(result.problems, "skipped-file")
    assert problem.location.path == "rules/windows/test.yml"
    assert problem.location.line is not None
    assert problem.location.line >= 2
    assert "malformed YAML" in problem.reason


def test_a_rule_without_id_is_skipped_at_its_line(tmp_path: Path) -> None:
    text = "\n".join(line for line in FULL_RULE.splitlines() if not line.startswith("id:"))
    result = read(tmp_path, text)
    assert result.rules == []
    problem = only(result.problems, "skipped-file")
    assert problem.reason == "the rule has no id"
    assert problem.location.line == 1


def test_a_document_that_is_not_a_map_is_skipped(tmp_path: Path) -> None:
    result = read(tmp_path, "- just\n- a list\n")
    assert result.rules == []
    assert only(result.problems, "skipped-file").location.line == 1


def test_an_unknown_modifier_keeps_the_rest_and_names_the_line(tmp_path: Path) -> None:
    text = """\
        title: Bad modifier
        id: 22222222-2222-3333-4444-555555555555
        tags: [attack.t1059]
        logsource:
            product: windows
            category: process_creation
        detection:
            selection:
                CommandLine|contains: 'good'
            broken:
                Image|nosuchthing: 'x.exe'
            condition: selection or broken
    """
    result = read(tmp_path, text)
    (rule,) = result.rules
    assert rule.parse_status == "partial"
    assert rule.techniques == ("T1059",)
    assert rule.events == ("sysmon:1", "windows-security:4688")
    assert [(p.field, p.value) for p in rule.predicates] == [("process.command_line", "*good*")]
    problems = [p for p in result.problems if p.kind == "partial-rule"]
    lines = sorted(p.location.line or 0 for p in problems)
    # the unknown modifier's key only: the condition naming that detection is not a second error
    assert lines == [11]
    assert any("nosuchthing" in p.reason for p in problems)
    assert all(p.rule_uid == rule.uid for p in problems)


def test_a_condition_naming_a_missing_identifier(tmp_path: Path) -> None:
    text = FULL_RULE.replace("selection and not filter", "selection and not missing_one")
    result = read(tmp_path, text)
    (rule,) = result.rules
    assert rule.parse_status == "partial"
    assert [p.value for p in rule.predicates] == ["5861"]
    problem = only(result.problems, "partial-rule")
    assert "missing_one" in problem.reason
    assert problem.location.line == 24  # the condition line


def test_pipe_aggregation_keeps_the_part_before_the_pipe(tmp_path: Path) -> None:
    text = FULL_RULE.replace(
        "selection and not filter", "selection and not filter | count() by Computer > 5"
    )
    result = read(tmp_path, text)
    (rule,) = result.rules
    assert rule.parse_status == "partial"
    assert {(p.value, p.negated) for p in rule.predicates} == {("5861", False), ("5859", True)}
    problem = only(result.problems, "partial-rule")
    assert problem.severity == "warning"
    assert "count() by Computer > 5" in problem.reason


def test_near_aggregation_reads_its_identifiers(tmp_path: Path) -> None:
    text = FULL_RULE.replace("selection and not filter", "selection | near not filter")
    (rule,) = read(tmp_path, text).rules
    assert {(p.value, p.negated) for p in rule.predicates} == {("5861", False), ("5859", True)}


def test_an_unreadable_condition_fails_the_rule_but_keeps_it(tmp_path: Path) -> None:
    text = FULL_RULE.replace("selection and not filter", "(( and")
    result = read(tmp_path, text)
    (rule,) = result.rules
    assert (rule.parse_status, rule.predicates) == ("failed", ())
    assert rule.techniques == ("T1546.003", "T1047")
    assert only(result.problems, "partial-rule").location.line == 24
    assert "condition" in only(result.problems, "no-predicates").reason


def test_an_unreadable_condition_keeps_the_detections_it_names(tmp_path: Path) -> None:
    # The correlation drafts of unsupported/ write conditions pySigma has no grammar for; the
    # detections they name still match, or exclude when a "not" stands before them.
    condition = "write TargetLogonId from selection (if not filter) to list %L%; then -> alert"
    text = FULL_RULE.replace("selection and not filter", condition)
    result = read(tmp_path, text)
    (rule,) = result.rules
    assert rule.parse_status == "partial"
    assert {(p.value, p.negated) for p in rule.predicates} == {("5861", False), ("5859", True)}
    assert rule.events == ("wmi-activity:5861",)
    problem = only(result.problems, "partial-rule")
    assert problem.location.line == 24
    assert "read filter, selection as the text names them" in problem.reason


def test_a_service_beside_a_category_adds_the_services_events(tmp_path: Path) -> None:
    # A global document's service (system, EventID 7045) merged with a document's category.
    text = FULL_RULE.replace("service: wmi", "service: system\n    category: process_creation")
    text = text.replace("EventID: 5861", "EventID: 7045")
    (rule,) = read(tmp_path, text).rules
    assert rule.events == ("sysmon:1", "windows-security:4688", "windows-system:7045")


def test_a_rule_without_detection_is_kept_with_its_metadata(tmp_path: Path) -> None:
    text = FULL_RULE.split("detection:", maxsplit=1)[0] + "level: low\n"
    result = read(tmp_path, text)
    (rule,) = result.rules
    assert (rule.parse_status, rule.query) == ("failed", None)
    assert rule.events == ("windows-wmi",)
    assert {p.kind for p in result.problems} == {"partial-rule", "no-predicates"}


def test_global_action_documents_sharing_an_id_are_one_rule(tmp_path: Path) -> None:
    text = """\
        action: global
        title: Shared
        id: 33333333-2222-3333-4444-555555555555
        tags: [attack.t1003]
        detection:
            condition: selection
        ---
        logsource:
            product: windows
            category: process_creation
        detection:
            selection:
                Image|endswith: '\\a.exe'
        ---
        logsource:
            product: windows
            service: security
        detection:
            selection:
                EventID: 4688
    """
    result = read(tmp_path, text)
    (rule,) = result.rules
    assert rule.title == "Shared"
    # each document's log source stays as the events it observes
    assert rule.events == ("sysmon:1", "windows-security:4688")
    assert [e.id for e in result.events] == ["sysmon:1", "windows-security:4688"]
    assert rule.techniques == ("T1003",)
    assert {(p.field, p.value) for p in rule.predicates} == {
        ("process.name", "a.exe"),
        ("event.code", "4688"),
    }
    # the first document's log source is the rule's; the template's detection comes once
    assert rule.extra["logsource_category"] == "process_creation"
    assert rule.query is not None
    assert rule.query.count("condition: selection") == 1
    assert "Image|endswith" in rule.query
    assert "EventID: 4688" in rule.query
    assert result.problems == []


def test_documents_sharing_an_id_merge_without_repeating_predicates(tmp_path: Path) -> None:
    # win_remote_service.yml's shape: the template's selection is read in every document
    text = """\
        action: global
        title: Remote service
        id: 44444444-2222-3333-4444-555555555555
        detection:
            selection1:
                EventID: 4624
            condition: selection1 or selection2
        ---
         logsource:
             product: windows
             service: security
         detection:
             selection2:
                 EventID: 4697
        ---
        logsource:
            product: windows
            service: system
        detection:
            selection2:
                EventID: 7045
    """
    (rule,) = read(tmp_path, text).rules
    values = [p.value for p in rule.predicates]
    assert sorted(values) == ["4624", "4697", "7045"]
    assert "windows-system:7045" in rule.events
    assert "windows-security:4697" in rule.events
    # the indented document's own detection is part of the query too
    assert rule.query is not None
    assert "EventID: 4697" in rule.query


def test_documents_with_different_ids_stay_separate_rules(tmp_path: Path) -> None:
    second = FULL_RULE.replace("11111111-2222", "22222222-2222")
    result = read(tmp_path, FULL_RULE + "---\n" + second)
    assert [r.native_id[:8] for r in result.rules] == ["11111111", "22222222"]


def test_a_merged_rule_is_partial_when_one_document_fails(tmp_path: Path) -> None:
    broken = FULL_RULE.replace("condition: selection and not filter", "condition: missing")
    broken = broken.replace("attack.T1047", "attack.t1059")
    result = read(tmp_path, FULL_RULE + "---\n" + broken)
    (rule,) = result.rules
    assert rule.parse_status == "partial"
    assert rule.techniques == ("T1546.003", "T1047", "T1059")
    assert {p.value for p in rule.predicates} == {"5861", "5859"}
    # the failed document's "no predicate" is answered by the other one
    assert not [p for p in result.problems if p.kind == "no-predicates"]
    assert [p.kind for p in result.problems if p.severity == "error"]


def test_a_merged_rule_without_predicates_is_reported_once(tmp_path: Path) -> None:
    broken = FULL_RULE.replace("condition: selection and not filter", "condition: missing")
    result = read(tmp_path, broken + "---\n" + broken)
    (rule,) = result.rules
    assert rule.parse_status == "failed"
    assert len([p for p in result.problems if p.kind == "no-predicates"]) == 1


def test_image_loads_check_dll_fields(tmp_path: Path) -> None:
    text = """\
        title: Dbghelp load
        id: 55555555-2222-3333-4444-555555555555
        logsource:
            product: windows
            category: image_load
        detection:
            selection:
                ImageLoaded|endswith: '\\dbghelp.dll'
            filter:
                ImageLoaded|startswith: 'C:\\Windows\\'
            condition: selection and not filter
    """
    (rule,) = read(tmp_path, text).rules
    assert [(p.field, p.operator, p.value, p.negated) for p in rule.predicates] == [
        ("dll.name", "eq", "dbghelp.dll", False),
        ("dll.path", "wildcard", "c:\\windows\\*", True),
    ]
    assert {p.vendor_field for p in rule.predicates} == {"ImageLoaded"}
    assert rule.events == ("sysmon:7",)


def test_load_sigma_walks_folders_and_reports_without_stopping(tmp_path: Path) -> None:
    write(tmp_path, "rules/a.yml", FULL_RULE)
    write(tmp_path, "rules/b.yml", "title: [broken\n")
    write(
        tmp_path,
        "deprecated/c.yml",
        FULL_RULE.replace("11111111-2222", "99999999-2222"),
    )
    write(tmp_path, "unsupported/d.yml", FULL_RULE)  # same id as rules/a.yml
    load = load_sigma(tmp_path)
    assert load.files_seen == 4
    assert [r.path for r in load.rules] == ["rules/a.yml", "deprecated/c.yml"]
    assert {p.kind for p in load.problems} == {"skipped-file", "duplicate-id"}
    duplicate = only(load.problems, "duplicate-id")
    assert duplicate.location.path == "unsupported/d.yml"
    assert "rules/a.yml" in duplicate.reason
    assert [e.id for e in load.events] == ["wmi-activity:5861"]
    assert load.source.name == "sigma"

    only_deprecated = load_sigma(tmp_path, folders=["deprecated", "missing"])
    assert [r.collection for r in only_deprecated.rules] == ["deprecated"]
    assert only(only_deprecated.problems, "missing-folder").location.path == "missing"


def test_unmapped_fields_are_counted_once_per_rule(tmp_path: Path) -> None:
    write(
        tmp_path,
        "rules/a.yml",
        FULL_RULE.replace("EventID: 5859", "PossibleCause: 'x'\n        Provider: 'y'"),
    )
    load = load_sigma(tmp_path)
    assert load.unmapped_fields == {"PossibleCause": 1, "Provider": 1}


def test_invalid_metadata_is_a_warning_on_its_line_and_the_rule_loads(tmp_path: Path) -> None:
    text = FULL_RULE.replace("date: 2020-01-02", "date: 2020-13-45").replace(
        "level: medium", "level: enormous"
    )
    result = read(tmp_path, text)
    (rule,) = result.rules
    # pySigma keeps an invalid level as written and reports it; the date it drops
    assert (rule.date, rule.level, rule.parse_status) == (None, "enormous", "ok")
    warnings = {
        (p.location.line, p.severity) for p in result.problems if p.kind == "invalid-metadata"
    }
    assert warnings == {(8, "warning"), (27, "warning")}


def test_a_non_uuid_id_is_kept_with_a_warning(tmp_path: Path) -> None:
    text = FULL_RULE.replace("11111111-2222-3333-4444-555555555555", "not-a-uuid")
    result = read(tmp_path, text)
    assert [r.uid for r in result.rules] == ["sigma:not-a-uuid"]
    problem = only(result.problems, "invalid-metadata")
    assert (problem.location.line, problem.severity) == (2, "warning")


def test_a_key_written_twice_is_reported_and_the_last_one_read(tmp_path: Path) -> None:
    text = FULL_RULE.replace(
        "    filter:\n        EventID: 5859", "    selection:\n        EventID: 5859"
    )
    text = text.replace("selection and not filter", "selection")
    result = read(tmp_path, text)
    (rule,) = result.rules
    assert [p.value for p in rule.predicates] == ["5859"]
    problem = only(result.problems, "duplicate-key")
    assert problem.location.line == 22
    assert problem.reason == "key 'selection' is written twice in one map; the last one is read"
    assert problem.severity == "warning"
