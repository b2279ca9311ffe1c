"""The Splunk loader on hand-written detections, in memory and in a small splunk folder."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from covgraph.errors import ParseError
from loaders.cim import CimMapper
from loaders.splunk import DetectionRead, SplunkContext, load_splunk, read_yaml_keys, rule_from_dict
from loaders.splunk_events import DataSourceCatalog, data_source_from_dict
from loaders.splunk_macros import Macro, MacroCatalog

DETECTION = dedent(
    """\
    name: Windows MOF Event Triggered Execution via WMI
    id: e59b5a73-32bf-4467-a585-452c36ae10c1
    version: 5
    date: '2024-09-30'
    author: Michael Haag, Splunk
    status: production
    type: TTP
    description: Detects MOFComp.exe started by cmd.exe or powershell.exe.
    data_source:
    - Sysmon EventID 1
    - Windows Event Log Security 4688
    search: '| tstats count from datamodel=Endpoint.Processes where
      (Processes.parent_process_name IN ("cmd.exe", "powershell.exe")
      Processes.process_name=mofcomp.exe) OR `process_wmic` by Processes.dest
      | `drop_dm_object_name(Processes)` | where NOT like(process, "%\\\\\\\\Temp\\\\\\\\%")
      | `windows_mof_event_triggered_execution_via_wmi_filter`'
    how_to_implement: Ingest EDR process data.
    known_false_positives: SCCM.
    references:
    - https://attack.mitre.org/techniques/T1546/003/
    tags:
      analytic_story:
      - Living Off The Land
      asset_type: Endpoint
      mitre_attack_id:
      - T1546.003
      risk_score: 64
      security_domain: endpoint
    """
)

STORY = "name: Living Off The Land\nid: story-1\ndescription: LOLBins.\n"

WMIC = Macro(
    "process_wmic",
    "(Processes.process_name=wmic.exe OR Processes.original_file_name=wmic.exe)",
)


def context() -> SplunkContext:
    sources = DataSourceCatalog()
    for name in ("Sysmon EventID 1", "Windows Event Log Security 4688"):
        source = data_source_from_dict({"name": name}, None)
        sources.by_name[name] = source
    sysmon = data_source_from_dict(
        {
            "name": "Sysmon EventID 1",
            "source": "XmlWinEventLog:Microsoft-Windows-Sysmon/Operational",
            "field_mappings": [
                {
                    "data_model": "cim",
                    "data_set": "Endpoint.Processes",
                    "mapping": {
                        "Image|endswith": "Processes.process_name",
                        "ParentImage": "Processes.parent_process_name",
                        "CommandLine": "Processes.process",
                    },
                }
            ],
        }
    )
    sources.by_name[sysmon.name] = sysmon
    return SplunkContext(
        macros=MacroCatalog(macros={WMIC.name: WMIC}),
        data_sources=sources,
        story_ids={"Living Off The Land": "story-1"},
        mapper=CimMapper(sources.mappings()),
    )


def read(text: str, path: str = "detections/endpoint/x.yml") -> DetectionRead:
    data, lines, _ = read_yaml_keys(text, path)
    return rule_from_dict(data, path, context(), lines)


def test_a_detection_becomes_a_rule_with_its_metadata() -> None:
    data, lines, _ = read_yaml_keys(DETECTION, "detections/endpoint/mof.yml")
    result = rule_from_dict(data, "detections/endpoint/mof.yml", context(), lines)
    rule = result.rule
    assert rule.technique_lines == {"T1546.003": lines["tags"]}
    assert rule.uid == "splunk:e59b5a73-32bf-4467-a585-452c36ae10c1"
    assert (rule.vendor, rule.language, rule.rule_type, rule.collection) == (
        "splunk",
        "spl",
        "TTP",
        "endpoint",
    )
    assert (rule.title, rule.status, rule.deprecated) == (
        "Windows MOF Event Triggered Execution via WMI",
        "production",
        False,
    )
    assert rule.techniques == ("T1546.003",)
    assert rule.stories == ("story-1",)
    assert rule.events == ("sysmon:1", "windows-security:4688")
    assert [e.id for e in result.events] == ["sysmon:1", "windows-security:4688"]
    assert rule.falsepositives == ("SCCM.",)
    assert (rule.query or "").startswith("| tstats")
    assert rule.extra["analytic_stories"] == ("Living Off The Land",)
    assert rule.extra["data_source"] == ("Sysmon EventID 1", "Windows Event Log Security 4688")
    assert rule.extra["risk_score"] == 64
    assert rule.extra["datamodels"] == ("Endpoint.Processes",)
    assert rule.parse_status == "ok"
    assert result.problems == []


def test_predicates_are_canonical_ecs_indicators() -> None:
    data, lines, _ = read_yaml_keys(DETECTION, "detections/endpoint/mof.yml")
    rule = rule_from_dict(data, "detections/endpoint/mof.yml", context(), lines).rule
    found = {(p.field, p.operator, p.value, p.negated) for p in rule.predicates}
    assert found == {
        ("process.parent.name", "eq", "cmd.exe", False),
        ("process.parent.name", "eq", "powershell.exe", False),
        ("process.name", "eq", "mofcomp.exe", False),
        ("process.name", "eq", "wmic.exe", False),
        ("process.pe.original_file_name", "eq", "wmic.exe", False),
        # where like() is case-sensitive: the value keeps its case, and says so
        ("process.command_line", "wildcard", "*\\Temp\\*", True),
    }
    by_value = {p.value: p for p in rule.predicates}
    assert by_value["*\\Temp\\*"].case_sensitive
    assert not by_value["mofcomp.exe"].case_sensitive
    assert by_value["mofcomp.exe"].vendor_field == "Processes.process_name"


def test_path_checks_fold_to_the_name_field() -> None:
    text = DETECTION.replace(
        "OR `process_wmic`", 'OR Processes.process_path="*\\\\\\\\wmic.exe"'
    ).replace('| where NOT like(process, "%\\\\\\\\Temp\\\\\\\\%")', "")
    rule = read(text).rule
    assert ("process.name", "eq", "wmic.exe") in {
        (p.field, p.operator, p.value) for p in rule.predicates
    }


def test_a_search_that_does_not_parse_keeps_metadata_techniques_and_events() -> None:
    text = DETECTION.replace("OR `process_wmic`", 'OR Processes.process="unclosed')
    result = read(text)
    rule, problems = result.rule, result.problems
    assert rule.predicates == ()
    assert rule.parse_status == "failed"
    assert rule.techniques == ("T1546.003",)
    assert rule.events == ("sysmon:1", "windows-security:4688")
    (problem,) = problems
    assert problem.kind == "no-predicates"
    assert "does not parse" in problem.reason
    assert "position" in problem.reason
    assert problem.location.path == "detections/endpoint/x.yml"
    assert (
        problem.location.line
        == DETECTION.splitlines().index(
            next(line for line in DETECTION.splitlines() if line.startswith("search:"))
        )
        + 1
    )


def test_an_unknown_macro_is_a_problem_and_the_rest_is_read() -> None:
    text = DETECTION.replace("`process_wmic`", "`no_such_macro`")
    result = read(text)
    rule, problems = result.rule, result.problems
    kinds = [p.kind for p in problems]
    assert kinds == ["unknown-macro"]
    assert "no_such_macro" in problems[0].reason
    assert rule.parse_status == "partial"
    assert ("process.name", "mofcomp.exe") in {(p.field, p.value) for p in rule.predicates}


def test_a_detection_without_search() -> None:
    text = "\n".join(
        line for line in DETECTION.splitlines() if not line.startswith(("search", "  "))
    )
    result = read(text + "\n")
    rule, problems = result.rule, result.problems
    assert rule.parse_status == "no_query"
    assert [p.kind for p in problems] == ["no-query"]


def test_deprecated_folder_or_status_marks_the_rule() -> None:
    rule = read(DETECTION, "detections/deprecated/x.yml").rule
    assert rule.deprecated
    assert rule.collection == "deprecated"
    rule = read(DETECTION.replace("status: production", "status: deprecated")).rule
    assert rule.deprecated


def test_unmapped_fields_are_reported() -> None:
    text = DETECTION.replace("OR `process_wmic`", "OR Processes.process_hash=abc")
    assert read(text).unmapped == ["Processes.process_hash"]


def test_malformed_yaml_names_file_and_line() -> None:
    with pytest.raises(ParseError) as caught:
        read_yaml_keys("name: x\nid: [unclosed\nsearch: a\n", "detections/endpoint/bad.yml")
    assert caught.value.location is not None
    assert caught.value.location.path == "detections/endpoint/bad.yml"
    assert caught.value.location.line == 3


def test_a_detection_needs_an_id() -> None:
    with pytest.raises(ParseError, match="no id"):
        read(DETECTION.replace("id: e59b5a73-32bf-4467-a585-452c36ae10c1\n", ""))


def test_load_splunk_walks_a_folder_and_survives_broken_files(tmp_path: Path) -> None:
    root = tmp_path / "splunk"
    for folder in ("detections/endpoint", "detections/cloud", "macros", "stories", "data_sources"):
        (root / folder).mkdir(parents=True)
    (root / "detections/endpoint/mof.yml").write_text(DETECTION)
    (root / "detections/cloud/broken.yml").write_text("name: x\nid: [unclosed\n")
    (root / "macros/process_wmic.yml").write_text(
        "name: process_wmic\ndefinition: (Processes.process_name=wmic.exe)\n"
    )
    (root / "stories/lotl.yml").write_text(STORY)
    load = load_splunk(root)
    assert load.files_seen == 2
    assert [r.uid for r in load.rules] == ["splunk:e59b5a73-32bf-4467-a585-452c36ae10c1"]
    assert [(s.id, s.name, s.path) for s in load.stories] == [
        ("story-1", "Living Off The Land", "stories/lotl.yml")
    ]
    (problem,) = [p for p in load.problems if p.kind == "skipped-file"]
    assert str(problem.location) == "detections/cloud/broken.yml:3:1"
    assert {e.id for e in load.events} == {"sysmon:1", "windows-security:4688"}
    assert load.rules[0].stories == ("story-1",)
    assert load_splunk(root, folders=["cloud"]).rules == []


def test_tags_that_are_not_a_map_are_reported() -> None:
    start = DETECTION.index("tags:")
    result = read(DETECTION[:start] + "tags: T1546.003\n")
    assert result.rule.techniques == ()
    (problem,) = [p for p in result.problems if p.kind == "invalid-metadata"]
    assert problem.location.line == DETECTION[:start].count("\n") + 1
    assert problem.reason.startswith("tags is a text, not a map")


@pytest.mark.parametrize(
    ("search", "kind"), [("[a, b]", "a list"), ("{a: b}", "a map"), ("5", "a number")]
)
def test_a_search_of_the_wrong_type_is_reported_as_such(search: str, kind: str) -> None:
    start = DETECTION.index("search:")
    end = DETECTION.index("how_to_implement:")
    result = read(DETECTION[:start] + f"search: {search}\n" + DETECTION[end:])
    assert result.rule.parse_status == "no_query"
    assert result.rule.query is None
    (problem,) = [p for p in result.problems if p.kind == "no-query"]
    assert problem.reason == f"search is {kind}, not a text; the rule loads without it"
    assert problem.location.line == 12


@pytest.mark.parametrize(
    ("written", "reason"),
    [('"  "', "detection id is empty"), ("12345", "detection id is a number, not a text")],
)
def test_a_blank_or_number_id_is_refused(written: str, reason: str) -> None:
    line = next(line for line in DETECTION.splitlines() if line.startswith("id:"))
    with pytest.raises(ParseError, match=f":2: {reason}$"):
        read(DETECTION.replace(line, f"id: {written}"))


def test_a_name_that_is_a_list_is_reported_as_such() -> None:
    text = DETECTION.replace("name: Windows MOF Event Triggered Execution via WMI", "name: [a]")
    with pytest.raises(ParseError, match="detection name is a list, not a text"):
        read(text)


def test_an_unknown_data_source_is_a_warning_and_still_an_event() -> None:
    text = DETECTION.replace("- Sysmon EventID 1\n", "- No Such Data Source 42\n")
    result = read(text)
    (problem,) = [p for p in result.problems if p.kind == "unknown-data-source"]
    assert problem.severity == "warning"
    assert "'No Such Data Source 42'" in problem.reason
    assert problem.reason.endswith("it is read by its name as no-such-data-source-42")
    assert problem.location.line == 9
    assert "no-such-data-source-42" in result.rule.events
    # a data source known by pattern (channel and event id) is no problem
    assert [p for p in read(DETECTION).problems if p.kind == "unknown-data-source"] == []


def splunk_root(tmp_path: Path) -> Path:
    root = tmp_path / "splunk"
    for folder in ("detections/endpoint", "macros", "stories", "data_sources"):
        (root / folder).mkdir(parents=True)
    (root / "stories/lotl.yml").write_text(STORY)
    return root


def test_a_key_written_twice_is_reported_with_its_line(tmp_path: Path) -> None:
    root = splunk_root(tmp_path)
    (root / "detections/endpoint/mof.yml").write_text(DETECTION + "type: Hunting\n")
    load = load_splunk(root)
    (rule,) = load.rules
    assert rule.rule_type == "Hunting"
    (problem,) = [p for p in load.problems if p.kind == "duplicate-key"]
    assert str(problem.location) == f"detections/endpoint/mof.yml:{DETECTION.count(chr(10)) + 1}"
    assert problem.reason == "key 'type' is written twice in one map; the last one is read"
    assert problem.severity == "warning"


def test_macro_cycles_are_reported_once_per_rule(tmp_path: Path) -> None:
    root = splunk_root(tmp_path)
    (root / "macros/boom.yml").write_text("name: boom\ndefinition: '`boom` OR `boom` OR x=1'\n")
    text = DETECTION.replace("OR `process_wmic`", "OR `boom` OR `boom`")
    (root / "detections/endpoint/mof.yml").write_text(text)
    load = load_splunk(root)
    (rule,) = load.rules
    assert rule.parse_status == "partial"
    problems = [p for p in load.problems if p.kind in ("macro-error", "unknown-macro")]
    assert [p.reason.split(" at ")[0] for p in problems] == [
        "macro boom calls itself (boom -> boom)"
    ]


def test_a_folder_without_detections_is_named(tmp_path: Path) -> None:
    load = load_splunk(tmp_path)
    assert load.rules == []
    (problem,) = load.problems
    assert (problem.kind, str(problem.location)) == ("missing-folder", "detections")
    assert "security_content checkout" in problem.reason
