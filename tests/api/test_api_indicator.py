"""`indicator` and the per-vendor counts of the authoring guide, over HTTP on the small graph.

Figures from small_graph.py: process.name eq wmic.exe is checked by the current Sigma rules a,
b (T1546.003) and w (T1047), Elastic e (T1546.003 and T1047) and Splunk k (T1546.003); the
deprecated Sigma rule `old` checks it too and counts nowhere.
"""

from __future__ import annotations

from typing import Any

import pytest
from http_api import data, gql
from small_graph import write_small_graph

pytestmark = pytest.mark.neo4j

INDICATOR = """
query Indicator($field: String!, $operator: String!, $value: String!, $negated: Boolean,
                $selectors: Boolean!) {
  indicator(field: $field, operator: $operator, value: $value, negated: $negated) {
    field { name } operator value negated eventSelector
    corpusReach oppositeReach techniqueCount untaggedRuleCount eventCount
    checkedWithCount(includeEventSelectors: $selectors)
    byVendor { vendor ruleCount }
    techniques { ruleCount technique { id } }
    events { ruleCount event { id } }
    checkedWith(includeEventSelectors: $selectors) {
      field { name } operator value negated ruleCount corpusReach byVendor { vendor ruleCount }
    }
  }
}
"""


@pytest.fixture
def small(clean_graph: Any, api_url: str) -> str:
    write_small_graph(clean_graph)
    return api_url


@pytest.fixture
def extras(clean_graph: Any, api_url: str) -> str:
    write_small_graph(clean_graph, extras=True)
    return api_url


def _indicator(
    url: str,
    field: str,
    operator: str,
    value: str,
    *,
    negated: bool = False,
    selectors: bool = True,
) -> dict[str, Any] | None:
    variables = {
        "field": field,
        "operator": operator,
        "value": value,
        "negated": negated,
        "selectors": selectors,
    }
    found: dict[str, Any] | None = data(url, INDICATOR, variables)["indicator"]
    return found


def _vendors(row: dict[str, Any]) -> dict[str, int]:
    return {v["vendor"]: v["ruleCount"] for v in row["byVendor"]}


def _keys(rows: list[dict[str, Any]]) -> list[tuple[str, str, str, int]]:
    return [(r["field"]["name"], r["operator"], r["value"], r["ruleCount"]) for r in rows]


def test_an_indicator_across_vendors_techniques_and_events(small: str) -> None:
    # Typed in another case: case-insensitive checks are stored lower-cased.
    wmic = _indicator(small, " process.name ", "EQ", "WMIC.EXE")
    assert wmic is not None
    assert (wmic["field"]["name"], wmic["operator"], wmic["value"]) == (
        "process.name",
        "eq",
        "wmic.exe",
    )
    assert (wmic["negated"], wmic["eventSelector"]) == (False, False)
    assert (wmic["corpusReach"], wmic["oppositeReach"]) == (5, 0)
    assert _vendors(wmic) == {"SIGMA": 3, "ELASTIC": 1, "SPLUNK": 1}
    assert [(t["technique"]["id"], t["ruleCount"]) for t in wmic["techniques"]] == [
        ("T1546.003", 4),
        ("T1047", 2),
    ]
    assert (wmic["techniqueCount"], wmic["untaggedRuleCount"]) == (2, 0)
    assert [(e["event"]["id"], e["ruleCount"]) for e in wmic["events"]] == [
        ("sysmon:1", 3),
        ("windows-security:4688", 2),
        ("sysmon:19", 1),
        ("sysmon:20", 1),
    ]
    # a and k also look for *create*; a a keyword, e an argument. Exclusions (a's user.id, e's
    # svchost.exe) and wmic.exe itself are not companions.
    assert _keys(wmic["checkedWith"]) == [
        ("process.command_line", "wildcard", "*create*", 2),
        ("*", "match", "activescripteventconsumer", 1),
        ("process.args", "wildcard", "*subscription*", 1),
    ]
    assert (wmic["eventCount"], wmic["checkedWithCount"]) == (4, 3)
    create = wmic["checkedWith"][0]
    assert _vendors(create) == {"SIGMA": 1, "ELASTIC": 0, "SPLUNK": 1}
    assert (create["corpusReach"], create["negated"]) == (2, False)
    # The reach is the rule list the reach links to.
    listed = data(
        small,
        '{ rules(field: "process.name", operator: "eq", value: "wmic.exe", negated: false) '
        "{ totalCount } }",
    )
    assert listed["rules"]["totalCount"] == wmic["corpusReach"]


def test_an_exclusion_and_the_other_polarity(small: str) -> None:
    system = _indicator(small, "user.id", "eq", "S-1-5-18", negated=True)
    assert system is not None
    assert (system["value"], system["negated"], system["corpusReach"]) == ("s-1-5-18", True, 1)
    assert _vendors(system) == {"SIGMA": 1, "ELASTIC": 0, "SPLUNK": 0}
    # What rule a, which excludes SYSTEM, looks for.
    assert [k[:3] for k in _keys(system["checkedWith"])] == [
        ("*", "match", "activescripteventconsumer"),
        ("process.command_line", "wildcard", "*create*"),
        ("process.name", "eq", "wmic.exe"),
    ]
    # Nobody looks for svchost.exe as parent in the base graph; Elastic e excludes it.
    svchost = _indicator(small, "process.parent.name", "eq", "svchost.exe")
    assert svchost is not None
    assert (svchost["corpusReach"], svchost["oppositeReach"]) == (0, 1)
    assert svchost["techniques"] == svchost["events"] == svchost["checkedWith"] == []
    assert _vendors(svchost) == {"SIGMA": 0, "ELASTIC": 0, "SPLUNK": 0}


def test_unknown_indicators_are_null_and_bad_operators_an_error(small: str) -> None:
    assert _indicator(small, "process.name", "eq", "nothing.exe") is None
    assert _indicator(small, "process.name", "wildcard", "wmic.exe") is None
    status, body = gql(
        small, '{ indicator(field: "process.name", operator: "contains", value: "x") { value } }'
    )
    assert status == 200
    assert body["errors"][0]["extensions"]["code"] == "BAD_ARGUMENT"
    assert "unknown operator 'contains'" in body["errors"][0]["message"]


def test_companions_without_event_selectors_and_untagged_rules(extras: str) -> None:
    # x looks for svchost.exe as parent, next to an event.code selector and other checks.
    svchost = _indicator(extras, "process.parent.name", "eq", "svchost.exe")
    assert svchost is not None
    assert (svchost["corpusReach"], svchost["oppositeReach"]) == (1, 1)
    every = [k[:3] for k in _keys(svchost["checkedWith"])]
    assert ("event.code", "eq", "1") in every
    without = _indicator(extras, "process.parent.name", "eq", "svchost.exe", selectors=False)
    assert without is not None
    assert [k[:3] for k in _keys(without["checkedWith"])] == [
        k for k in every if k != ("event.code", "eq", "1")
    ]
    assert svchost["checkedWithCount"] == len(every) == without["checkedWithCount"] + 1
    # Sigma r's only tag is a revoked sub-technique: it counts in the reach, under no technique.
    wmic = _indicator(extras, "process.name", "eq", "wmic.exe")
    assert wmic is not None
    assert (wmic["corpusReach"], wmic["untaggedRuleCount"]) == (7, 2)
    assert {t["technique"]["id"] for t in wmic["techniques"]} == {"T1546.003", "T1047"}


def test_the_guide_counts_rules_per_vendor(small: str) -> None:
    query = """{ technique(id: "T1546.003") { authoringGuide {
        fields { field { name } ruleCount byVendor { vendor ruleCount } }
        indicators { value ruleCount byVendor { vendor ruleCount } }
        exclusions { value ruleCount byVendor { vendor ruleCount } } } } }"""
    guide = data(small, query)["technique"]["authoringGuide"]
    fields = {f["field"]["name"]: f for f in guide["fields"]}
    assert _vendors(fields["process.name"]) == {"SIGMA": 2, "ELASTIC": 1, "SPLUNK": 1}
    assert _vendors(fields["user.id"]) == {"SIGMA": 1, "ELASTIC": 0, "SPLUNK": 0}
    for row in guide["fields"] + guide["indicators"] + guide["exclusions"]:
        assert [v["vendor"] for v in row["byVendor"]] == ["SIGMA", "ELASTIC", "SPLUNK"]
        assert sum(_vendors(row).values()) == row["ruleCount"], row
    indicators = {i["value"]: i for i in guide["indicators"]}
    assert _vendors(indicators["wmic.exe"]) == {"SIGMA": 2, "ELASTIC": 1, "SPLUNK": 1}
    assert _vendors(indicators["*create*"]) == {"SIGMA": 1, "ELASTIC": 0, "SPLUNK": 1}
    exclusions = {i["value"]: i for i in guide["exclusions"]}
    assert _vendors(exclusions["svchost.exe"]) == {"SIGMA": 0, "ELASTIC": 1, "SPLUNK": 0}


FIELD = """
query Field($name: String!) {
  field(name: $name) {
    name ruleCount byVendor { vendor ruleCount } operators { operator count }
    indicatorCount excludedCount: indicatorCount(negated: true)
    wildcardCount: indicatorCount(operator: "WILDCARD")
    indicators(first: 3) {
      operator value negated ruleCount corpusReach byVendor { vendor ruleCount } }
    exclusions: indicators(negated: true) { operator value negated ruleCount corpusReach }
  }
}
"""


def test_a_field_across_the_catalog(small: str) -> None:
    name = data(small, FIELD, {"name": "process.name"})["field"]
    # Sigma a, b, w (wmic.exe from Image) and s (sethc.exe); Elastic e; Splunk k, p and the
    # 55 filler rules, each with its own tool name.
    assert name["ruleCount"] == 4 + 1 + 57
    assert _vendors(name) == {"SIGMA": 4, "ELASTIC": 1, "SPLUNK": 57}
    assert name["operators"] == [{"operator": "eq", "count": 62}]
    assert (name["indicatorCount"], name["excludedCount"], name["wildcardCount"]) == (58, 0, 0)
    top = name["indicators"][0]
    assert (top["operator"], top["value"], top["negated"]) == ("eq", "wmic.exe", False)
    assert top["ruleCount"] == top["corpusReach"] == 5
    assert _vendors(top) == {"SIGMA": 3, "ELASTIC": 1, "SPLUNK": 1}
    # Then one rule each, by value: powershell.exe (p) before sethc.exe (s) and the tools.
    assert [(i["value"], i["ruleCount"]) for i in name["indicators"][1:]] == [
        ("powershell.exe", 1),
        ("sethc.exe", 1),
    ]
    assert name["exclusions"] == []

    parent = data(small, FIELD, {"name": "process.parent.name"})["field"]
    assert (parent["indicatorCount"], parent["excludedCount"]) == (0, 1)
    assert parent["indicators"] == []
    assert parent["exclusions"] == [
        {
            "operator": "eq",
            "value": "svchost.exe",
            "negated": True,
            "ruleCount": 1,
            "corpusReach": 1,
        }
    ]
    assert data(small, FIELD, {"name": "no.such.field"})["field"] is None
    status, body = gql(
        small, '{ field(name: "process.name") { indicators(operator: "contains") { value } } }'
    )
    assert status == 200
    assert body["errors"][0]["extensions"]["code"] == "BAD_ARGUMENT"


SEARCH = """
query($search: String!, $field: String, $negated: Boolean!) {
  indicators(search: $search, field: $field, negated: $negated) {
    totalCount ruleCount
    nodes {
      field { name } operator value negated ruleCount corpusReach byVendor { vendor ruleCount } }
  }
  rules(valueContains: $search, field: $field, negated: $negated) { totalCount }
}
"""


def _search(url: str, search: str, **variables: Any) -> dict[str, Any]:
    found: dict[str, Any] = data(
        url, SEARCH, {"search": search, "field": None, "negated": False, **variables}
    )
    return found


def test_values_containing_a_text(small: str) -> None:
    # wmic.exe (a, b, w, e, k), powershell.exe (p) and sethc.exe (s); e excludes svchost.exe.
    exe = _search(small, " .EXE")
    found = exe["indicators"]
    assert (found["totalCount"], found["ruleCount"]) == (3, 7)
    assert _keys(found["nodes"]) == [
        ("process.name", "eq", "wmic.exe", 5),
        ("process.name", "eq", "powershell.exe", 1),
        ("process.name", "eq", "sethc.exe", 1),
    ]
    assert all(n["corpusReach"] == n["ruleCount"] and not n["negated"] for n in found["nodes"])
    assert _vendors(found["nodes"][0]) == {"SIGMA": 3, "ELASTIC": 1, "SPLUNK": 1}
    # The rule list counts the same rules.
    assert exe["rules"]["totalCount"] == found["ruleCount"]
    excluded = _search(small, "exe", negated=True)
    assert _keys(excluded["indicators"]["nodes"]) == [
        ("process.parent.name", "eq", "svchost.exe", 1)
    ]
    assert excluded["indicators"]["nodes"][0]["negated"] is True
    assert excluded["rules"]["totalCount"] == excluded["indicators"]["ruleCount"] == 1
    on_field = _search(small, "exe", field="process.parent.name")
    assert on_field["indicators"] == {"totalCount": 0, "ruleCount": 0, "nodes": []}
    assert on_field["rules"]["totalCount"] == 0
    # One character matches most of a catalog: refused, saying why.
    for query in (
        '{ indicators(search: " e ") { totalCount } }',
        '{ rules(valueContains: "e") { totalCount } }',
    ):
        status, body = gql(small, query)
        assert status == 200
        assert body["errors"][0]["extensions"]["code"] == "BAD_ARGUMENT", body
        assert "at least 2 characters" in body["errors"][0]["message"]


def test_how_far_the_vendors_agree(small: str) -> None:
    query = """{ technique(id: "T1546.003") { authoringGuide {
        distinctIndicatorCount vendorAgreement { vendors indicatorCount } } } }"""
    guide = data(small, query)["technique"]["authoringGuide"]
    agreement = {"+".join(s["vendors"]): s["indicatorCount"] for s in guide["vendorAgreement"]}
    # wmic.exe: all three; *create*: Sigma a and Splunk k; the keyword: Sigma a alone;
    # *subscription*: Elastic e alone.
    assert agreement == {
        "SIGMA": 1,
        "ELASTIC": 1,
        "SPLUNK": 0,
        "SIGMA+ELASTIC": 0,
        "SIGMA+SPLUNK": 1,
        "ELASTIC+SPLUNK": 0,
        "SIGMA+ELASTIC+SPLUNK": 1,
    }
    assert sum(agreement.values()) == guide["distinctIndicatorCount"]


SIMILAR_RULES = """
query($uid: String!, $vendors: [Vendor!]) {
  rule(uid: $uid) {
    similarRules(vendors: $vendors) {
      score jaccard sharedIndicators rule { uid } shared { field { name } operator value }
    }
  }
}
"""


def test_the_rules_closest_to_a_rule(small: str) -> None:
    # Sigma a looks for wmic.exe (5 current rules), *create* (a, k) and a keyword (a alone).
    found = data(small, SIMILAR_RULES, {"uid": "sigma:a", "vendors": None})["rule"]
    ranked = found["similarRules"]
    # k shares *create* and wmic.exe; b and w look for wmic.exe alone (a tie, by uid); e also
    # looks for something a does not. The deprecated rule `old` is never offered.
    assert [s["rule"]["uid"] for s in ranked] == ["splunk:k", "sigma:b", "sigma:w", "elastic:e"]
    assert [s["sharedIndicators"] for s in ranked] == [2, 1, 1, 1]
    assert ranked[1]["score"] == ranked[2]["score"] > ranked[3]["score"] > 0
    assert ranked[0]["score"] > ranked[1]["score"]
    assert ranked[0]["jaccard"] == pytest.approx(2 / 3)
    # The rarer indicator first.
    assert [(c["field"]["name"], c["value"]) for c in ranked[0]["shared"]] == [
        ("process.command_line", "*create*"),
        ("process.name", "wmic.exe"),
    ]
    elastic = data(small, SIMILAR_RULES, {"uid": "sigma:a", "vendors": ["ELASTIC"]})["rule"]
    assert [s["rule"]["uid"] for s in elastic["similarRules"]] == ["elastic:e"]
    # Splunk p shares nothing with a rule of another technique: no neighbour is invented.
    lone = data(small, SIMILAR_RULES, {"uid": "splunk:p", "vendors": None})["rule"]
    assert lone["similarRules"] == []


def test_event_selectors_in_a_value_search(extras: str) -> None:
    # Sigma x excludes host.os.type linux, an event selector, and checks no other "linux".
    query = """query($selectors: Boolean!) {
      indicators(search: "Linux", negated: true, includeEventSelectors: $selectors) {
        totalCount ruleCount nodes { field { name } value eventSelector } }
      rules(valueContains: "linux", negated: true, includeEventSelectors: $selectors) {
        totalCount nodes { uid } } }"""
    every = data(extras, query, {"selectors": True})
    assert every["indicators"]["ruleCount"] == every["rules"]["totalCount"] == 1
    assert every["indicators"]["nodes"] == [
        {"field": {"name": "host.os.type"}, "value": "linux", "eventSelector": True}
    ]
    assert every["rules"]["nodes"] == [{"uid": "sigma:x"}]
    without = data(extras, query, {"selectors": False})
    assert without["indicators"] == {"totalCount": 0, "ruleCount": 0, "nodes": []}
    assert without["rules"]["totalCount"] == 0


def test_similar_rules_of_a_list_build_the_index_once(small: str) -> None:
    # The test server runs without the cache: the index is still built once per request, not
    # once per rule of the list.
    status, body = gql(
        small, "{ rules(first: 20) { nodes { uid similarRules(first: 1) { score } } } }"
    )
    assert status == 200, body
    assert len(body["data"]["rules"]["nodes"]) == 20
    # The page, its rules, and one read of every rule's indicators.
    assert body["extensions"]["covgraph"]["queries"] <= 4, body["extensions"]


def test_fields_written_as_a_vendors_name(small: str) -> None:
    query = """query($name: String!) { fieldsWrittenAs(name: $name) {
        name aliases { vendor name } } }"""
    # Sigma a, b, w and s write Image (b also OriginalFileName): process.name, as normalised.
    found = data(small, query, {"name": " IMAGE "})["fieldsWrittenAs"]
    assert [f["name"] for f in found] == ["process.name"]
    assert {"vendor": "SIGMA", "name": "Image"} in found[0]["aliases"]
    # *create* is written CommandLine by Sigma a and Splunk k alike (one hand-made check).
    assert data(small, query, {"name": "CommandLine"})["fieldsWrittenAs"] == [
        {
            "name": "process.command_line",
            "aliases": [
                {"vendor": "SIGMA", "name": "CommandLine"},
                {"vendor": "SPLUNK", "name": "CommandLine"},
            ],
        }
    ]
    assert data(small, query, {"name": "NoSuchField"})["fieldsWrittenAs"] == []


def test_the_guides_lists_page_by_offset(small: str) -> None:
    query = """query($offset: Int!) { technique(id: "T1546.003") { authoringGuide {
        indicators(first: 10) { value } page: indicators(first: 2, offset: $offset) { value }
        fields(first: 1, offset: $offset) { field { name } } } } }"""
    guide = data(small, query, {"offset": 1})["technique"]["authoringGuide"]
    assert [i["value"] for i in guide["page"]] == [i["value"] for i in guide["indicators"][1:3]]
    assert guide["fields"] == [{"field": {"name": "process.command_line"}}]
    past = data(small, query, {"offset": 100})["technique"]["authoringGuide"]
    assert past["page"] == past["fields"] == []
    status, body = gql(small, query, {"offset": -1})
    assert status == 200
    assert body["errors"][0]["extensions"]["code"] == "BAD_ARGUMENT"
    assert "offset must not be negative" in body["errors"][0]["message"]


def test_rules_of_an_indicator_typed_in_another_case(extras: str) -> None:
    """rules(field, operator, value) finds what indicator() finds: the value as given, else
    lower-cased; a case-sensitive check of the exact text stays its own indicator."""
    query = """query($v: String!) {
      indicator(field: "process.name", operator: "eq", value: $v) { value corpusReach }
      rules(field: "process.name", operator: "eq", value: $v, negated: false, first: 0) {
        totalCount } }"""
    typed = data(extras, query, {"v": "wmic.EXE"})
    assert typed["indicator"]["value"] == "wmic.exe"
    assert typed["rules"]["totalCount"] == typed["indicator"]["corpusReach"] == 7
    # x checks WMIC.exe case-sensitively: that exact text is one indicator of its own.
    cased = data(extras, query, {"v": "WMIC.exe"})
    assert cased["indicator"]["value"] == "WMIC.exe"
    assert cased["rules"]["totalCount"] == cased["indicator"]["corpusReach"] == 1


def test_lists_without_cursors_page_by_offset(extras: str) -> None:
    """Field.indicators, Indicator.checkedWith, indicators(search:), events and
    Event.techniques take `offset`: pages of one item give the whole list, in its order."""
    lists = {
        "field": ('{ field(name: "process.name") { list: indicators(first: $n, offset: $o) '
                  "{ value } } }", lambda d: [r["value"] for r in d["field"]["list"]]),
        "checked": ('{ indicator(field: "process.name", operator: "eq", value: "wmic.exe") '
                    "{ list: checkedWith(first: $n, offset: $o) { field { name } value } } }",
                    lambda d: [(r["field"]["name"], r["value"]) for r in d["indicator"]["list"]]),
        "search": ('{ indicators(search: "exe", first: $n, offset: $o) { nodes { value } } }',
                   lambda d: [r["value"] for r in d["indicators"]["nodes"]]),
        "events": ("{ events(first: $n, offset: $o) { id } }",
                   lambda d: [e["id"] for e in d["events"]]),
        "techniques": ('{ event(id: "sysmon:1") { techniques(first: $n, offset: $o) { id } } }',
                       lambda d: [t["id"] for t in d["event"]["techniques"]]),
    }  # fmt: skip
    for name, (body, items) in lists.items():
        query = f"query($n: Int, $o: Int!) {body}"
        whole = items(data(extras, query, {"n": 200, "o": 0}))
        assert len(whole) >= 2, name
        paged = [i for o in range(len(whole) + 1) for i in items(data(extras, query,
                 {"n": 1, "o": o}))]  # fmt: skip
        assert paged == whole, name
        _, body_ = gql(extras, query, {"n": 1, "o": -1})
        assert body_["errors"][0]["extensions"]["code"] == "BAD_ARGUMENT", name
    counts = data(extras, '{ event(id: "sysmon:1") { techniqueCount techniques(first: 200) '
                  "{ id } } }")["event"]  # fmt: skip
    assert counts["techniqueCount"] == len(counts["techniques"]) > 1
