"""`indicator` over HTTP on the whole corpus: every count checked against the rule lists."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from http_api import data, running_api

pytestmark = [pytest.mark.neo4j, pytest.mark.corpus]

WMIC = {"field": "process.name", "operator": "eq", "value": "wmic.exe"}

INDICATOR = """
query Indicator($field: String!, $operator: String!, $value: String!) {
  indicator(field: $field, operator: $operator, value: $value) {
    corpusReach oppositeReach techniqueCount untaggedRuleCount
    byVendor { vendor ruleCount }
    techniques(first: 3) { ruleCount technique { id } }
    events(first: 2) { ruleCount event { id } }
    checkedWith(first: 3, includeEventSelectors: false) {
      field { name } operator value ruleCount corpusReach byVendor { vendor ruleCount }
    }
  }
}
"""

RULES = """
query Rules($field: String!, $operator: String!, $value: String!, $negated: Boolean,
            $vendor: Vendor, $technique: String, $event: String, $after: String) {
  rules(field: $field, operator: $operator, value: $value, negated: $negated, vendor: $vendor,
        techniqueId: $technique, eventId: $event, first: 200, after: $after) {
    totalCount pageInfo { hasNextPage endCursor } nodes { uid vendor techniques { id } }
  }
}
"""


@pytest.fixture(scope="module")
def corpus_api(corpus_graph: object) -> Iterator[str]:
    """An API server with its caches on, over the loaded corpus."""
    with running_api() as url:
        yield url


def _rules(url: str, check: dict[str, str], **narrow: Any) -> list[dict[str, Any]]:
    """Every current rule the rule list gives for a positive check, narrowed as asked."""
    found: list[dict[str, Any]] = []
    after = None
    while True:
        page = data(url, RULES, {**check, "negated": False, **narrow, "after": after})["rules"]
        found += page["nodes"]
        if not page["pageInfo"]["hasNextPage"]:
            assert len(found) == page["totalCount"]
            return found
        after = page["pageInfo"]["endCursor"]


def test_the_cross_vendor_indicator_counts_what_the_rule_lists_hold(corpus_api: str) -> None:
    wmic = data(corpus_api, INDICATOR, WMIC)["indicator"]
    rules = _rules(corpus_api, WMIC)
    assert wmic["corpusReach"] == len(rules) > 50
    by_vendor = {v["vendor"]: v["ruleCount"] for v in wmic["byVendor"]}
    assert by_vendor == {v: sum(r["vendor"] == v for r in rules) for v in by_vendor}
    assert min(by_vendor.values()) > 0  # Sigma, Elastic and Splunk all check it
    opposite = data(corpus_api, RULES, {**WMIC, "negated": True})["rules"]["totalCount"]
    assert wmic["oppositeReach"] == opposite

    tagged = [{t["id"] for t in r["techniques"]} for r in rules]
    # Untagged: no technique, or only revoked and deprecated ones (which the lists show).
    assert wmic["untaggedRuleCount"] >= sum(not t for t in tagged)
    assert wmic["techniqueCount"] <= len(set().union(*tagged))
    assert wmic["techniques"][0]["technique"]["id"] == "T1047"
    for use in wmic["techniques"]:
        tid = use["technique"]["id"]
        assert use["ruleCount"] == sum(tid in t for t in tagged) > 0
        assert use["ruleCount"] == len(_rules(corpus_api, WMIC, technique=tid))
    assert "sysmon:1" in [e["event"]["id"] for e in wmic["events"]]
    for use in wmic["events"]:
        assert use["ruleCount"] == len(_rules(corpus_api, WMIC, event=use["event"]["id"]))

    # Companions: the rules checking both are those in both rule lists.
    uids = {r["uid"] for r in rules}
    companions = wmic["checkedWith"]
    assert len(companions) == 3
    assert [c["ruleCount"] for c in companions] == sorted(
        (c["ruleCount"] for c in companions), reverse=True
    )
    for companion in companions:
        check = {k: companion[k] for k in ("operator", "value")}
        other = _rules(corpus_api, {"field": companion["field"]["name"], **check})
        both = [r for r in other if r["uid"] in uids]
        assert companion["ruleCount"] == len(both) > 0
        assert companion["corpusReach"] == len(other)
        assert {v["vendor"]: v["ruleCount"] for v in companion["byVendor"]} == {
            v: sum(r["vendor"] == v for r in both) for v in ("SIGMA", "ELASTIC", "SPLUNK")
        }
    assert companions[0]["field"]["name"] == "process.pe.original_file_name"


def test_the_guide_splits_each_row_by_vendor(corpus_api: str) -> None:
    query = """{ technique(id: "T1546.003") { authoringGuide {
        fields(first: 100) { ruleCount byVendor { ruleCount } }
        indicators(first: 100) { field { name } operator value ruleCount
                                 byVendor { vendor ruleCount } }
        exclusions(first: 100) { ruleCount byVendor { ruleCount } } } } }"""
    guide = data(corpus_api, query)["technique"]["authoringGuide"]
    for row in guide["fields"] + guide["indicators"] + guide["exclusions"]:
        assert sum(v["ruleCount"] for v in row["byVendor"]) == row["ruleCount"]
    wmic = next(i for i in guide["indicators"] if (i["field"]["name"], i["value"]) == WMIC_KEY)
    for count in wmic["byVendor"]:
        listed = _rules(corpus_api, WMIC, technique="T1546.003", vendor=count["vendor"])
        assert count["ruleCount"] == len(listed)
    assert sum(count["ruleCount"] > 0 for count in wmic["byVendor"]) >= 2


WMIC_KEY = ("process.name", "wmic.exe")


def test_the_empty_string_is_a_value(corpus_api: str) -> None:
    # process.command_line eq "": rules that look for, or exclude, an empty command line.
    empty = {"field": "process.command_line", "operator": "eq", "value": ""}
    query = """query($field: String!, $operator: String!, $value: String!) {
      positive: indicator(field: $field, operator: $operator, value: $value) {
        value corpusReach oppositeReach }
      any: rules(field: $field, value: $value) { totalCount } }"""
    found = data(corpus_api, query, empty)
    indicator = found["positive"]
    assert indicator is not None
    assert indicator["value"] == ""
    assert indicator["corpusReach"] == len(_rules(corpus_api, empty)) > 0
    negated = data(corpus_api, RULES, {**empty, "negated": True})["rules"]["totalCount"]
    assert indicator["oppositeReach"] == negated > 0
    # Without an operator, `value: ""` still filters: fewer rules than filter on the field.
    on_field = data(corpus_api, '{ rules(field: "process.command_line") { totalCount } }')
    assert found["any"]["totalCount"] < on_field["rules"]["totalCount"]


def test_values_containing_a_tool_name(corpus_api: str) -> None:
    query = """{
      indicators(search: "ProcDump", first: 200) {
        totalCount ruleCount nodes { field { name } operator value ruleCount } }
      rules(valueContains: "procdump", negated: false) { totalCount }
      exact: rules(value: "procdump.exe", negated: false) { totalCount } }"""
    found = data(corpus_api, query)
    search = found["indicators"]
    nodes = search["nodes"]
    assert len(nodes) == search["totalCount"] > 5
    assert all("procdump" in n["value"].lower() for n in nodes)
    assert [n["ruleCount"] for n in nodes] == sorted((n["ruleCount"] for n in nodes), reverse=True)
    # Its rules are the rule list's, and more than look for the exact file name.
    assert search["ruleCount"] == found["rules"]["totalCount"] > found["exact"]["totalCount"] > 0
    for node in nodes[:3]:
        check = {"field": node["field"]["name"], "operator": node["operator"]}
        assert node["ruleCount"] == len(_rules(corpus_api, {**check, "value": node["value"]}))


def test_vendor_agreement_adds_up(corpus_api: str) -> None:
    query = """{ technique(id: "T1059.001") { authoringGuide {
        distinctIndicatorCount distinctEventSelectorCount
        all: vendorAgreement { vendors indicatorCount }
        some: vendorAgreement(includeEventSelectors: false) { vendors indicatorCount }
        indicators(first: 200, includeEventSelectors: false) { byVendor { ruleCount } } } } }"""
    guide = data(corpus_api, query)["technique"]["authoringGuide"]
    assert sum(s["indicatorCount"] for s in guide["all"]) == guide["distinctIndicatorCount"]
    assert sum(s["indicatorCount"] for s in guide["some"]) == (
        guide["distinctIndicatorCount"] - guide["distinctEventSelectorCount"]
    )
    assert len(guide["all"]) == 7
    # PowerShell: every vendor has indicators of its own, and some are shared by all three.
    some = {"+".join(s["vendors"]): s["indicatorCount"] for s in guide["some"]}
    assert min(some["SIGMA"], some["ELASTIC"], some["SPLUNK"], some["SIGMA+ELASTIC+SPLUNK"]) > 0
    # The 200 most checked indicators, by how many vendors check each, within those counts.
    vendors = Counter(sum(v["ruleCount"] > 0 for v in i["byVendor"]) for i in guide["indicators"])
    assert vendors[3] <= some["SIGMA+ELASTIC+SPLUNK"]


def test_lists_page_past_their_first_two_hundred_rows(corpus_api: str) -> None:
    """Field.indicators and Indicator.checkedWith read as many rows as the window needs."""
    query = """query($o: Int!) {
      field(name: "process.command_line") { indicatorCount
        list: indicators(first: 200, offset: $o) { operator value } }
      indicator(field: "process.name", operator: "eq", value: "powershell.exe") {
        checkedWithCount
        checked: checkedWith(first: 200, offset: $o) { field { name } operator value } } }"""
    first = data(corpus_api, query, {"o": 0})
    later = data(corpus_api, query, {"o": 400})
    assert first["field"]["indicatorCount"] > 600
    assert first["indicator"]["checkedWithCount"] > 600
    for path in (("field", "list"), ("indicator", "checked")):
        head, tail = first[path[0]][path[1]], later[path[0]][path[1]]
        assert len(head) == len(tail) == 200, path
        assert not {str(r) for r in head} & {str(r) for r in tail}, path
    # Pages of 200 put end to end are the ranked list, without gaps or repeats.
    pages = [data(corpus_api, query, {"o": o})["field"]["list"] for o in (0, 200, 400)]
    values = [(r["operator"], r["value"]) for page in pages for r in page]
    assert len(values) == len(set(values)) == 600
