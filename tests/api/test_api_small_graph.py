"""The API over HTTP against a real Neo4j holding the small hand-made graph (small_graph.py)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from http_api import data, gql
from navigator_spec import layer_problems
from small_graph import FILLER, write_small_graph

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.neo4j

PAGE = """
query Page($id: String!, $subs: Boolean, $deprecated: Boolean) {
  technique(id: $id) {
    id name isSubtechnique parent { id } tactics { shortname }
    coverage(includeSubtechniques: $subs, includeDeprecated: $deprecated) {
      ruleCount eventCount events { id ruleCount } eventUsage { event { id } ruleCount }
      byVendor { vendor ruleCount rules { uid title sourceUrl } }
    }
    authoringGuide(includeSubtechniques: $subs) {
      ruleCount distinctFieldCount distinctIndicatorCount distinctExclusionCount
      fields { field { name } ruleCount operators { operator count } sampleValues }
      indicators { field { name } operator value ruleCount corpusReach negated }
      exclusions { field { name } operator value ruleCount corpusReach negated }
    }
  }
}
"""


@pytest.fixture
def small(clean_graph: Any, api_url: str) -> str:
    write_small_graph(clean_graph)
    return api_url


def _page(url: str, technique: str, **variables: Any) -> dict[str, Any]:
    result: dict[str, Any] = data(url, PAGE, {"id": technique, **variables})["technique"]
    return result


def test_technique_page_counts_distinct_current_rules(small: str) -> None:
    page = _page(small, "T1546.003")
    assert page["parent"] == {"id": "T1546"}
    assert [t["shortname"] for t in page["tactics"]] == ["persistence", "privilege-escalation"]
    coverage = page["coverage"]
    assert coverage["ruleCount"] == 4
    by_vendor = {v["vendor"]: [r["uid"] for r in v["rules"]] for v in coverage["byVendor"]}
    assert by_vendor == {
        "SIGMA": ["sigma:a", "sigma:b"],
        "ELASTIC": ["elastic:e"],
        "SPLUNK": ["splunk:k"],
    }
    assert [v["ruleCount"] for v in coverage["byVendor"]] == [2, 1, 1]
    # sysmon:1 is needed by b, e and k; the others by one rule each.
    usage = [(u["event"]["id"], u["ruleCount"]) for u in coverage["eventUsage"]]
    assert usage == [
        ("sysmon:1", 3),
        ("sysmon:19", 1),
        ("sysmon:20", 1),
        ("windows-security:4688", 1),
    ]
    assert coverage["eventCount"] == 4
    # Event.ruleCount is catalog-wide: sysmon:1 is also observed by sigma:s.
    assert {e["id"]: e["ruleCount"] for e in coverage["events"]}["sysmon:1"] == 4


def test_deprecated_rules_count_only_when_asked(small: str) -> None:
    coverage = _page(small, "T1546.003", deprecated=True)["coverage"]
    assert coverage["ruleCount"] == 5
    assert "sysmon:21" in [e["id"] for e in coverage["events"]]
    sigma = coverage["byVendor"][0]
    assert [r["uid"] for r in sigma["rules"]] == ["sigma:a", "sigma:b", "sigma:old"]


def test_subtechniques_roll_up_only_when_asked(small: str) -> None:
    assert _page(small, "T1546")["coverage"]["ruleCount"] == 0
    rolled = _page(small, "T1546", subs=True)
    # a, b, e, k under .003 and s under .008
    assert rolled["coverage"]["ruleCount"] == 5
    assert rolled["authoringGuide"]["ruleCount"] == 5
    values = {i["value"] for i in rolled["authoringGuide"]["indicators"]}
    assert {"wmic.exe", "sethc.exe"} <= values


def test_authoring_guide_ranks_fields_indicators_and_exclusions(small: str) -> None:
    guide = _page(small, "T1546.003")["authoringGuide"]
    assert guide["ruleCount"] == 4
    fields = {
        f["field"]["name"]: (f["ruleCount"], f["operators"], f["sampleValues"])
        for f in guide["fields"]
    }
    assert fields["process.name"] == (4, [{"operator": "eq", "count": 4}], ["wmic.exe"])
    assert fields["process.command_line"][0] == 2
    assert fields["*"] == (1, [{"operator": "match", "count": 1}], ["activescripteventconsumer"])
    # Fields only checked under negation have no sample values (those are exclusions).
    assert fields["user.id"] == (1, [{"operator": "eq", "count": 1}], [])
    assert guide["distinctFieldCount"] == 6
    assert [f["field"]["name"] for f in guide["fields"]][:2] == [
        "process.name",
        "process.command_line",
    ]
    top = guide["indicators"][0]
    # b checks wmic.exe twice (two vendor fields) and still counts once; the deprecated rule
    # and the T1047-only rule w are not under the technique, but w is in the corpus reach.
    assert (top["field"]["name"], top["operator"], top["value"]) == (
        "process.name",
        "eq",
        "wmic.exe",
    )
    assert (top["ruleCount"], top["corpusReach"], top["negated"]) == (4, 5, False)
    assert guide["distinctIndicatorCount"] == 4
    assert [(i["value"], i["ruleCount"]) for i in guide["indicators"]][1] == ("*create*", 2)
    exclusions = {(e["field"]["name"], e["value"]): e for e in guide["exclusions"]}
    assert set(exclusions) == {("user.id", "s-1-5-18"), ("process.parent.name", "svchost.exe")}
    assert all(e["negated"] and e["ruleCount"] == 1 for e in exclusions.values())
    assert exclusions[("user.id", "s-1-5-18")]["corpusReach"] == 1
    assert guide["distinctExclusionCount"] == 2


def test_authoring_guide_for_some_vendors(small: str) -> None:
    query = """{ technique(id: "T1546.003") {
        authoringGuide(vendors: [ELASTIC, SPLUNK]) { ruleCount distinctIndicatorCount
          indicators(first: 1) { value ruleCount corpusReach } } } }"""
    guide = data(small, query)["technique"]["authoringGuide"]
    assert guide["ruleCount"] == 2
    assert guide["indicators"] == [{"value": "wmic.exe", "ruleCount": 2, "corpusReach": 5}]


def test_unknown_technique_is_null_but_an_error_where_ids_are_compared(small: str) -> None:
    assert data(small, '{ technique(id: "T0000") { id } }') == {"technique": None}
    for query in (
        '{ similarTechniques(id: "T0000") { jaccard } }',
        '{ indicatorOverlap(techniqueIds: ["T1546.003", "T0000"]) { value } }',
    ):
        status, body = gql(small, query)
        assert status == 200
        assert body["errors"][0]["extensions"]["code"] == "UNKNOWN_TECHNIQUE"
        assert "T0000" in body["errors"][0]["message"]


def test_similar_techniques_by_jaccard_of_positive_indicators(small: str) -> None:
    query = """{ similarTechniques(id: "t1546.003") {
        technique { id } jaccard sharedIndicators indicatorCount } }"""
    similar = data(small, query)["similarTechniques"]
    # T1546.003: {wmic.exe, *create*, *subscription*, keyword}; T1047: {wmic.exe, *subscription*}
    assert similar == [
        {
            "technique": {"id": "T1047"},
            "jaccard": pytest.approx(2 / 4),
            "sharedIndicators": 2,
            "indicatorCount": 2,
        }
    ]


def test_attack_detection_strategies_beside_the_rules(small: str) -> None:
    query = """{ technique(id: "T1546.003") {
        detectionStrategies { id name analytics { id platforms logSources
          dataComponents { id name } events { id } } }
        attackEvents { event { id ruleCount } analytics ruleCount } }
      parent: technique(id: "T1546") { attackEvents(includeSubtechniques: true) {
        event { id } ruleCount } }
      none: technique(id: "T1047") { detectionStrategies { id } attackEvents { ruleCount } } }"""
    result = data(small, query)
    (strategy,) = result["technique"]["detectionStrategies"]
    assert (strategy["id"], strategy["name"]) == ("DET0086", "Detect WMI Event Subscription")
    # The revoked analytic AN0001 is left out.
    assert strategy["analytics"] == [
        {
            "id": "AN0236",
            "platforms": ["Windows"],
            "logSources": ["WinEventLog:Sysmon EventCode=1", "WinEventLog:WMI EventCode=5861"],
            "dataComponents": [{"id": "DC0032", "name": "Process Creation"}],
            "events": [{"id": "sysmon:1"}, {"id": "wmi-activity:5861"}],
        }
    ]
    # Rules b, e and k of T1546.003 observe sysmon:1; none observes wmi-activity:5861, an
    # event of the catalog only because ATT&CK names it.
    assert result["technique"]["attackEvents"] == [
        {"event": {"id": "sysmon:1", "ruleCount": 4}, "analytics": ["AN0236"], "ruleCount": 3},
        {"event": {"id": "wmi-activity:5861", "ruleCount": 0}, "analytics": ["AN0236"],
         "ruleCount": 0},
    ]  # fmt: skip
    # Rolled up, T1546 counts its sub-techniques' rules too: b, e, k and s (T1546.008).
    assert result["parent"]["attackEvents"] == [
        {"event": {"id": "sysmon:1"}, "ruleCount": 4},
        {"event": {"id": "wmi-activity:5861"}, "ruleCount": 0},
    ]
    assert result["none"] == {"detectionStrategies": [], "attackEvents": []}
    # From the event's side: the techniques ATT&CK reads it for, with their rules on it.
    events = data(
        small,
        """{ wmi: event(id: "wmi-activity:5861") { ruleCount attackTechniques {
               technique { id } analytics ruleCount } }
             sysmon: event(id: "sysmon:1") { attackTechniques { technique { id } ruleCount } }
             unread: event(id: "sysmon:19") { attackTechniques { ruleCount } } }""",
    )
    assert events["wmi"] == {
        "ruleCount": 0,
        "attackTechniques": [
            {"technique": {"id": "T1546.003"}, "analytics": ["AN0236"], "ruleCount": 0}
        ],
    }
    assert events["sysmon"]["attackTechniques"] == [
        {"technique": {"id": "T1546.003"}, "ruleCount": 3}
    ]
    # Only the revoked analytic AN0001 named sysmon:19.
    assert events["unread"]["attackTechniques"] == []


def test_similar_techniques_with_sub_techniques_rolled_up(small: str) -> None:
    query = """query($id: String!, $subs: Boolean) {
        similarTechniques(id: $id, includeSubtechniques: $subs) {
          technique { id } jaccard sharedIndicators indicatorCount } }"""
    # T1546 has no rule of its own; rolled up it holds T1546.003's four indicators and
    # T1546.008's one, of which T1047 shares wmic.exe and *subscription*.
    assert data(small, query, {"id": "T1546", "subs": False})["similarTechniques"] == []
    rolled = data(small, query, {"id": "T1546", "subs": True})["similarTechniques"]
    assert rolled == [
        {
            "technique": {"id": "T1047"},
            "jaccard": pytest.approx(2 / 5),
            "sharedIndicators": 2,
            "indicatorCount": 2,
        }
    ]
    # A sub-technique's own family (here its parent, a superset of it) is not offered.
    sub = data(small, query, {"id": "T1546.003", "subs": True})["similarTechniques"]
    assert [s["technique"]["id"] for s in sub] == ["T1047"]


def test_indicator_overlap_lists_every_technique_asked(small: str) -> None:
    query = """{ indicatorOverlap(techniqueIds: ["T1546.003", "T1047", "T1059.001"]) {
        field { name } operator value corpusReach
        ruleCountByTechnique { technique { id } ruleCount } } }"""
    shared = data(small, query)["indicatorOverlap"]
    assert [s["value"] for s in shared] == ["wmic.exe", "*subscription*"]
    assert shared[0]["corpusReach"] == 5
    counts = [(c["technique"]["id"], c["ruleCount"]) for c in shared[0]["ruleCountByTechnique"]]
    assert counts == [("T1546.003", 4), ("T1047", 2), ("T1059.001", 0)]
    _, body = gql(small, '{ indicatorOverlap(techniqueIds: ["T1047"]) { value } }')
    assert body["errors"][0]["extensions"]["code"] == "BAD_ARGUMENT"


def test_detectable_with_the_events_collected(small: str) -> None:
    def ids(events: list[str]) -> list[str]:
        query = "query($e: [String!]!) { detectableWith(eventIds: $e) { id } }"
        return [t["id"] for t in data(small, query, {"e": events})["detectableWith"]]

    assert ids(["sysmon:19"]) == ["T1546.003"]
    # e needs sysmon:1 or windows-security:4688: either one is enough.
    assert ids(["windows-security:4688"]) == ["T1047", "T1546.003"]
    assert ids(["sysmon:21"]) == []  # only a deprecated rule observes it
    assert ids(["no-such-event"]) == []


def test_detectable_with_leaves_out_revoked_techniques(clean_graph: Any, api_url: str) -> None:
    write_small_graph(clean_graph)
    # sigma:w (current, observes windows-security:4688) also tagged with the revoked T1999.
    clean_graph.execute_query(  # type: ignore[attr-defined]
        "MATCH (r:Rule {uid: 'sigma:w'}), (t:Technique {id: 'T1999'}) MERGE (r)-[:DETECTS]->(t)"
    )
    query = "query($e: [String!]!) { detectableWith(eventIds: $e) { id revoked } }"
    found = data(api_url, query, {"e": ["windows-security:4688"]})["detectableWith"]
    assert found == [{"id": "T1047", "revoked": False}, {"id": "T1546.003", "revoked": False}]
    # The tag is there: the rule lists it, so only detectableWith's filter leaves it out.
    rule = data(api_url, '{ rule(uid: "sigma:w") { techniques { id } } }')["rule"]
    assert {t["id"] for t in rule["techniques"]} == {"T1047", "T1999"}


def test_coverage_matrix_per_platform_and_vendor(small: str) -> None:
    query = """query($p: String, $v: [Vendor!]) { coverageMatrix(platform: $p, vendors: $v) {
        tactic { shortname } techniqueCount coveredCount
        techniques { technique { id } ruleCount byVendor { vendor ruleCount } } } }"""
    matrix = data(small, query, {"p": "WINDOWS"})["coverageMatrix"]
    assert [c["tactic"]["shortname"] for c in matrix] == [
        "execution",
        "persistence",
        "privilege-escalation",
    ]
    execution = {t["technique"]["id"]: t["ruleCount"] for t in matrix[0]["techniques"]}
    # Windows only: the Linux fillers and the revoked T1999 are left out.
    assert execution == {"T1047": 2, "T1059": 0, "T1059.001": 1}
    assert (matrix[0]["techniqueCount"], matrix[0]["coveredCount"]) == (3, 2)
    persistence = {t["technique"]["id"]: t for t in matrix[1]["techniques"]}
    assert persistence["T1546.003"]["ruleCount"] == 4
    assert persistence["T1546.003"]["byVendor"] == [
        {"vendor": "SIGMA", "ruleCount": 2},
        {"vendor": "ELASTIC", "ruleCount": 1},
        {"vendor": "SPLUNK", "ruleCount": 1},
    ]
    sigma_only = data(small, query, {"p": "windows", "v": ["SIGMA"]})["coverageMatrix"]
    counts = {t["technique"]["id"]: t["ruleCount"] for t in sigma_only[1]["techniques"]}
    assert counts["T1546.003"] == 2


def test_navigator_layer_is_a_4_5_layer(small: str) -> None:
    layer = data(small, '{ navigatorLayer(platform: "windows") }')["navigatorLayer"]
    assert layer_problems(layer) == []
    assert layer["versions"] == {"attack": "18", "navigator": "5.2.0", "layer": "4.5"}
    assert layer["domain"] == "enterprise-attack"
    assert layer["filters"] == {"platforms": ["Windows"]}
    # Sub-techniques with a score are shown, not collapsed under their parent.
    assert layer["layout"]["expandedSubtechniques"] == "annotated"
    entries = {t["techniqueID"]: t for t in layer["techniques"]}
    assert set(entries) == {"T1546.003", "T1546.008", "T1047", "T1059.001"}
    wmi = entries["T1546.003"]
    assert wmi["score"] == 4
    assert wmi["comment"] == "elastic: 1, sigma: 2, splunk: 1"
    # Splunk's source has no repository, so its rules have no link.
    assert [link["url"] for link in wmi["links"]] == [
        "https://github.com/elastic/detection-rules/blob/def456/rules/windows/e.toml",
        "https://github.com/SigmaHQ/sigma/blob/abc123/rules/windows/a.yml",
        "https://github.com/SigmaHQ/sigma/blob/abc123/rules/windows/b.yml",
    ]
    assert layer["gradient"] == {"colors": ["#ffe766", "#8ec843"], "minValue": 1, "maxValue": 4}
    # A top score of 1 still gives maxValue > minValue, as the format requires.
    splunk_linux = data(small, '{ navigatorLayer(platform: "linux", vendors: [SPLUNK]) }')
    assert layer_problems(splunk_linux["navigatorLayer"]) == []
    assert splunk_linux["navigatorLayer"]["gradient"]["maxValue"] == 2
    # Splunk's gaps: the techniques Sigma or Elastic cover and no Splunk rule does, scored by
    # their rules; the comment leaves Splunk out (it has none there).
    gaps = data(small, "{ navigatorLayer(gapsOf: SPLUNK) }")["navigatorLayer"]
    assert layer_problems(gaps) == []
    assert gaps["name"] == "covgraph gaps of Splunk"
    assert gaps["description"].startswith("Techniques with no current Splunk rule")
    scored = {t["techniqueID"]: (t["score"], t["comment"]) for t in gaps["techniques"]}
    assert scored == {"T1047": (2, "elastic: 1, sigma: 1"), "T1546.008": (1, "sigma: 1")}
    # Within vendors: [SIGMA], the same techniques, scored by Sigma's rules only.
    sigma_only = data(small, "{ navigatorLayer(vendors: [SIGMA], gapsOf: SPLUNK) }")
    assert {t["techniqueID"]: t["score"] for t in sigma_only["navigatorLayer"]["techniques"]} == {
        "T1047": 1,
        "T1546.008": 1,
    }


def test_the_layer_checker_finds_deviations() -> None:
    layer = {
        "name": "x",
        "domain": "enterprise-attack",
        "versions": {"navigator": "4.8.0", "layer": "4.5"},
        "layout": {"expandedSubtechniques": "some"},
        "gradient": {"colors": ["#ffe766ff", "#8ec843"], "minValue": 1, "maxValue": 1},
        "techniques": [{"techniqueID": "T1546.3", "score": "4", "links": [{"label": "a"}]}],
        "extra": True,
    }
    problems = "\n".join(layer_problems(layer))
    for expected in (
        "'extra' is not a property",
        "navigator must be at least 4.9.0",
        "'expandedSubtechniques' has a value",
        "'colors' has a value",
        "maxValue must be greater than minValue",
        "'techniqueID' has a value",
        "'score' has a value",
        "required 'url' missing",
    ):
        assert expected in problems


def test_rules_filters_and_cursor_pages(small: str) -> None:
    query = """query($t: String, $f: String, $v: String, $d: Boolean, $first: Int, $after: String,
                     $vendor: Vendor, $s: String, $e: String) {
      rules(techniqueId: $t, field: $f, value: $v, includeDeprecated: $d, first: $first,
            after: $after, vendor: $vendor, search: $s, eventId: $e) {
        totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
        edges { cursor node { uid } } } }"""

    def uids(**variables: Any) -> list[str]:
        rules = data(small, query, variables)["rules"]
        return [e["node"]["uid"] for e in rules["edges"]]

    assert uids(t="T1546.003") == ["elastic:e", "sigma:a", "sigma:b", "splunk:k"]
    assert uids(t="T1546.003", d=True) == [
        "elastic:e",
        "sigma:a",
        "sigma:b",
        "sigma:old",
        "splunk:k",
    ]
    assert uids(f="process.name", v="WMIC.EXE") == [
        "elastic:e",
        "sigma:a",
        "sigma:b",
        "sigma:w",
        "splunk:k",
    ]
    assert uids(v="s-1-5-18") == ["sigma:a"]
    assert uids(t="T1546.003", vendor="SIGMA") == ["sigma:a", "sigma:b"]
    assert uids(s="RULE A") == ["sigma:a"]
    assert uids(e="powershell:4104") == ["splunk:p"]
    first = data(small, query, {"first": 2, "vendor": "SIGMA"})["rules"]
    assert first["totalCount"] == 4
    assert first["pageInfo"]["hasNextPage"] is True
    rest = data(small, query, {"after": first["pageInfo"]["endCursor"], "vendor": "SIGMA"})
    assert [e["node"]["uid"] for e in rest["rules"]["edges"]] == ["sigma:s", "sigma:w"]
    assert rest["rules"]["pageInfo"]["hasPreviousPage"] is True
    assert rest["rules"]["pageInfo"]["hasNextPage"] is False


def test_bad_cursor_and_first_out_of_range(small: str) -> None:
    for cursor in ("not-a-cursor", "b2Zmc2V0OjEyMzQ1Njc4OTAxMjM0NTY3ODk="):
        status, body = gql(
            small, "query($a: String) { rules(after: $a) { totalCount } }", {"a": cursor}
        )
        assert status == 200
        assert body["errors"][0]["extensions"]["code"] == "BAD_CURSOR"
    status, body = gql(small, "{ techniques(first: -1) { totalCount } }")
    assert body["errors"][0]["extensions"]["code"] == "BAD_ARGUMENT"
    page = data(small, "{ techniques(first: 100000) { totalCount edges { cursor } } }")
    assert page["techniques"]["totalCount"] == 7 - 1 + len(FILLER)  # the revoked one left out
    assert len(page["techniques"]["edges"]) == page["techniques"]["totalCount"]


def test_techniques_filters(small: str) -> None:
    query = """query($tactic: String, $platform: String, $vendor: Vendor, $covered: Boolean,
                     $search: String, $all: Boolean, $uncoveredBy: [Vendor!]) {
      techniques(tactic: $tactic, platform: $platform, vendor: $vendor, covered: $covered,
                 search: $search, first: 200, includeDeprecated: $all,
                 uncoveredBy: $uncoveredBy) {
        totalCount nodes { id } } }"""

    def ids(**variables: Any) -> list[str]:
        return [t["id"] for t in data(small, query, variables)["techniques"]["nodes"]]

    assert ids(tactic="persistence") == ["T1546", "T1546.003", "T1546.008"]
    assert ids(tactic="TA0003", covered=True) == ["T1546.003", "T1546.008"]
    assert ids(tactic="Persistence", covered=False) == ["T1546"]
    assert ids(vendor="ELASTIC") == ["T1047", "T1546.003"]
    assert ids(vendor="ELASTIC", covered=False, platform="windows", tactic="execution") == [
        "T1059",
        "T1059.001",
    ]
    # Gaps: what Sigma covers and Elastic does not; what anyone covers and neither Elastic nor
    # Splunk does; uncoveredBy alone is every technique those vendors miss, covered or not.
    assert ids(vendor="SIGMA", uncoveredBy=["ELASTIC"]) == ["T1546.008"]
    assert ids(covered=True, uncoveredBy=["ELASTIC", "SPLUNK"]) == ["T1546.008"]
    assert ids(covered=True, uncoveredBy=["SIGMA"]) == ["T1059.001", *FILLER]
    assert ids(tactic="persistence", uncoveredBy=["ELASTIC"]) == ["T1546", "T1546.008"]
    assert ids(vendor="SIGMA", uncoveredBy=["SIGMA"]) == []
    assert len(ids(uncoveredBy=[])) == len(ids())
    assert ids(search="management") == ["T1047", "T1546.003"]
    assert ids(search="t1059") == ["T1059", "T1059.001"]
    assert ids(search="old") == []
    assert ids(search="old", all=True) == ["T1999"]


def test_rule_event_field_and_catalog(small: str) -> None:
    query = """{
      rule(uid: "sigma:a") { uid vendor nativeId title severity status deprecated sourcePath
        sourceUrl vendorProperties techniques { id } events { id }
        predicates { field { name } vendorField operator value rawValue negated } }
      event(id: "sysmon:1") { id name provider eventId ruleCount techniques { id } }
      field(name: "process.name") { name ruleCount aliases { vendor name } }
      missing: field(name: "no.such.field") { name }
      events(search: "sysmon") { id ruleCount }
      catalog { ruleCount deprecatedRuleCount techniqueCount coveredTechniqueCount eventCount
        attackVersion sources { name vendor repository commit url ruleCount } }
    }"""
    result = data(small, query)
    rule = result["rule"]
    assert rule["vendor"] == "SIGMA"
    assert rule["sourceUrl"] == "https://github.com/SigmaHQ/sigma/blob/abc123/rules/windows/a.yml"
    assert rule["vendorProperties"]["logsource_product"] == "windows"
    assert rule["techniques"] == [{"id": "T1546.003"}]
    assert [e["id"] for e in rule["events"]] == ["sysmon:19", "sysmon:20"]
    predicates = rule["predicates"]
    assert predicates[-1] == {
        "field": {"name": "user.id"},
        "vendorField": "User",
        "operator": "eq",
        "value": "s-1-5-18",
        "rawValue": "S-1-5-18",
        "negated": True,
    }
    keyword = next(p for p in predicates if p["operator"] == "match")
    # The pseudo-field `*`, as the authoring guide names it.
    assert keyword["field"] == {"name": "*"}
    guide = data(small, '{ technique(id: "T1546.003") { authoringGuide { indicators(first: 50) '
                 "{ field { name } operator value } } } }")  # fmt: skip
    indicators = guide["technique"]["authoringGuide"]["indicators"]
    assert {"field": {"name": "*"}, "operator": "match", "value": keyword["value"]} in indicators
    event = result["event"]
    assert (event["provider"], event["eventId"], event["ruleCount"]) == (
        "Microsoft-Windows-Sysmon",
        "1",
        4,
    )
    assert [t["id"] for t in event["techniques"]] == ["T1546.003", "T1047", "T1546.008"]
    field = result["field"]
    # a, b, e, k, w, s, p and the 55 fillers; the deprecated rule is left out.
    assert field["ruleCount"] == 7 + len(FILLER)
    assert {"vendor": "SIGMA", "name": "Image"} in field["aliases"]
    assert {"vendor": "SPLUNK", "name": "OriginalFileName"} in field["aliases"]
    assert result["missing"] is None
    assert result["events"][0] == {"id": "sysmon:1", "ruleCount": 4}
    catalog = result["catalog"]
    assert (catalog["ruleCount"], catalog["deprecatedRuleCount"]) == (7 + len(FILLER), 1)
    assert catalog["coveredTechniqueCount"] == 4 + len(FILLER)
    assert catalog["attackVersion"] == "18"
    sources = {s["name"]: s for s in catalog["sources"]}
    assert list(sources) == ["attack", "sigma", "elastic", "splunk"]
    assert sources["sigma"]["url"] == "https://github.com/SigmaHQ/sigma/tree/abc123"
    assert sources["sigma"]["vendor"] == "SIGMA"
    assert sources["attack"]["vendor"] is None
    assert sources["splunk"]["ruleCount"] == 2 + len(FILLER)


def test_a_page_of_50_techniques_is_a_handful_of_queries(small: str) -> None:
    query = """query($first: Int) { techniques(tactic: "execution", first: $first) {
        edges { node { id name tactics { id } parent { id }
          coverage { ruleCount eventCount events { id ruleCount }
            byVendor { vendor ruleCount rules { uid title sourceUrl techniques { id } } }
          } } } } }"""
    counts = {}
    for first in (5, 50):
        status, body = gql(small, query, {"first": first})
        assert status == 200
        assert "errors" not in body, body
        assert len(body["data"]["techniques"]["edges"]) == first
        covered = [
            e for e in body["data"]["techniques"]["edges"] if e["node"]["coverage"]["ruleCount"]
        ]
        assert covered
        counts[first] = body["extensions"]["covgraph"]["queries"]
    # page, techniques, tactics, coverage, events, rules: the same for 5 or 50 techniques.
    assert counts[50] == counts[5]
    assert counts[50] <= 7


def test_the_page_and_readiness(small: str) -> None:
    page = httpx.get(f"{small}/", timeout=30)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    health = httpx.get(f"{small}/healthz", timeout=30)
    assert health.status_code == 200
    assert health.json()["status"] == "ok"
    assert health.json()["sources"] == ["attack", "elastic", "sigma", "splunk"]
    assert health.json()["neo4j"]["version"].startswith("5.")


def test_readiness_of_an_empty_graph(clean_graph: Any, api_url: str) -> None:
    health = httpx.get(f"{api_url}/healthz", timeout=30)
    assert health.status_code == 503
    body = health.json()
    assert (body["status"], body["sources"]) == ("empty", [])
    assert "covgraph load" in body["message"]
    assert body["neo4j"]["version"].startswith("5.")  # Neo4j itself answers


@pytest.fixture
def extras(clean_graph: Any, api_url: str) -> str:
    write_small_graph(clean_graph, extras=True)
    return api_url


REACH = """query($id: String!) { technique(id: $id) { authoringGuide {
    indicators(first: 200) { field { name } operator value negated corpusReach }
    exclusions(first: 200) { field { name } operator value negated corpusReach } } } }"""

LINKED = """query($f: String, $o: String, $v: String, $n: Boolean, $d: Boolean) {
  rules(field: $f, operator: $o, value: $v, negated: $n, includeDeprecated: $d, first: 200) {
    totalCount nodes { uid } } }"""


def _linked(url: str, row: dict[str, Any], **more: Any) -> list[str]:
    """The uids of the rule list an indicator's corpus reach links to (as the web page does)."""
    variables = {
        "f": row["field"]["name"],
        "o": row["operator"],
        "v": row["value"],
        "n": row["negated"],
        **more,
    }
    rules = data(url, LINKED, variables)["rules"]
    assert rules["totalCount"] == len(rules["nodes"])
    return [n["uid"] for n in rules["nodes"]]


def test_the_rules_a_corpus_reach_links_to_are_exactly_the_reach(extras: str) -> None:
    checked = 0
    for technique in ("T1546.003", "T1047", "T1059.001"):
        guide = data(extras, REACH, {"id": technique})["technique"]["authoringGuide"]
        for row in guide["indicators"] + guide["exclusions"]:
            assert len(_linked(extras, row)) == row["corpusReach"], row
            checked += 1
    assert checked >= 10
    # e excludes svchost.exe, x looks for it: the exclusion's reach (1) lists e only, though
    # field + value alone find both.
    svchost = {"field": {"name": "process.parent.name"}, "operator": "eq", "value": "svchost.exe"}
    assert _linked(extras, {**svchost, "negated": True}) == ["elastic:e"]
    assert _linked(extras, {**svchost, "negated": False}) == ["sigma:x"]
    assert data(extras, '{ rules(field: "process.parent.name", value: "svchost.exe") '
                "{ totalCount } }")["rules"]["totalCount"] == 2  # fmt: skip
    # With an operator the value is exact: x's case-sensitive WMIC.exe is its own indicator.
    wmic = {"field": {"name": "process.name"}, "operator": "eq", "negated": False}
    assert _linked(extras, {**wmic, "value": "WMIC.exe"}) == ["sigma:x"]
    assert "sigma:x" not in _linked(extras, {**wmic, "value": "wmic.exe"})
    # The reach counts current rules; so does the list unless includeDeprecated is asked.
    current = _linked(extras, {**wmic, "value": "wmic.exe"})
    assert "sigma:old" not in current
    assert _linked(extras, {**wmic, "value": "wmic.exe"}, d=True) == sorted([*current, "sigma:old"])


def test_revoked_and_deprecated_techniques_are_left_out_alike(extras: str) -> None:
    query = """{
      parent: technique(id: "T1546") {
        subtechniques { id } all: subtechniques(includeDeprecated: true) { id }
        coverage(includeSubtechniques: true) { ruleCount }
        authoringGuide(includeSubtechniques: true) { ruleCount } }
      revoked: technique(id: "T1546.099") { revoked revokedBy { id name } coverage { ruleCount } }
      old: technique(id: "T1999") { revokedBy { id } }
      current: technique(id: "T1546.003") { revoked revokedBy { id } }
      event(id: "sysmon:1") { techniques { id } all: techniques(includeDeprecated: true) { id } }
      detectableWith(eventIds: ["sysmon:1"]) { id }
      retired: rules(onlyRetiredTechniques: true) { totalCount nodes { uid } }
      overlap: indicatorOverlap(techniqueIds: ["T1546", "T1047"], includeSubtechniques: true) {
        value ruleCountByTechnique { technique { id } ruleCount } }
    }"""
    result = data(extras, query)
    parent = result["parent"]
    assert [t["id"] for t in parent["subtechniques"]] == ["T1546.003", "T1546.008"]
    assert [t["id"] for t in parent["all"]] == ["T1546.003", "T1546.008", "T1546.098", "T1546.099"]
    # a, b, e, k and s: r and q, tagged only with the retired sub-techniques, are not rolled up.
    assert parent["coverage"]["ruleCount"] == 5
    assert parent["authoringGuide"]["ruleCount"] == 5
    assert result["revoked"] == {
        "revoked": True,
        "revokedBy": {"id": "T1546.003", "name": TECHNIQUE_NAMES["T1546.003"]},
        "coverage": {"ruleCount": 1},  # its own page still lists r
    }
    assert result["old"]["revokedBy"] == {"id": "T1047"}
    assert result["current"] == {"revoked": False, "revokedBy": None}
    # Event.techniques keeps to current techniques, as detectableWith does for the same event.
    event = result["event"]
    assert {t["id"] for t in event["techniques"]} == {t["id"] for t in result["detectableWith"]}
    assert "T1546.099" not in {t["id"] for t in event["techniques"]}
    assert "T1546.099" in {t["id"] for t in event["all"]}
    # Rules tagged only with retired techniques can be found.
    assert result["retired"] == {"totalCount": 2, "nodes": [{"uid": "sigma:q"}, {"uid": "sigma:r"}]}
    wmic = next(row for row in result["overlap"] if row["value"] == "wmic.exe")
    counts = {c["technique"]["id"]: c["ruleCount"] for c in wmic["ruleCountByTechnique"]}
    # a, b, e and k under T1546.003; e and w. Not r (T1546.099) nor q (T1546.098).
    assert counts == {"T1546": 4, "T1047": 2}


TECHNIQUE_NAMES = {"T1546.003": "Windows Management Instrumentation Event Subscription"}


def test_sample_values_are_distinct_literal_values(extras: str) -> None:
    query = """{ technique(id: "T1059.001") { authoringGuide {
        fields { field { name } sampleValues(first: 20) }
        indicators(first: 50) { field { name } operator value } } } }"""
    guide = data(extras, query)["technique"]["authoringGuide"]
    samples = {f["field"]["name"]: f["sampleValues"] for f in guide["fields"]}
    assert samples["problemchild.prediction_probability"] == ["0.98"]  # gt and lte: once
    # Only an exists check and a field reference: nothing the field is compared with.
    assert samples["process.executable"] == []
    assert sorted(samples["process.name"]) == ["WMIC.exe", "powershell.exe"]
    # They stay indicators, with their operators.
    triples = {(i["field"]["name"], i["operator"], i["value"]) for i in guide["indicators"]}
    assert ("process.executable", "exists", "true") in triples
    assert ("process.executable", "eq", "field:process.parent.executable") in triples


def _depth(levels: int) -> str:
    """A document `levels` fields deep, the root field counted: technique > parent... > id."""
    nested = "id"
    for _ in range(levels - 2):
        nested = f"parent {{ {nested} }}"
    return f'{{ technique(id: "T1546.003") {{ {nested} }} }}'


def test_the_depth_limit_is_the_documented_one(small: str) -> None:
    from api.schema import MAX_DEPTH

    documented = re.search(r"limited to depth (\d+)", (REPO / "docs" / "api.md").read_text())
    assert documented is not None
    assert int(documented.group(1)) == MAX_DEPTH
    at_limit = data(small, _depth(MAX_DEPTH))
    assert at_limit["technique"]["parent"] == {"parent": None}
    status, body = gql(small, _depth(MAX_DEPTH + 1))
    assert status == 200
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "depth" in body["errors"][0]["message"]
    assert "data" not in body or body["data"] is None


def test_unknown_platform_or_tactic_is_a_bad_argument_everywhere(small: str) -> None:
    for query, valid in (
        ('{ coverageMatrix(platform: "Windowz") { techniqueCount } }', "Windows"),
        ('{ techniques(platform: "Windowz") { totalCount } }', "Windows"),
        ('{ navigatorLayer(platform: "Windowz") }', "Windows"),
        ('{ techniques(tactic: "persistance") { totalCount } }', "persistence"),
    ):  # fmt: skip
        status, body = gql(small, query)
        assert status == 200
        error = body["errors"][0]
        assert error["extensions"]["code"] == "BAD_ARGUMENT", query
        assert valid in error["message"], error
        assert "one of" in error["message"], error
    # Known names, any case, still answer: ATT&CK's, Navigator's, and tactics by id or name.
    assert data(small, '{ techniques(platform: "MACOS") { totalCount } }')["techniques"] == {
        "totalCount": 1
    }
    esxi = data(small, '{ coverageMatrix(platform: "esxi") { techniqueCount } }')
    assert {c["techniqueCount"] for c in esxi["coverageMatrix"]} == {0}
    for tactic in ("TA0003", "Privilege Escalation", "PERSISTENCE"):
        result = data(small, f'{{ techniques(tactic: "{tactic}") {{ totalCount }} }}')
        assert result["techniques"]["totalCount"] == 3


def test_source_rule_counts_say_what_they_count(small: str) -> None:
    query = """{ catalog { ruleCount deprecatedRuleCount
        sources { name ruleCount currentRuleCount } } }"""
    catalog = data(small, query)["catalog"]
    sources = {s["name"]: (s["ruleCount"], s["currentRuleCount"]) for s in catalog["sources"]}
    # sigma's ruleCount includes the deprecated rule `old`; currentRuleCount does not.
    assert sources["sigma"] == (5, 4)
    assert sources["attack"][1] is None
    assert sum(n for _, n in sources.values() if n is not None) == catalog["ruleCount"]
    assert sum(n for n, _ in sources.values() if n is not None) == (
        catalog["ruleCount"] + catalog["deprecatedRuleCount"]
    )


ROLLED_UP = """query($p: String, $v: [Vendor!]) {
  coverageMatrix(platform: $p, vendors: $v, includeSubtechniques: true) {
    tactic { shortname } techniqueCount coveredCount
    techniques { technique { id isSubtechnique } ruleCount byVendor { vendor ruleCount } } } }"""


def test_coverage_matrix_folds_subtechniques_into_parents(clean_graph: Any, api_url: str) -> None:
    write_small_graph(clean_graph, extras=True)
    matrix = data(api_url, ROLLED_UP, {"p": "windows"})["coverageMatrix"]
    cells = {c["tactic"]["shortname"]: c for c in matrix}
    execution = {t["technique"]["id"]: t["ruleCount"] for t in cells["execution"]["techniques"]}
    # T1059 has no rule of its own: its sub-technique T1059.001's two (x, p) are its own now.
    assert execution == {"T1047": 2, "T1059": 2}
    assert (cells["execution"]["techniqueCount"], cells["execution"]["coveredCount"]) == (2, 2)
    persistence = {t["technique"]["id"]: t for t in cells["persistence"]["techniques"]}
    # T1546.003's four and T1546.008's one; the revoked and deprecated subs' rules are left out.
    assert set(persistence) == {"T1546"}
    assert persistence["T1546"]["ruleCount"] == 5
    assert persistence["T1546"]["byVendor"] == [
        {"vendor": "SIGMA", "ruleCount": 3},
        {"vendor": "ELASTIC", "ruleCount": 1},
        {"vendor": "SPLUNK", "ruleCount": 1},
    ]
    assert not any(t["technique"]["isSubtechnique"] for c in matrix for t in c["techniques"])
    # The same distinct rules as the parent's own rolled-up coverage.
    query = """query($id: String!) { technique(id: $id) {
        coverage(includeSubtechniques: true) { ruleCount } } }"""
    for parent in ("T1546", "T1059", "T1047"):
        page = data(api_url, query, {"id": parent})["technique"]
        rolled = {**execution, "T1546": 5}[parent]
        assert page["coverage"]["ruleCount"] == rolled
    sigma = data(api_url, ROLLED_UP, {"p": "windows", "v": ["SIGMA"]})["coverageMatrix"]
    counts = {t["technique"]["id"]: t["ruleCount"] for c in sigma for t in c["techniques"]}
    assert counts == {"T1047": 1, "T1059": 1, "T1546": 3}
