"""Elastic TOML rules to Rule records: metadata, techniques, events, predicates, problems."""

from __future__ import annotations

from pathlib import Path

import pytest

from loaders.elastic import coverage, load_elastic, query_position, rule_from_toml
from loaders.elastic_events import rule_events
from loaders.elastic_filters import parse_filters
from loaders.predicates import make_predicate
from loaders.records import Event, Predicate, Problem

RULE = """[metadata]
creation_date = "2023/08/23"
integration = ["endpoint", "system"]
maturity = "production"
updated_date = "2026/07/28"

[rule]
author = ["Elastic", "Someone"]
description = "Finds mofcomp."
false_positives = ["Admins"]
index = ["logs-endpoint.events.process-*", "logs-system.security*"]
language = "eql"
name = "Mofcomp Activity"
references = ["https://example.org"]
risk_score = 21
rule_id = "210d4430-b371-470e-b879-80b7182aa75e"
severity = "low"
tags = ["OS: Windows", "Tactic: Execution"]
type = "eql"

query = \'\'\'
process where host.os.type == "windows" and event.type == "start" and
  process.name : "mofcomp.exe" and not user.id : "S-1-5-18"
\'\'\'

[[rule.threat]]
framework = "MITRE ATT&CK"
[[rule.threat.technique]]
id = "T1047"
name = "Windows Management Instrumentation"
reference = "https://attack.mitre.org/techniques/T1047/"

[[rule.threat.technique]]
id = "T1546"
name = "Event Triggered Execution"
reference = "https://attack.mitre.org/techniques/T1546/"
[[rule.threat.technique.subtechnique]]
id = "T1546.003"
name = "WMI Event Subscription"
reference = "https://attack.mitre.org/techniques/T1546/003/"

[rule.threat.tactic]
id = "TA0002"
name = "Execution"
reference = "https://attack.mitre.org/tactics/TA0002/"
"""


def test_rule_metadata_techniques_events_and_predicates() -> None:
    result = rule_from_toml(RULE, "rules/windows/execution_mofcomp.toml")
    rule = result.rule
    assert rule is not None
    assert result.problems == []
    assert rule.uid == "elastic:210d4430-b371-470e-b879-80b7182aa75e"
    assert rule.native_id == "210d4430-b371-470e-b879-80b7182aa75e"
    assert (rule.title, rule.level, rule.status) == ("Mofcomp Activity", "low", "production")
    assert (rule.collection, rule.extra["folder"]) == ("rules", "windows")
    assert (rule.date, rule.modified) == ("2023-08-23", "2026-07-28")
    assert rule.author == "Elastic, Someone"
    assert rule.falsepositives == ("Admins",)
    assert rule.techniques == ("T1047", "T1546", "T1546.003")
    assert set(rule.events) == {"sysmon:1", "windows-security:4688"}
    assert rule.extra["risk_score"] == 21
    assert rule.extra["building_block"] is False
    assert rule.parse_status == "ok"
    keys = {(p.key, p.negated) for p in rule.predicates}
    assert ("process.name|eq|mofcomp.exe", False) in keys
    assert ("user.id|eq|s-1-5-18", True) in keys


def test_each_technique_keeps_the_line_of_its_id() -> None:
    rule = rule_from_toml(RULE, "rules/windows/execution_mofcomp.toml").rule
    assert rule is not None
    assert rule.technique_lines == {
        "T1047": line_of(RULE, 'id = "T1047"'),
        "T1546": line_of(RULE, 'id = "T1546"'),
        "T1546.003": line_of(RULE, 'id = "T1546.003"'),
    }


def test_machine_learning_rule_has_techniques_and_no_query() -> None:
    text = RULE.replace('language = "eql"\n', "").replace(
        'type = "eql"', 'type = "machine_learning"'
    )
    text = text[: text.index("query =")] + text[text.index("[[rule.threat]]") :]
    text = text.replace("[rule]\n", '[rule]\nmachine_learning_job_id = "rare_process"\n')
    result = rule_from_toml(text, "rules/ml/ml_rare.toml")
    assert result.rule is not None
    assert result.rule.parse_status == "no_query"
    assert result.rule.techniques == ("T1047", "T1546", "T1546.003")
    assert result.rule.extra["machine_learning_job_id"] == ("rare_process",)
    assert result.problems == []


def test_threshold_and_new_terms_fields_are_kept() -> None:
    threshold = (
        RULE.replace('type = "eql"', 'type = "threshold"')
        + '\n[rule.threshold]\nfield = ["host.id"]\nvalue = 5\n'
    )
    rule = rule_from_toml(threshold, "rules/x.toml").rule
    assert rule is not None
    assert rule.extra["threshold_fields"] == ("host.id",)
    assert rule.extra["threshold_value"] == 5
    assert rule.predicates
    new_terms = (
        RULE.replace('type = "eql"', 'type = "new_terms"')
        + '\n[rule.new_terms]\nfield = "new_terms_fields"\nvalue = ["host.id", "user.name"]\n'
    )
    rule = rule_from_toml(new_terms, "rules/x.toml").rule
    assert rule is not None
    assert rule.extra["new_terms_fields"] == ("host.id", "user.name")


def test_deprecated_folder_and_building_block() -> None:
    text = RULE.replace("[rule]\n", '[rule]\nbuilding_block_type = "default"\n')
    rule = rule_from_toml(text, "rules/_deprecated/old.toml").rule
    assert rule is not None
    assert rule.deprecated
    assert rule.extra["building_block"] is True


def test_bad_toml_is_a_problem_with_line_and_column() -> None:
    result = rule_from_toml('[rule]\nname = "x\nrule_id = "y"\n', "rules/bad.toml")
    assert result.rule is None
    (problem,) = result.problems
    assert problem.kind == "skipped-file"
    assert problem.location.path == "rules/bad.toml"
    assert problem.location.line == 2
    assert problem.location.column is not None


def test_query_that_does_not_parse_keeps_the_rule_and_places_the_error() -> None:
    text = RULE.replace('not user.id : "S-1-5-18"', "not user.id : ")
    result = rule_from_toml(text, "rules/windows/broken.toml")
    assert result.rule is not None
    assert result.rule.parse_status == "failed"
    assert result.rule.techniques == ("T1047", "T1546", "T1546.003")
    (problem,) = result.problems
    assert problem.kind == "parse-error"
    query_line = RULE.splitlines().index("query = '''") + 1
    assert problem.location.line is not None
    assert query_line < problem.location.line <= query_line + 3
    assert "query line" in problem.reason


def test_query_without_predicates_is_reported() -> None:
    text = RULE.replace(
        RULE[RULE.index("query = '''") : RULE.index("[[rule.threat]]")],
        "query = '''\nfrom logs-* | stats c = count(*) by host.id | where c > 5\n'''\n\n",
    ).replace('language = "eql"', 'language = "esql"')
    result = rule_from_toml(text, "rules/x.toml")
    assert result.rule is not None
    assert result.rule.predicates == ()
    (problem,) = result.problems
    assert problem.kind == "no-predicates"
    assert "comparison of computed values" in problem.reason


def test_rule_without_rule_id_is_skipped() -> None:
    result = rule_from_toml('[metadata]\n[rule]\nname = "x"\n', "rules/x.toml")
    assert result.rule is None
    assert result.problems[0].kind == "skipped-file"


def test_query_position_of_multi_line_and_inline_strings() -> None:
    assert query_position("a = 1\nquery = '''\nx\n'''\n") == (3, 1)
    assert query_position('a = 1\nquery = "x : y"\n') == (2, 10)


def test_filters_add_predicates_and_negation() -> None:
    parsed = parse_filters(
        [
            {
                "meta": {"negate": True},
                "query": {
                    "wildcard": {
                        "file.path": {"case_insensitive": True, "value": "?:\\\\Program Files\\\\*"}
                    }
                },
            },
            {"meta": {"negate": False}, "query": {"match_phrase": {"event.category": "File"}}},
            {"exists": {"field": "user_agent.original"}, "meta": {"negate": True}},
            {"meta": {"disabled": True}, "query": {"term": {"x": "y"}}},
        ]
    )
    found = {(p.field, p.operator, p.value, p.negated) for p in parsed.predicates}
    assert found == {
        ("file.path", "wildcard", "?:\\program files\\*", True),
        ("event.category", "eq", "file", False),
        ("user_agent.original", "exists", "true", True),
    }


def eq(field: str, value: str, negated: bool = False) -> Predicate:
    return make_predicate(field, "eq", value, negated=negated)


def test_events_from_event_code_and_channel() -> None:
    events = rule_events(
        [eq("event.code", "21"), eq("winlog.channel", "Microsoft-Windows-Sysmon/Operational")],
        [],
        [],
    )
    assert [e.id for e in events] == ["sysmon:21"]
    events = rule_events([eq("event.code", "4688"), eq("event.dataset", "system.security")], [], [])
    assert [e.id for e in events] == ["windows-security:4688"]
    events = rule_events(
        [eq("event.code", "21"), eq("data_stream.dataset", "windows.sysmon_operational")], [], []
    )
    assert [e.id for e in events] == ["sysmon:21"]


def test_event_code_channel_from_index_patterns() -> None:
    events = rule_events([eq("event.code", "5137")], ["logs-system.security*", "winlogbeat-*"], [])
    assert [e.id for e in events] == ["windows-security:5137"]
    events = rule_events([eq("event.code", "4104")], ["winlogbeat-*"], [])
    assert [e.id for e in events] == ["powershell:4104"]
    # A numeric code of a non-Windows source names no Windows event.
    assert rule_events([eq("event.code", "33205")], ["logs-mssql.*"], []) == []


def test_events_from_data_sets() -> None:
    events = rule_events([eq("event.dataset", "aws.cloudtrail")], [], [])
    assert [e.id for e in events] == ["aws-cloudtrail"]
    events = rule_events([], ["logs-okta.system*"], [])
    assert [e.id for e in events] == ["okta"]


def test_events_from_categories_per_platform() -> None:
    process = [eq("event.category", "process"), eq("event.type", "start")]
    windows = rule_events(process, [], ["OS: Windows"])
    assert {e.id for e in windows} == {"sysmon:1", "windows-security:4688"}
    linux = rule_events([*process, eq("host.os.type", "linux")], [], ["OS: Windows"])
    assert {e.id for e in linux} == {"linux-process-creation"}
    registry = rule_events(
        [eq("event.category", "registry"), eq("event.type", "change")], [], ["OS: Windows"]
    )
    assert {e.id for e in registry} == {"sysmon:13", "windows-security:4657"}


WINDOWS_SECURITY = ["logs-system.security*", "logs-windows.forwarded*", "winlogbeat-*"]


def ids(events: list[Event]) -> set[str]:
    return {e.id for e in events}


def test_event_action_names_the_security_event_when_no_code_is_given() -> None:
    task = [eq("event.action", "scheduled-task-created"), eq("host.os.type", "windows")]
    assert ids(rule_events(task, WINDOWS_SECURITY, [])) == {"windows-security:4698"}
    service = [eq("event.action", "logged-in"), eq("event.action", "service-installed")]
    assert ids(rule_events(service, WINDOWS_SECURITY, [])) == {
        "windows-security:4624",
        "windows-security:4697",
    }
    # One action, several codes: member added to a global, local or universal group.
    group = rule_events([eq("event.action", "added-member-to-group")], WINDOWS_SECURITY, [])
    assert ids(group) == {f"windows-security:{c}" for c in (4728, 4732, 4756)}


def test_event_code_and_its_own_action_are_one_event() -> None:
    found = rule_events(
        [eq("event.code", "4624"), eq("event.action", "logged-in")], WINDOWS_SECURITY, []
    )
    assert ids(found) == {"windows-security:4624"}


def test_an_action_no_code_names_adds_its_event() -> None:
    # A sequence: a special logon named by its action, then a share access by its code.
    found = rule_events(
        [eq("event.action", "logged-in-special"), eq("event.code", "5145")], WINDOWS_SECURITY, []
    )
    # logged-in-special is 4672 and 4964 in Elastic's Security pipeline.
    assert ids(found) == {"windows-security:4672", "windows-security:4964", "windows-security:5145"}


def test_event_action_outside_windows_data_names_no_windows_event() -> None:
    found = rule_events([eq("event.action", "logged-in")], ["logs-okta.system*"], [])
    assert ids(found) == {"okta"}


def test_task_category_actions_stay_on_the_channels_the_rule_reads() -> None:
    both = [eq("event.action", "audit-log-cleared"), eq("event.action", "Log clear")]
    channels = [eq("winlog.channel", "Security"), eq("winlog.channel", "System")]
    assert ids(rule_events([*both, *channels], [], [])) == {
        "windows-security:1102",
        "windows-system:104",
    }
    # Security only: the System channel's "Log clear" is not read.
    found = rule_events(both, ["logs-system.security*"], ["OS: Windows"])
    assert ids(found) == {"windows-security:1102"}


def test_action_events_replace_their_own_category_but_not_others() -> None:
    firewall = [eq("event.category", "network"), eq("event.action", "windows-firewall-packet-drop")]
    assert ids(rule_events(firewall, WINDOWS_SECURITY, ["OS: Windows"])) == {
        "windows-security:5152"
    }
    # A sequence of a logon and a process start: the logon by its action, the start by category.
    sequence = [
        eq("event.category", "authentication"),
        eq("event.action", "logged-in"),
        eq("event.category", "process"),
        eq("event.type", "start"),
    ]
    assert ids(rule_events(sequence, WINDOWS_SECURITY, ["OS: Windows"])) == {
        "windows-security:4624",
        "sysmon:1",
        "windows-security:4688",
    }


def test_defend_index_gives_the_category_the_query_leaves_out() -> None:
    linux = [eq("host.os.type", "linux")]
    start = [*linux, eq("event.type", "start")]
    process = ["logs-endpoint.events.process-*"]
    assert ids(rule_events(start, process, [])) == {"linux-process-creation"}
    assert ids(rule_events(linux, process, [])) == {"linux-process-creation"}
    end = [*linux, eq("event.type", "end")]
    assert ids(rule_events(end, process, [])) == {"linux-process-termination"}
    network = ["logs-endpoint.events.network-*"]
    assert ids(rule_events([], network, ["OS: macOS"])) == {"macos-network-connection"}
    registry = ["logs-endpoint.events.registry-*"]
    assert ids(rule_events([], registry, ["OS: Windows"])) == {
        "sysmon:12",
        "sysmon:13",
        "sysmon:14",
        "windows-security:4657",
    }
    library = ["logs-endpoint.events.library-*"]
    assert ids(rule_events([], library, ["OS: Windows"])) == {"sysmon:7"}


def test_defend_index_kind_gives_way_to_the_query_category() -> None:
    found = rule_events([eq("event.category", "file")], ["logs-endpoint.events.process-*"], [])
    assert ids(found) == set()  # no platform: nothing to name
    found = rule_events(
        [eq("event.category", "file"), eq("host.os.type", "linux")],
        ["logs-endpoint.events.process-*"],
        [],
    )
    assert ids(found) == {"linux-file-event"}
    # Kinds that are not event categories (alerts, devices, all events) name nothing.
    assert rule_events([eq("host.os.type", "linux")], ["logs-endpoint.events.*"], []) == []


def test_generic_index_never_overrides_the_named_channel_of_an_unknown_code() -> None:
    indices = ["logs-system.application-*", "logs-windows.forwarded*", "winlogbeat-*"]
    found = rule_events([eq("event.code", "33205")], indices, ["OS: Windows"])
    assert ids(found) == {"windows-application:33205"}
    # A code whose channel is known still picks it from a generic index.
    found = rule_events([eq("event.code", "4104")], indices, ["OS: Windows"])
    assert ids(found) == {"powershell:4104"}
    found = rule_events([eq("event.code", "4688")], indices, ["OS: Windows"])
    assert ids(found) == {"windows-security:4688"}


def test_negated_checks_name_no_event() -> None:
    events = rule_events([eq("event.category", "process", negated=True)], [], ["OS: Windows"])
    assert events == []


@pytest.mark.parametrize(
    ("dataset", "expected"),
    [
        # Sigma's gcp services google_workspace.<application>: one Event per application.
        ("google_workspace.admin", {"gcp-google-workspace-admin"}),
        ("google_workspace.login", {"gcp-google-workspace-login"}),
        ("google_workspace.drive", {"gcp-google-workspace-drive"}),
        # Zeek's conn.log by its file name; GCP's audit log by the Filebeat module's name.
        ("zeek.connection", {"zeek-conn"}),
        ("zeek.dns", {"zeek-dns", "dns"}),
        ("googlecloud.audit", {"gcp-gcp-audit"}),
        ("azure.identity_protection", {"azure-riskdetection"}),
        ("network_traffic.dns", {"network-traffic-dns", "dns"}),
        ("suricata.eve", {"suricata-eve"}),
        ("panw.panos", {"panw-panos"}),
    ],
)
def test_data_sets_land_on_the_events_of_the_same_logs(dataset: str, expected: set[str]) -> None:
    assert ids(rule_events([eq("data_stream.dataset", dataset)], [], [])) == expected


def test_web_server_access_logs_are_the_webserver_category_too() -> None:
    indices = ["logs-nginx.access-*", "logs-apache.access-*", "logs-iis.access-*"]
    found = rule_events([eq("url.path", "/etc/passwd")], indices, [])
    assert ids(found) == {"nginx-access", "apache-access", "iis-access", "webserver"}
    # Error logs are no access logs.
    found = rule_events([], ["logs-nginx.error-*", "logs-apache.error-*"], [])
    assert ids(found) == {"nginx-error", "apache-error"}


def test_fortigate_event_log_ids_and_logins_are_its_event_log() -> None:
    fortigate = eq("data_stream.dataset", "fortinet_fortigate.log")
    config = rule_events([fortigate, eq("event.code", "0100044547")], [], [])
    assert ids(config) == {"fortigate-event"}
    login = rule_events([fortigate, eq("event.category", "authentication")], [], [])
    assert ids(login) == {"fortigate-event"}
    # IPS signatures (UTM) and traffic: the FortiGate data stream as a whole.
    signature = rule_events([fortigate, eq("event.action", "signature")], [], [])
    assert ids(signature) == {"fortinet-fortigate-log"}
    mixed = rule_events([fortigate, eq("event.code", "0100044547"), eq("event.code", "30")], [], [])
    assert ids(mixed) == {"fortinet-fortigate-log"}


def test_process_creation_on_crowdstrike_fdr_reads_process_rollup2() -> None:
    indices = ["logs-endpoint.events.process-*", "logs-crowdstrike.fdr*"]
    start = [eq("event.category", "process"), eq("event.type", "start")]
    windows = rule_events(start, indices, ["OS: Windows"])
    assert ids(windows) == {"sysmon:1", "windows-security:4688", "crowdstrike-processrollup2"}
    linux = rule_events([*start, eq("host.os.type", "linux")], indices, [])
    assert ids(linux) == {"linux-process-creation", "crowdstrike-processrollup2"}
    # Other kinds of events, or the Security log's code, are no process starts of the sensor.
    files = rule_events([eq("event.category", "file")], indices, ["OS: Windows"])
    assert "crowdstrike-processrollup2" not in ids(files)
    code = rule_events([eq("event.code", "4688")], [*indices, "logs-system.security*"], [])
    assert ids(code) == {"windows-security:4688"}
    # Without the index, no CrowdStrike event.
    assert ids(rule_events(start, indices[:1], ["OS: Windows"])) == {
        "sysmon:1",
        "windows-security:4688",
    }


def test_walker_counts_files_and_keeps_going(tmp_path: Path) -> None:
    (tmp_path / "rules" / "windows").mkdir(parents=True)
    (tmp_path / "rules" / "windows" / "good.toml").write_text(RULE, encoding="utf-8")
    (tmp_path / "rules" / "bad.toml").write_text("[rule\n", encoding="utf-8")
    load = load_elastic(tmp_path)
    assert load.files_seen == 2
    assert [r.path for r in load.rules] == ["rules/windows/good.toml"]
    kinds = sorted(p.kind for p in load.problems)
    assert kinds == ["missing-folder", "skipped-file"]
    assert {e.id for e in load.events} == {"sysmon:1", "windows-security:4688"}
    assert coverage(load) == {"eql": (1, 1)}


# Bad input.


def line_of(text: str, fragment: str) -> int:
    return text[: text.index(fragment)].count("\n") + 1


def problems_of(text: str, kind: str) -> list[Problem]:
    result = rule_from_toml(text, "rules/x.toml")
    assert result.rule is not None
    return [p for p in result.problems if p.kind == kind]


def test_a_deeply_nested_lucene_query_fails_the_rule_not_the_load(tmp_path: Path) -> None:
    deep = "(" * 2000 + "a:b" + ")" * 2000
    lucene = RULE.replace('language = "eql"', 'language = "lucene"')
    start, end = lucene.index("query = '''"), lucene.index("[[rule.threat]]")
    lucene = lucene[:start] + f"query = '''\n{deep}\n'''\n\n" + lucene[end:]
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "deep.toml").write_text(lucene, encoding="utf-8")
    (tmp_path / "rules" / "good.toml").write_text(
        RULE.replace("210d4430", "310d4430"), encoding="utf-8"
    )
    load = load_elastic(tmp_path, folders=["rules"])
    assert len(load.rules) == 2
    deep_rule = next(r for r in load.rules if r.path == "rules/deep.toml")
    assert deep_rule.parse_status == "failed"
    assert deep_rule.techniques == ("T1047", "T1546", "T1546.003")
    (problem,) = [p for p in load.problems if p.kind == "parse-error"]
    assert problem.reason == "lucene query is nested too deeply to read"
    assert str(problem.location) == f"rules/deep.toml:{line_of(lucene, deep[:10])}"


def test_a_bom_and_a_non_utf8_byte_are_read(tmp_path: Path) -> None:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "bom.toml").write_bytes(b"\xef\xbb\xbf" + RULE.encode())
    latin = RULE.replace("210d4430", "310d4430").replace("Someone", "Ren\xe9")
    (tmp_path / "rules" / "latin.toml").write_bytes(latin.encode("latin-1"))
    load = load_elastic(tmp_path, folders=["rules"])
    assert [r.path for r in load.rules] == ["rules/bom.toml", "rules/latin.toml"]
    assert load.rules[1].author == "Elastic, Ren\ufffd"
    (problem,) = load.problems
    assert (problem.kind, problem.location.line) == ("invalid-encoding", line_of(RULE, "author"))


def test_malformed_threat_entries_and_bad_ids_are_reported_at_their_line() -> None:
    text = RULE.replace('id = "T1047"', 'id = "not-a-technique"').replace(
        '[[rule.threat.technique.subtechnique]]\nid = "T1546.003"',
        "[[rule.threat.technique.subtechnique]]\nid = 1546",
    )
    result = rule_from_toml(text, "rules/x.toml")
    assert result.rule is not None
    assert result.rule.techniques == ("T1546",)
    found = [(p.reason, p.location.line) for p in result.problems if p.kind == "invalid-technique"]
    assert found == [
        ("'not-a-technique' is no ATT&CK technique id", line_of(text, 'id = "not-a')),
        ("1546 is no ATT&CK technique id", line_of(text, "id = 1546")),
    ]


def test_a_technique_written_as_a_string_is_reported() -> None:
    start = RULE.index("[[rule.threat]]")
    text = RULE[:start] + '[[rule.threat]]\nframework = "MITRE ATT&CK"\ntechnique = "T1059"\n'
    (problem,) = problems_of(text, "invalid-technique")
    assert problem.reason == "a technique entry is a text ('T1059'), not a table; it is not read"
    assert problem.location.line == line_of(text, 'technique = "T1059"')


@pytest.mark.parametrize(
    ("query", "reason"),
    [("5", "query is a number, not a text"), ("''", "query is empty")],
)
def test_a_query_of_the_wrong_type_or_empty_is_no_ml_rule(query: str, reason: str) -> None:
    start, end = RULE.index("query = '''"), RULE.index("[[rule.threat]]")
    text = RULE[:start] + f"query = {query}\n\n" + RULE[end:]
    result = rule_from_toml(text, "rules/x.toml")
    assert result.rule is not None
    assert result.rule.parse_status == "failed"
    (problem,) = [p for p in result.problems if p.kind == "no-query"]
    assert problem.reason == f"{reason}; the rule loads without it"
    assert problem.location.line == line_of(text, "query =")


def test_unquoted_toml_dates_are_read() -> None:
    text = RULE.replace('creation_date = "2023/08/23"', "creation_date = 2023-08-23")
    text = text.replace('updated_date = "2026/07/28"', "updated_date = 2026-07-28T10:00:00Z")
    rule = rule_from_toml(text, "rules/x.toml").rule
    assert rule is not None
    assert (rule.date, rule.modified) == ("2023-08-23", "2026-07-28")


def test_a_missing_name_and_a_wrong_rule_id_are_reported() -> None:
    text = RULE.replace('name = "Mofcomp Activity"\n', "")
    (problem,) = problems_of(text, "invalid-metadata")
    assert problem.reason == "rule has no name; it is titled by its rule_id"
    assert problem.severity == "warning"
    result = rule_from_toml(
        RULE.replace('"210d4430-b371-470e-b879-80b7182aa75e"', "12345"), "r.toml"
    )
    assert result.rule is None
    assert [(p.reason, p.location.line) for p in result.problems] == [
        ("rule_id 12345 is a number, not a text", line_of(RULE, "rule_id"))
    ]


def test_a_blank_rule_id_is_reported_as_empty() -> None:
    result = rule_from_toml(
        RULE.replace('"210d4430-b371-470e-b879-80b7182aa75e"', '"   "'), "r.toml"
    )
    assert result.rule is None
    assert [(p.reason, p.location.line) for p in result.problems] == [
        ("rule_id is empty", line_of(RULE, "rule_id"))
    ]


def test_an_unknown_language_names_its_line() -> None:
    text = RULE.replace('language = "eql"', 'language = "sql"')
    (problem,) = problems_of(text, "parse-error")
    assert (problem.reason, problem.location.line) == (
        "unknown query language 'sql'",
        line_of(text, "language ="),
    )


def test_a_lucene_query_cut_short_names_its_end() -> None:
    lucene = RULE.replace('language = "eql"', 'language = "lucene"')
    start, end = lucene.index("query = '''"), lucene.index("[[rule.threat]]")
    lucene = lucene[:start] + "query = 'process.name:(a OR'\n\n" + lucene[end:]
    (problem,) = problems_of(lucene, "parse-error")
    assert problem.location.line == line_of(lucene, "query =")
    assert "(query line 1, column 19)" in problem.reason  # just past the end


def _kql_rule(query: str, index: str) -> str:
    """RULE as a KQL rule on ``index`` with ``query``."""
    text = RULE.replace('language = "eql"', 'language = "kuery"').replace(
        'type = "eql"', 'type = "query"'
    )
    text = text.replace(
        'index = ["logs-endpoint.events.process-*", "logs-system.security*"]', f"index = [{index}]"
    )
    start = text.index("query = '''")
    end = text.index("'''", start + len("query = '''")) + 3
    return text[:start] + f"query = '''\n{query}\n'''" + text[end:]


def test_raw_security_fields_take_the_ecs_names_sigma_gives_that_channel() -> None:
    query = (
        'event.code:"4769" and winlog.event_data.ServiceName:"krbtgt" and '
        'not winlog.event_data.SubjectUserSid:"S-1-5-18" and '
        'winlog.event_data.ProcessName:*\\\\rundll32.exe and winlog.event_data.Status:"0x0"'
    )
    result = rule_from_toml(_kql_rule(query, '"logs-system.security*"'), "rules/windows/k.toml")
    assert result.rule is not None
    assert result.rule.events == ("windows-security:4769",)
    found = {
        (p.field, p.operator, p.value, p.negated, p.vendor_field) for p in result.rule.predicates
    }
    assert {
        ("service.name", "eq", "krbtgt", False, "winlog.event_data.ServiceName"),
        ("user.id", "eq", "s-1-5-18", True, "winlog.event_data.SubjectUserSid"),
        # A path field matched on its last component folds to the name field, as for Sigma.
        ("process.name", "eq", "rundll32.exe", False, "winlog.event_data.ProcessName"),
        # Sigma's pipeline maps no Status on Security events: the raw name stays.
        ("winlog.event_data.Status", "eq", "0x0", False, "winlog.event_data.Status"),
    } <= found


def test_raw_fields_keep_their_names_without_a_windows_channel_to_map_them_on() -> None:
    query = 'event.code:"4769" and winlog.event_data.SubjectUserSid:"S-1-5-18"'
    # The index names no channel and 4769 alone is read as Security: mapped.
    mapped = rule_from_toml(_kql_rule(query, '"winlogbeat-*"'), "rules/windows/k.toml").rule
    assert mapped is not None
    assert {p.field for p in mapped.predicates} == {"event.code", "user.id"}
    # No event at all: nothing says which channel's field it is.
    query = 'winlog.event_data.SubjectUserSid:"S-1-5-18"'
    raw = rule_from_toml(_kql_rule(query, '"logs-*"'), "rules/windows/k.toml").rule
    assert raw is not None
    assert raw.events == ()
    assert {p.field for p in raw.predicates} == {"winlog.event_data.SubjectUserSid"}


def test_rules_on_alert_indices_need_those_alerts() -> None:
    building_block = eq("kibana.alert.rule.name", "x")
    assert ids(rule_events([building_block], [".alerts-security.*"], [])) == {
        "elastic-security-alerts"
    }
    assert ids(rule_events([building_block], ["logs-endpoint.alerts-*"], [])) == {
        "elastic-defend-alerts"
    }
    assert ids(rule_events([eq("event.kind", "alert")], ["endgame-*"], [])) == {"endgame-alerts"}
    # Endgame's index among log indices is one log index more: no alert is needed.
    broad = ["auditbeat-*", "endgame-*", "filebeat-*", "logs-*"]
    assert rule_events([eq("source.ip", "1.2.3.4")], broad, []) == []
    # A query that names its events keeps them.
    found = rule_events([eq("event.code", "4688")], [".alerts-security.*", "winlogbeat-*"], [])
    assert ids(found) == {"windows-security:4688"}
