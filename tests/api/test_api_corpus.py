"""The API over HTTP against the whole corpus: the T1546.003 page, checked against the files."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from http_api import REPO, data, gql, running_api

pytestmark = [pytest.mark.neo4j, pytest.mark.corpus]

TECHNIQUE = "T1546.003"
PERSISTENCE_RULE = "rules/windows/builtin/wmi/win_wmi_persistence.yml"

PAGE = """
query Page($id: String!) {
  technique(id: $id) {
    id name
    coverage {
      ruleCount eventCount events { id }
      byVendor { vendor ruleCount rules { uid sourcePath sourceUrl } }
    }
    authoringGuide {
      distinctFieldCount distinctIndicatorCount
      fields(first: 100) { field { name } ruleCount operators { operator count } }
      indicators(first: 20) { field { name } operator value ruleCount corpusReach }
      exclusions(first: 200) { field { name } operator value ruleCount corpusReach }
    }
  }
}
"""


@pytest.fixture(scope="module")
def corpus_api(corpus_graph: object) -> Iterator[str]:
    """An API server with its caches on, over the loaded corpus."""
    with running_api() as url:
        yield url


def _yaml_files(root: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    for path in sorted(root.rglob("*.yml")):
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError):
            continue
        if isinstance(loaded, dict):
            yield path, loaded


def _sigma_files(corpus: Path) -> set[str]:
    root = corpus / "sigma"
    found = set()
    for path, rule in _yaml_files(root):
        relative = path.relative_to(root).as_posix()
        tags = {str(t).lower() for t in rule.get("tags") or ()}
        deprecated = relative.startswith("deprecated/") or rule.get("status") == "deprecated"
        if f"attack.{TECHNIQUE.lower()}" in tags and not deprecated:
            found.add(relative)
    return found


def _elastic_files(corpus: Path) -> set[str]:
    root = corpus / "elastic"
    found = set()
    for path in sorted(root.rglob("*.toml")):
        document = tomllib.loads(path.read_text(encoding="utf-8"))
        if (document.get("metadata") or {}).get("maturity") == "deprecated":
            continue
        ids = set()
        for threat in (document.get("rule") or {}).get("threat") or ():
            for technique in threat.get("technique") or ():
                ids.add(technique.get("id"))
                ids.update(s.get("id") for s in technique.get("subtechnique") or ())
        if TECHNIQUE in ids:
            found.add(path.relative_to(root).as_posix())
    return found


def _splunk_files(corpus: Path) -> set[str]:
    root = corpus / "splunk"
    found = set()
    for path, rule in _yaml_files(root / "detections"):
        relative = path.relative_to(root).as_posix()
        ids = set((rule.get("tags") or {}).get("mitre_attack_id") or ())
        deprecated = "/deprecated/" in f"/{relative}" or rule.get("status") == "deprecated"
        if TECHNIQUE in ids and not deprecated:
            found.add(relative)
    return found


def test_t1546_003_page_rules_per_vendor_are_the_files(corpus_api: str, corpus_dir: Path) -> None:
    page = data(corpus_api, PAGE, {"id": TECHNIQUE})["technique"]
    by_vendor = {
        v["vendor"]: {r["sourcePath"] for r in v["rules"]} for v in page["coverage"]["byVendor"]
    }
    assert by_vendor["SIGMA"] == _sigma_files(corpus_dir)
    assert by_vendor["ELASTIC"] == _elastic_files(corpus_dir)
    assert by_vendor["SPLUNK"] == _splunk_files(corpus_dir)
    counts = {v["vendor"]: v["ruleCount"] for v in page["coverage"]["byVendor"]}
    assert counts == {vendor: len(paths) for vendor, paths in by_vendor.items()}
    assert page["coverage"]["ruleCount"] == sum(counts.values())
    sigma = next(v for v in page["coverage"]["byVendor"] if v["vendor"] == "SIGMA")
    persistence = next(r for r in sigma["rules"] if r["sourcePath"] == PERSISTENCE_RULE)
    assert persistence["sourceUrl"].startswith("https://github.com/SigmaHQ/sigma/blob/8eaafff1f")
    assert persistence["sourceUrl"].endswith(PERSISTENCE_RULE)


def test_t1546_003_page_events(corpus_api: str) -> None:
    coverage = data(corpus_api, PAGE, {"id": TECHNIQUE})["technique"]["coverage"]
    events = {e["id"] for e in coverage["events"]}
    assert {
        "sysmon:19",
        "sysmon:20",
        "sysmon:21",
        "sysmon:1",
        "windows-security:4688",
        "powershell:4104",
        "wmi-activity:5861",
    } <= events
    assert coverage["eventCount"] == len(events)


def test_t1546_003_authoring_guide(corpus_api: str) -> None:
    guide = data(corpus_api, PAGE, {"id": TECHNIQUE})["technique"]["authoringGuide"]
    assert guide["distinctFieldCount"] == len(guide["fields"])
    indicators = {(i["field"]["name"], i["operator"], i["value"]): i for i in guide["indicators"]}
    wmic = indicators[("process.name", "eq", "wmic.exe")]
    assert wmic["corpusReach"] > wmic["ruleCount"] >= 1
    ranked = [i["ruleCount"] for i in guide["indicators"]]
    assert ranked == sorted(ranked, reverse=True)
    # win_wmi_persistence.yml excludes the SCM event provider's permanent subscription.
    exclusions = {(e["field"]["name"], e["operator"], e["value"]) for e in guide["exclusions"]}
    assert {
        ("user.name", "eq", "s-1-5-32-544"),
        ("winlog.event_data.PossibleCause", "eq", "permanent"),
        ("winlog.event_data.Provider", "eq", "scm event provider"),
        ("winlog.event_data.Query", "wildcard", "select * from msft_scmeventlogevent"),
    } <= exclusions


def test_the_persistence_rule_shows_its_exclusions(corpus_api: str) -> None:
    query = """{ rules(search: "WMI Persistence", vendor: SIGMA, first: 50) {
        nodes { sourcePath predicates { field { name } operator value negated } } } }"""
    nodes = data(corpus_api, query)["rules"]["nodes"]
    rule = next(n for n in nodes if n["sourcePath"] == PERSISTENCE_RULE)
    negated = {(p["field"]["name"], p["value"]) for p in rule["predicates"] if p["negated"]}
    assert negated == {
        ("user.name", "s-1-5-32-544"),
        ("winlog.event_data.PossibleCause", "permanent"),
        ("winlog.event_data.Provider", "scm event provider"),
        ("winlog.event_data.Query", "select * from msft_scmeventlogevent"),
    }
    # Keyword checks name no field: the pseudo-field `*`, as in the authoring guide (null before).
    keywords = {
        p["value"] for p in rule["predicates"] if p["field"] is None or p["field"]["name"] == "*"
    }
    assert keywords == {
        "activescripteventconsumer",
        "commandlineeventconsumer",
        "commandlinetemplate",
    }


def test_overlap_similarity_matrix_and_layer_on_the_corpus(corpus_api: str) -> None:
    query = """{
      similarTechniques(id: "T1546.003", first: 5) { technique { id } jaccard sharedIndicators }
      indicatorOverlap(techniqueIds: ["T1546.003", "T1047"], first: 5) {
        field { name } value corpusReach ruleCountByTechnique { technique { id } ruleCount } }
      coverageMatrix(platform: "Windows") { tactic { id } techniqueCount coveredCount }
      detectableWith(eventIds: ["wmi-activity:5861"]) { id }
      navigatorLayer(vendors: [SIGMA])
      catalog { ruleCount techniqueCount coveredTechniqueCount sources { name commit } }
    }"""
    result = data(corpus_api, query)
    similar = result["similarTechniques"]
    assert similar
    assert all(0 < s["jaccard"] <= 1 for s in similar)
    assert [s["jaccard"] for s in similar] == sorted((s["jaccard"] for s in similar), reverse=True)
    overlap = result["indicatorOverlap"]
    assert overlap
    for row in overlap:
        counts = [c["ruleCount"] for c in row["ruleCountByTechnique"]]
        assert all(n >= 1 for n in counts)
        assert row["corpusReach"] >= max(counts)
    assert len(result["coverageMatrix"]) == 14
    assert "T1546.003" in {t["id"] for t in result["detectableWith"]}
    layer = result["navigatorLayer"]
    assert layer["versions"]["layer"] == "4.5"
    assert all(t["comment"].startswith("sigma: ") for t in layer["techniques"])
    catalog = result["catalog"]
    assert {s["name"] for s in catalog["sources"]} == {"attack", "sigma", "elastic", "splunk"}
    assert 0 < catalog["coveredTechniqueCount"] <= catalog["techniqueCount"]


# The Sigma-only view of T1546.003, worked out by reading the 12 current Sigma rule files tagged
# attack.t1546.003 (not taken from the API). For each: its detection's fields after pySigma's ECS
# mapping (EventID -> event.code, Image -> process.executable, ...), the image-load override
# (ImageLoaded -> dll.path) and the path -> name folding of docs/graph-model.md
# (`Image|endswith: '\x.exe'` -> process.name, `ImageLoaded|endswith: '\x.dll'` -> dll.name;
# `ProcessName|endswith: 'scrcons.exe'` has no `\`, so it stays a process.executable wildcard);
# the catalog events its log source and EventIDs give; and its non-negated (field, operator,
# value) checks.
SIGMA_RULES: dict[str, tuple[set[str], set[str], int]] = {
    # EventID 4624, LogonType 3, ProcessName|endswith scrcons.exe; not TargetLogonId 0x3e7.
    "rules-threat-hunting/windows/builtin/security/account_management/"
    "win_security_scrcons_remote_wmi_scripteventconsumer.yml": (
        {"event.code", "winlog.event_data.LogonType", "process.executable", "winlog.logon.id"},
        {"windows-security:4624"},
        3,
    ),
    # EventID 4662, ObjectType 'WMI Namespace', ObjectName|contains 'subscription'.
    "rules/windows/builtin/security/win_security_wmi_persistence.yml": (
        {"event.code", "winlog.event_data.ObjectType", "winlog.event_data.ObjectName"},
        {"windows-security:4662"},
        3,
    ),
    # EventID 5861 with three keywords, or EventID 5859; not the SCM Event Provider's
    # Provider, Query, User, PossibleCause.
    "rules/windows/builtin/wmi/win_wmi_persistence.yml": (
        {
            "event.code",
            "*",
            "winlog.event_data.Provider",
            "winlog.event_data.Query",
            "user.name",
            "winlog.event_data.PossibleCause",
        },
        {"wmi-activity:5859", "wmi-activity:5861"},
        5,
    ),
    # file_event: Image 'C:\WINDOWS\system32\wbem\scrcons.exe'.
    "rules/windows/file/file_event/"
    "file_event_win_wmi_persistence_script_event_consumer_write.yml": (
        {"process.executable"},
        {"sysmon:11"},
        1,
    ),
    # image_load: Image|endswith '\scrcons.exe', ImageLoaded|endswith four DLL/OCX names.
    "rules/windows/image_load/image_load_scrcons_wmi_scripteventconsumer.yml": (
        {"process.name", "dll.name"},
        {"sysmon:7"},
        5,
    ),
    # image_load: Image 'C:\Windows\System32\wbem\WmiPrvSE.exe', ImageLoaded|endswith
    # '\wbemcons.dll'.
    "rules/windows/image_load/image_load_wmi_persistence_commandline_event_consumer.yml": (
        {"process.executable", "dll.name"},
        {"sysmon:7"},
        2,
    ),
    # ps_script: ScriptBlockText|contains|all, two lists sharing three of their four strings.
    "rules/windows/powershell/powershell_script/posh_ps_wmi_persistence.yml": (
        {"powershell.file.script_block_text"},
        {"powershell:4104"},
        5,
    ),
    # ParentImage|endswith '\EdgeTransport.exe'; not conhost.exe, not OleConverter.exe (by Image).
    "rules/windows/process_creation/proc_creation_win_wmi_backdoor_exchange_transport_agent.yml": (
        {"process.parent.name", "process.executable"},
        {"sysmon:1", "windows-security:4688"},
        1,
    ),
    # Image scrcons.exe (the same full path as the file_event rule), ParentImage svchost.exe.
    "rules/windows/process_creation/proc_creation_win_wmi_persistence_script_event_consumer.yml": (
        {"process.executable", "process.parent.executable"},
        {"sysmon:1", "windows-security:4688"},
        2,
    ),
    # OriginalFileName wmic.exe or Image|endswith '\WMIC.exe'; CommandLine|contains|all two.
    "rules/windows/process_creation/proc_creation_win_wmic_eventconsumer_creation.yml": (
        {"process.pe.original_file_name", "process.name", "process.command_line"},
        {"sysmon:1", "windows-security:4688"},
        4,
    ),
    # wmi_event: EventID 19, 20, 21.
    "rules/windows/wmi_event/sysmon_wmi_event_subscription.yml": (
        {"event.code"},
        {"sysmon:19", "sysmon:20", "sysmon:21"},
        3,
    ),
    # wmi_event: Destination (process.executable for this category)|base64offset|contains three
    # strings: three encodings each.
    "rules/windows/wmi_event/sysmon_wmi_susp_encoded_scripts.yml": (
        {"process.executable"},
        {"sysmon:19", "sysmon:20", "sysmon:21"},
        9,
    ),
}

#: The 18 fields of the Sigma-only authoring guide: the union of the rules' fields above.
SIGMA_FIELDS = {
    "*",
    "dll.name",
    "event.code",
    "powershell.file.script_block_text",
    "process.command_line",
    "process.executable",
    "process.name",
    "process.parent.executable",
    "process.parent.name",
    "process.pe.original_file_name",
    "user.name",
    "winlog.event_data.LogonType",
    "winlog.event_data.ObjectName",
    "winlog.event_data.ObjectType",
    "winlog.event_data.PossibleCause",
    "winlog.event_data.Provider",
    "winlog.event_data.Query",
    "winlog.logon.id",
}

#: The 12 catalog events Sigma's rules alone cover (the issue's "12 catalog events").
SIGMA_EVENTS = {
    "powershell:4104",
    "sysmon:1",
    "sysmon:7",
    "sysmon:11",
    "sysmon:19",
    "sysmon:20",
    "sysmon:21",
    "windows-security:4624",
    "windows-security:4662",
    "windows-security:4688",
    "wmi-activity:5859",
    "wmi-activity:5861",
}

SIGMA_VIEW = """
query($id: String!) {
  technique(id: $id) {
    authoringGuide(vendors: [SIGMA]) {
      distinctFieldCount distinctIndicatorCount
      fields(first: 100) { field { name } }
      indicators(first: 100) { field { name } operator value }
    }
  }
  rules(techniqueId: $id, vendor: SIGMA, first: 100) {
    totalCount
    nodes { sourcePath events { id } predicates { field { name } operator value negated } }
  }
}
"""


def test_t1546_003_sigma_view_is_the_hand_checked_rules(corpus_api: str) -> None:
    result = data(corpus_api, SIGMA_VIEW, {"id": TECHNIQUE})
    guide = result["technique"]["authoringGuide"]
    rules = {node["sourcePath"]: node for node in result["rules"]["nodes"]}
    assert result["rules"]["totalCount"] == 12
    assert set(rules) == set(SIGMA_RULES)

    # Rule by rule: the fields, events and checks read from the files.
    for path, (fields, events, checks) in SIGMA_RULES.items():
        node = rules[path]
        got = {(p["field"]["name"] if p["field"] else "*") for p in node["predicates"]}
        assert got == fields, path
        assert {e["id"] for e in node["events"]} == events, path
        positive = {
            (p["field"]["name"] if p["field"] else "*", p["operator"], p["value"])
            for p in node["predicates"]
            if not p["negated"]
        }
        assert len(positive) == checks, (path, sorted(positive))

    assert set().union(*(fields for fields, _, _ in SIGMA_RULES.values())) == SIGMA_FIELDS
    assert set().union(*(events for _, events, _ in SIGMA_RULES.values())) == SIGMA_EVENTS
    assert len(SIGMA_FIELDS) == 18
    assert len(SIGMA_EVENTS) == 12

    # The guide restricted to Sigma: the seed page's 18 fields; 42 indicators, which is the 43
    # checks above less the scrcons.exe full path that two rules check.
    assert guide["distinctFieldCount"] == 18
    assert {f["field"]["name"] for f in guide["fields"]} == SIGMA_FIELDS
    assert guide["distinctIndicatorCount"] == 42 == len(guide["indicators"])
    assert sum(checks for _, _, checks in SIGMA_RULES.values()) == 43
    scrcons = ("process.executable", "eq", "c:\\windows\\system32\\wbem\\scrcons.exe")
    assert scrcons in {(i["field"]["name"], i["operator"], i["value"]) for i in guide["indicators"]}
    assert {e["id"] for node in rules.values() for e in node["events"]} == SIGMA_EVENTS


def test_t1546_003_all_vendors_add_to_the_sigma_view(corpus_api: str) -> None:
    page = data(corpus_api, PAGE, {"id": TECHNIQUE})["technique"]
    coverage, guide = page["coverage"], page["authoringGuide"]
    events = {e["id"] for e in coverage["events"]}
    # Elastic's and Splunk's six rules add one event, eleven fields and 21 indicators (docs/api.md).
    # Splunk's windows_mof_event_triggered_execution_via_wmi.yml reads CrowdStrike's process
    # events too.
    assert events - SIGMA_EVENTS == {"crowdstrike-processrollup2"}
    assert coverage["eventCount"] == len(events) == 13
    assert {f["field"]["name"] for f in guide["fields"]} > SIGMA_FIELDS
    assert guide["distinctFieldCount"] == 29
    assert guide["distinctIndicatorCount"] == 63


CASED = """
query($value: String!) {
  rules(field: "process.pe.original_file_name", value: $value, first: 200) {
    totalCount
    nodes { vendor query predicates { field { name } value rawValue caseSensitive } }
  }
}
"""


def _checks(api: str, value: str) -> list[tuple[str, str, bool, str]]:
    rules = data(api, CASED, {"value": value})["rules"]
    return [
        (rule["vendor"], p["rawValue"], p["caseSensitive"], rule["query"] or "")
        for rule in rules["nodes"]
        for p in rule["predicates"]
        if (p["field"]["name"], p["value"]) == ("process.pe.original_file_name", value)
    ]


def test_a_case_sensitive_check_keeps_its_case_and_says_so(corpus_api: str) -> None:
    # Elastic's EQL `in` / `==` compare with case: "PowerShell.EXE" is its own indicator, every
    # check of it marked case-sensitive and written so in the rule's query.
    cased = _checks(corpus_api, "PowerShell.EXE")
    assert cased
    assert {vendor for vendor, *_ in cased} == {"ELASTIC"}
    assert all(sensitive for _, _, sensitive, _ in cased)
    assert all('"PowerShell.EXE"' in query for *_, query in cased)
    # The lower-cased indicator is what the case-insensitive checks of every vendor share.
    folded = _checks(corpus_api, "powershell.exe")
    assert {vendor for vendor, *_ in folded} == {"SIGMA", "ELASTIC", "SPLUNK"}
    assert not any(sensitive and raw != raw.lower() for _, raw, sensitive, _ in folded)


GUIDE_ROWS = """query($id: String!) { technique(id: $id) { authoringGuide {
    indicators(first: 40) { field { name } operator value negated corpusReach }
    exclusions(first: 40) { field { name } operator value negated corpusReach } } } }"""


def test_a_corpus_reach_links_to_a_list_of_that_many_rules(corpus_api: str) -> None:
    # T1546.003 (wmic.exe: 112 rules vs 114 before) and T1047, whose exclusions
    # (*create*, werfault.exe, wmiprvse.exe...) differed most when polarity was ignored.
    rows = []
    for technique in ("T1546.003", "T1047", "T1059.001"):
        guide = data(corpus_api, GUIDE_ROWS, {"id": technique})["technique"]["authoringGuide"]
        rows += guide["indicators"] + guide["exclusions"]
    assert len(rows) > 100
    # The web page's link: rules(field, operator, value, negated), current rules only.
    for start in range(0, len(rows), 25):
        chunk = rows[start : start + 25]
        params = ", ".join(
            f"$f{i}: String, $o{i}: String, $v{i}: String, $n{i}: Boolean"
            for i in range(len(chunk))
        )
        fields = " ".join(
            f"r{i}: rules(field: $f{i}, operator: $o{i}, value: $v{i}, negated: $n{i}, first: 0)"
            " { totalCount }"
            for i in range(len(chunk))
        )
        variables: dict[str, Any] = {}
        for i, row in enumerate(chunk):
            variables |= {
                f"f{i}": row["field"]["name"],
                f"o{i}": row["operator"],
                f"v{i}": row["value"],
                f"n{i}": row["negated"],
            }
        listed = data(corpus_api, f"query({params}) {{ {fields} }}", variables)
        for i, row in enumerate(chunk):
            assert listed[f"r{i}"]["totalCount"] == row["corpusReach"], row


def test_retired_techniques_are_left_out_alike_and_can_be_found(corpus_api: str) -> None:
    query = """{
      event(id: "sysmon:1") { techniques(first: 200) { id } }
      detectableWith(eventIds: ["sysmon:1"]) { id }
      t1574: technique(id: "T1574") { subtechniques { id revoked deprecated }
        all: subtechniques(includeDeprecated: true) { id } }
      t1053: technique(id: "T1053") { subtechniques { id } }
      sideLoading: technique(id: "T1574.002") { revoked revokedBy { id } }
      retired: rules(onlyRetiredTechniques: true, first: 200) {
        totalCount nodes { uid techniques { id revoked deprecated } } }
    }"""
    result = data(corpus_api, query)
    event = {t["id"] for t in result["event"]["techniques"]}
    detectable = {t["id"] for t in result["detectableWith"]}
    # event.techniques stops at 200 (MAX_FIRST): below that it is detectableWith's whole set
    assert event <= detectable
    assert len(event) == min(200, len(detectable))
    assert "T1574.002" not in event
    subs = result["t1574"]["subtechniques"]
    assert not any(s["revoked"] or s["deprecated"] for s in subs)
    assert "T1574.002" in {s["id"] for s in result["t1574"]["all"]}
    assert not {"T1053.001", "T1053.004"} & {s["id"] for s in result["t1053"]["subtechniques"]}
    assert result["sideLoading"] == {"revoked": True, "revokedBy": {"id": "T1574.001"}}
    retired = result["retired"]
    assert retired["totalCount"] >= 1
    for rule in retired["nodes"]:
        assert rule["techniques"]
        assert all(t["revoked"] or t["deprecated"] for t in rule["techniques"]), rule


def test_sample_values_are_distinct_literals_on_the_corpus(corpus_api: str) -> None:
    query = """query($id: String!) { technique(id: $id) { authoringGuide {
        fields(first: 200) { field { name } sampleValues(first: 200) } } } }"""
    for technique in ("T1036", "T1059.001", "T1055", "T1190"):
        guide = data(corpus_api, query, {"id": technique})["technique"]["authoringGuide"]
        for usage in guide["fields"]:
            values = usage["sampleValues"]
            assert len(values) == len(set(values)), usage
            # `exists` checks once showed up as "true" on these fields.
            if usage["field"]["name"] in ("process.executable", "process.command_line"):
                assert "true" not in values, usage
            assert not any(v.startswith("field:") for v in values), usage


def test_source_current_rule_counts_add_up_to_the_catalog(corpus_api: str) -> None:
    query = """{ catalog { ruleCount deprecatedRuleCount sources { vendor ruleCount
        currentRuleCount } } sigma: rules(vendor: SIGMA, first: 0) { totalCount } }"""
    result = data(corpus_api, query)
    catalog = result["catalog"]
    rules = [s for s in catalog["sources"] if s["vendor"]]
    assert sum(s["currentRuleCount"] for s in rules) == catalog["ruleCount"]
    sigma = next(s for s in rules if s["vendor"] == "SIGMA")
    assert sigma["currentRuleCount"] == result["sigma"]["totalCount"] < sigma["ruleCount"]


def test_the_readme_example_answers_as_the_readme_says(corpus_api: str) -> None:
    # The curl example of README.md, sent as written: its top five indicators are indicators,
    # not event selectors, and the one issue 5 names is among them.
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    example = re.search(r"curl -s http://127\.0\.0\.1:8000/graphql .*?-d '(.*?)'", readme, re.S)
    assert example is not None, "README.md has no curl example"
    found = data(corpus_api, json.loads(example.group(1))["query"])["technique"]
    assert found["name"] == "Windows Management Instrumentation Event Subscription"
    top = [
        (i["field"]["name"], i["operator"], i["value"])
        for i in found["authoringGuide"]["indicators"]
    ]
    assert len(top) == 5
    assert ("process.name", "eq", "wmic.exe") in top
    assert not {field for field, _, _ in top} & {"event.code", "event.category", "host.os.type"}


def _attack_analytics(corpus: Path, technique: str) -> dict[str, list[tuple[str, str]]]:
    """Current analytics of the technique's current strategies -> (name, channel) references."""
    bundle = json.loads((corpus / "attack" / "enterprise-attack.json").read_bytes())["objects"]
    by_id = {o["id"]: o for o in bundle}

    def current(o: dict[str, Any]) -> bool:
        return not o.get("revoked") and not o.get("x_mitre_deprecated")

    pattern = next(
        o for o in bundle
        if o["type"] == "attack-pattern"
        and any(r.get("external_id") == technique for r in o.get("external_references", []))
    )  # fmt: skip
    strategies = {
        r["source_ref"] for r in bundle
        if r["type"] == "relationship" and r.get("relationship_type") == "detects"
        and r["target_ref"] == pattern["id"] and current(r) and current(by_id[r["source_ref"]])
    }  # fmt: skip
    found = {}
    for ref in sorted(strategies):
        for analytic_ref in by_id[ref].get("x_mitre_analytic_refs", []):
            analytic = by_id[analytic_ref]
            if current(analytic):
                name = analytic["external_references"][0]["external_id"]
                found[name] = [
                    (s["name"], s["channel"]) for s in analytic["x_mitre_log_source_references"]
                ]
    return found


def test_t1546_003_attack_guidance_beside_its_rules(corpus_api: str, corpus_dir: Path) -> None:
    query = """{ technique(id: "T1546.003") {
        detectionStrategies { id analytics { id logSources events { id } } }
        attackEvents { event { id } analytics ruleCount }
        coverage { eventUsage { event { id } ruleCount } } } }"""
    page = data(corpus_api, query)["technique"]
    expected = _attack_analytics(corpus_dir, TECHNIQUE)
    analytics = {a["id"]: a for s in page["detectionStrategies"] for a in s["analytics"]}
    assert set(analytics) == set(expected) == {"AN0236"}
    assert analytics["AN0236"]["logSources"] == [f"{n} {c}" for n, c in expected["AN0236"]]
    # ATT&CK's analytic reads WMI-Activity's events, process creation and image loads; the
    # rules read Sysmon's WMI events 19-21 instead of WMI-Activity's, bar 5861.
    attack = {e["event"]["id"]: e for e in page["attackEvents"]}
    assert set(attack) == {
        "sysmon:1", "sysmon:7",
        "wmi-activity:5857", "wmi-activity:5858", "wmi-activity:5860", "wmi-activity:5861",
    }  # fmt: skip
    assert {e["id"] for e in analytics["AN0236"]["events"]} == set(attack)
    # Each count is the technique's rules observing the event, as its coverage counts them.
    used = {u["event"]["id"]: u["ruleCount"] for u in page["coverage"]["eventUsage"]}
    assert {i: e["ruleCount"] for i, e in attack.items()} == {i: used.get(i, 0) for i in attack}
    assert attack["sysmon:1"]["ruleCount"] > 0
    assert attack["wmi-activity:5857"]["ruleCount"] == 0


def test_an_answer_past_the_item_budget_with_shared_rules_is_a_coded_error(
    corpus_graph: object,
) -> None:
    """Two rolled-up techniques share rules: when the answer passes the item budget, the fields
    beside the failing one are cancelled while others still await the same rules' checks. That
    is one RESULT_TOO_LARGE, never an HTTP 500 (api.loaders.SharedLoader)."""
    rules = "byVendor { rules { uid predicates { value field { name } } events { id } } }"
    query = f"""{{
      a0: technique(id: "T1059") {{ coverage(includeSubtechniques: true) {{ {rules} }} }}
      a1: technique(id: "T1218") {{ coverage(includeSubtechniques: true) {{ {rules} }} }} }}"""
    # Without the result cache, every run reads the checks while the budget trips.
    with running_api({"COVGRAPH_API_CACHE": "0"}) as url:
        for _ in range(3):
            status, body = gql(url, query)
            assert status == 200, body
            assert [e["extensions"]["code"] for e in body["errors"]] == ["RESULT_TOO_LARGE"]
            assert body["extensions"]["covgraph"]["items"] > 25_000
