"""The indicator page: one (field, operator, value) across vendors, techniques and events."""

from __future__ import annotations

from typing import Any

import pytest
from browser_page import Page, gql

pytestmark = [pytest.mark.browser, pytest.mark.corpus, pytest.mark.neo4j]

INDICATOR = """
query($field: String!, $operator: String!, $value: String!, $negated: Boolean!) {
  indicator(field: $field, operator: $operator, value: $value, negated: $negated) {
    corpusReach oppositeReach techniqueCount byVendor { vendor ruleCount }
    techniques(first: 20) { ruleCount technique { id name } }
    events(first: 15) { ruleCount event { id } }
    checkedWith(first: 30, includeEventSelectors: false) {
      field { name } operator value ruleCount corpusReach byVendor { vendor ruleCount } }
  }
}
"""

WMIC = {"field": "process.name", "operator": "eq", "value": "wmic.exe", "negated": False}


def _cells(row: Any) -> list[str]:
    return [" ".join(cell.text.split()) for cell in row.find_elements("css selector", "td")]


def _chips(by_vendor: list[dict[str, Any]]) -> str:
    return " ".join(f"{v['vendor'].title()} {v['ruleCount']}" for v in by_vendor if v["ruleCount"])


def test_an_indicator_from_the_technique_page(page: Page) -> None:
    api = gql(page.base, INDICATOR, WMIC)["indicator"]
    assert page.open("#/technique/T1546.003") == "ready"
    link = page.find('table.indicators tr[data-key="process.name|eq|wmic.exe"] td.value a')
    assert page.act(link.click) == "ready"
    assert page.driver.title == "process.name eq wmic.exe · covgraph"
    assert " ".join(page.find("#indicator-title").text.split()) == "process.name eq wmic.exe"

    # The reach, per vendor, each count a link to that vendor's rules.
    reach = page.find("#indicator-reach").text
    assert reach.startswith(f"{api['corpusReach']} current rules look for it: ")
    for count in api["byVendor"]:
        assert f"{count['vendor'].title()} {count['ruleCount']}" in reach
        assert count["ruleCount"] > 0
    assert f"{api['oppositeReach']} current rule" in reach
    assert (
        f"Tagged with {api['techniqueCount']} current techniques"
        in page.find("#indicator-spread").text
    )

    # Techniques, events and companions as the API ranks them.
    rows = page.find_all("table.indicator-techniques tbody tr")
    assert [_cells(r) for r in rows] == [
        [t["technique"]["id"], t["technique"]["name"], str(t["ruleCount"])]
        for t in api["techniques"]
    ]
    assert rows[0].get_attribute("data-technique") == "T1047"
    events = page.find_all("table.indicator-events tbody tr")
    events = [r.get_attribute("data-event") for r in events]
    assert events == [e["event"]["id"] for e in api["events"]]
    companions = page.find_all("table.checked-with tbody tr")
    assert [_cells(r) for r in companions] == [
        [
            c["field"]["name"],
            c["operator"],
            c["value"],
            str(c["ruleCount"]),
            _chips(c["byVendor"]),
            str(c["corpusReach"]),
        ]
        for c in api["checkedWith"]
    ]
    page.screenshot("indicator-wmic")

    # Splunk's count lists Splunk's rules that look for it.
    splunk = next(c["ruleCount"] for c in api["byVendor"] if c["vendor"] == "SPLUNK")
    assert page.act(page.find('#indicator-reach a[data-vendor="SPLUNK"]').click) == "ready"
    assert page.find("#rules-total").text == f"{splunk} current rules"
    assert page.find_all("table.rules-list tbody tr td .vendor-splunk")
    assert page.console_errors() == []


def test_a_companion_and_the_other_polarity(page: Page) -> None:
    api = gql(page.base, INDICATOR, WMIC)["indicator"]
    assert api["oppositeReach"] > 0
    assert page.open("#/indicator?field=process.name&operator=eq&value=wmic.exe") == "ready"
    # The rules that exclude wmic.exe: the same triple, negated.
    assert page.act(page.find("#indicator-opposite").click) == "ready"
    assert " ".join(page.find("#indicator-title").text.split()) == "process.name not eq wmic.exe"
    excluded = gql(page.base, INDICATOR, {**WMIC, "negated": True})["indicator"]
    assert excluded["corpusReach"] == api["oppositeReach"]
    assert page.find("#indicator-reach").text.startswith(f"{api['oppositeReach']} current rule")
    # A companion's value opens its own page.
    first = api["checkedWith"][0]
    assert page.open("#/indicator?field=process.name&operator=eq&value=wmic.exe") == "ready"
    assert page.act(page.find("table.checked-with tbody tr td.value a").click) == "ready"
    title = " ".join(page.find("#indicator-title").text.split())
    assert title == f"{first['field']['name']} {first['operator']} {first['value']}"
    assert page.find("#indicator-reach").text.startswith(f"{first['corpusReach']} current rules")


def test_an_indicator_no_rule_checks(page: Page) -> None:
    route = "#/indicator?field=process.name&operator=eq&value=no-such-tool.exe"
    assert page.open(route) == "ready"
    assert "no-such-tool.exe" in page.find("#indicator-unknown").text
    assert page.open("#/indicator?field=process.name") == "ready"
    assert "needs a field, an operator and a value" in page.find("#indicator-unknown").text


FIELD = """
query($name: String!) {
  field(name: $name) {
    ruleCount byVendor { vendor ruleCount } aliases { vendor name } operators { operator count }
    indicatorCount exclusionCount: indicatorCount(negated: true)
    indicators(first: 50) { operator value ruleCount byVendor { vendor ruleCount } }
    exclusions: indicators(first: 30, negated: true) { operator value }
  }
}
"""


def test_a_field_page_from_an_indicator(page: Page) -> None:
    api = gql(page.base, FIELD, {"name": "process.name"})["field"]
    assert page.open("#/indicator?field=process.name&operator=eq&value=wmic.exe") == "ready"
    assert page.act(page.find("#indicator-title a.field").click) == "ready"
    assert page.driver.title == "process.name · covgraph"
    summary = page.find("#field-rules").text
    assert summary.startswith(f"{api['ruleCount']:,} current rules filter on it: ")
    for count in api["byVendor"]:
        assert f"{count['vendor'].title()} {count['ruleCount']:,}" in summary
    # The names each vendor writes, as the API lists them: Sigma's Image among them.
    for vendor in ("SIGMA", "ELASTIC", "SPLUNK"):
        shown = page.find(f'dl.aliases dd[data-vendor="{vendor}"]').text.split()
        assert shown == [a["name"] for a in api["aliases"] if a["vendor"] == vendor]
    assert "Image" in page.find('dl.aliases dd[data-vendor="SIGMA"]').text.split()
    chips = page.texts("#field-operators .chip")
    assert chips == [f"{o['operator']} {o['count']:,}" for o in api["operators"]]
    title = page.find("#field-values h2").text
    assert title == f"Values looked for ({api['indicatorCount']:,} distinct)"
    rows = page.find_all("table.field-values tbody tr")
    assert [_cells(r) for r in rows] == [
        [i["operator"], i["value"], str(i["ruleCount"]), _chips(i["byVendor"])]
        for i in api["indicators"]
    ]
    excluded = page.find_all("table.field-exclusions tbody tr")
    assert [r.get_attribute("data-key") for r in excluded] == [
        f"process.name|{i['operator']}|{i['value']}" for i in api["exclusions"]
    ]
    assert all(_cells(r)[0].startswith("not ") for r in excluded)
    page.screenshot("field-process-name")
    # A value opens its indicator page: the top one is wmic.exe or another LOLBin.
    top = api["indicators"][0]
    assert page.act(page.find("table.field-values tbody tr td.value a").click) == "ready"
    assert page.find("#indicator-reach").text.startswith(f"{top['ruleCount']} current rules")
    assert page.console_errors() == []


def test_an_unknown_field_says_so(page: Page) -> None:
    assert page.open("#/field/no.such.field") == "ready"
    assert "no.such.field" in page.find("#field-unknown").text


def test_an_empty_value_and_a_single_rule(page: Page) -> None:
    empty = {"field": "process.command_line", "operator": "eq", "value": "", "negated": False}
    api = gql(page.base, INDICATOR, empty)["indicator"]
    assert page.open("#/indicator?field=process.command_line&operator=eq&value=") == "ready"
    assert page.find("#indicator-reach").text.startswith(f"{api['corpusReach']} current rule")
    # The reach's list keeps the empty value: the same rules, not every command-line rule.
    assert page.act(page.find("#indicator-rules").click) == "ready"
    total = page.find("#rules-total").text
    assert total.startswith(f"{api['corpusReach']} current rule")
    assert page.find("#rules-indicator a").get_attribute("href").endswith("value=")
    # One rule looks for this keyword: the sentence agrees in number.
    one = {"field": "*", "operator": "match", "value": "disallowedhost", "negated": False}
    assert gql(page.base, INDICATOR, one)["indicator"]["corpusReach"] == 1
    assert page.open("#/indicator?field=*&operator=match&value=disallowedhost") == "ready"
    assert page.find("#indicator-reach").text.startswith("1 current rule looks for it: ")


SEARCH = """{ indicators(search: "procdump", first: 200) { totalCount ruleCount
  nodes { field { name } operator value ruleCount byVendor { vendor ruleCount } } } }"""


def test_searching_the_values_rules_check(page: Page) -> None:
    api = gql(page.base, SEARCH)["indicators"]
    assert page.open("#/") == "ready"
    assert page.act(page.find('nav a[data-view="indicators"]').click) == "ready"
    assert "at least two characters" in page.find("#indicators-hint").text
    box = page.find("#indicators-search")
    assert page.act(lambda: page.enter(box, "procdump")) == "ready"
    summary = page.find("#indicators-summary").text
    assert summary == (
        f"{api['totalCount']} indicators contain “procdump”; "
        f"{api['ruleCount']} current rules look for at least one of them."
    )
    rows = page.find_all("table.indicators-found tbody tr")
    assert [_cells(r) for r in rows] == [
        [n["field"]["name"], n["operator"], n["value"], str(n["ruleCount"]), _chips(n["byVendor"])]
        for n in api["nodes"]
    ]
    page.screenshot("values-procdump")
    assert page.act(page.find("#indicators-rules").click) == "ready"
    assert page.find("#rules-total").text == f"{api['ruleCount']} current rules"
    assert "containing “procdump”" in page.find(".rules-page .summary").text


WINDOWS = """query($selectors: Boolean!) {
  indicators(search: "windows", includeEventSelectors: $selectors, first: 200) {
    totalCount ruleCount nodes { field { name } eventSelector } } }"""


def test_values_leave_event_selectors_out_unless_asked(page: Page) -> None:
    without = gql(page.base, WINDOWS, {"selectors": False})["indicators"]
    every = gql(page.base, WINDOWS, {"selectors": True})["indicators"]
    # host.os.type windows alone brings hundreds of rules that only read Windows events.
    assert every["ruleCount"] > without["ruleCount"] > 0
    assert page.open("#/indicators?search=windows") == "ready"
    assert not page.find("#indicators-selectors").is_selected()
    assert f"; {without['ruleCount']:,} current rules" in page.find("#indicators-summary").text
    assert page.find_all("table.indicators-found .chip.selector") == []
    assert page.act(page.find("#indicators-rules").click) == "ready"
    assert page.find("#rules-total").text == f"{without['ruleCount']:,} current rules"
    assert "event selectors aside" in page.find(".rules-page .summary").text
    # Ticked, the selectors come back, marked.
    assert page.open("#/indicators?search=windows&selectors=1") == "ready"
    assert page.find("#indicators-selectors").is_selected()
    assert f"; {every['ruleCount']:,} current rules" in page.find("#indicators-summary").text
    marked = page.find_all("table.indicators-found .chip.selector")
    assert len(marked) == sum(n["eventSelector"] for n in every["nodes"]) > 0
    assert page.act(page.find("#indicators-rules").click) == "ready"
    assert page.find("#rules-total").text == f"{every['ruleCount']:,} current rules"


def test_an_indicator_leads_to_every_value_containing_it(page: Page) -> None:
    assert page.open("#/indicator?field=process.name&operator=eq&value=wmic.exe") == "ready"
    assert page.act(page.find("#indicator-values").click) == "ready"
    assert page.find("#indicators-search").get_attribute("value") == "wmic.exe"
    keys = [r.get_attribute("data-key") for r in page.find_all("table.indicators-found tbody tr")]
    # The name itself, the PE header's name and command lines that mention it.
    assert {"process.name|eq|wmic.exe", "process.pe.original_file_name|eq|wmic.exe"} <= set(keys)
    assert any(k.startswith("process.command_line|wildcard|") for k in keys)


def test_a_vendors_field_name_leads_to_its_canonical_fields(page: Page) -> None:
    found = gql(page.base, '{ fieldsWrittenAs(name: "ParentImage") { name } }')["fieldsWrittenAs"]
    assert "process.parent.name" in [f["name"] for f in found]
    assert page.open("#/field/ParentImage") == "ready"
    shown = [li.get_attribute("data-field") for li in page.find_all("#field-canonical li")]
    assert shown == [f["name"] for f in found]
    assert "(Sigma)" in page.find('#field-canonical li[data-field="process.parent.name"]').text
    link = page.find('#field-canonical li[data-field="process.parent.name"] a')
    assert page.act(link.click) == "ready"
    assert page.find("#field-name").text == "process.parent.name"
