"""The page at / in headless Chromium, over a real API and Neo4j loaded with the whole corpus.

Every figure the page shows is compared with what the API answers for the same question, and
the T1546.003 page with the facts of the corpus (events, wmic.exe, win_wmi_persistence.yml).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from browser_page import Page, gql

pytestmark = [pytest.mark.browser, pytest.mark.corpus, pytest.mark.neo4j]

WMI_PERSISTENCE = "sigma:0b7889b4-5577-4521-a60a-3376ee7f9f7b"

TECHNIQUE = """
query($id: String!) {
  technique(id: $id) {
    name
    coverage { ruleCount eventCount events { id }
               byVendor { vendor ruleCount rules { uid sourceUrl } } }
    authoringGuide {
      distinctFieldCount distinctIndicatorCount distinctExclusionCount
      distinctEventSelectorCount distinctExcludedEventSelectorCount
      fields(first: 20) { field { name } ruleCount eventSelector operators { operator count } }
      indicators(first: 40, includeEventSelectors: false) {
        field { name } operator value ruleCount corpusReach byVendor { vendor ruleCount } }
      exclusions(first: 50, includeEventSelectors: false) {
        field { name } operator value ruleCount corpusReach }
      eventSelectors(first: 20) { field { name } operator value negated ruleCount corpusReach }
      vendorAgreement(includeEventSelectors: false) { vendors indicatorCount }
    }
    detectionStrategies { id analytics { id logSources } }
    attackEvents { analytics ruleCount event { id name } }
  }
  rule(uid: "sigma:0b7889b4-5577-4521-a60a-3376ee7f9f7b") {
    title sourceUrl predicates { field { name } operator value negated }
  }
}
"""


def _key(row: dict[str, Any]) -> str:
    field = row["field"]["name"] if row["field"] else "*"
    return f"{field}|{row['operator']}|{row['value']}"


def _row(page: Page, table: str, key: str) -> list[str]:
    cells = page.find_all(f'table.{table} tr[data-key="{key}"] td')
    assert cells, f"no row {key} in table.{table}"
    # As the browser shows text: runs of white space (between chips, say) as one space.
    return [" ".join(cell.text.split()) for cell in cells]


def test_technique_page_shows_what_the_api_answers(page: Page) -> None:
    api = gql(page.base, TECHNIQUE, {"id": "T1546.003"})
    technique, rule = api["technique"], api["rule"]
    coverage, guide = technique["coverage"], technique["authoringGuide"]

    assert page.open("#/technique/T1546.003") == "ready"
    heading = page.find("h1").text
    assert "T1546.003" in heading
    assert technique["name"] in heading
    assert technique["name"] == "Windows Management Instrumentation Event Subscription"
    assert page.driver.title == f"T1546.003 {technique['name']} · covgraph"
    # One GraphQL request draws the whole page.
    assert page.script("return window.covgraph.stats.requests") == 1
    assert (
        page.script(
            "return performance.getEntriesByType('resource')"
            ".filter(e => new URL(e.name).pathname === '/graphql').length"
        )
        == 1
    )

    # Rules per vendor: the counts, the rules listed and their links, as the API has them.
    assert page.find("#rule-total").text == f"{coverage['ruleCount']} rules"
    assert sum(v["ruleCount"] for v in coverage["byVendor"]) == coverage["ruleCount"]
    for vendor in coverage["byVendor"]:
        column = f'.vendor-rules[data-vendor="{vendor["vendor"]}"]'
        assert page.find(f"{column} .count").text == str(vendor["ruleCount"])
        listed = [li.get_attribute("data-uid") for li in page.find_all(f"{column} li")]
        assert sorted(listed) == sorted(r["uid"] for r in vendor["rules"])
        assert len(listed) == vendor["ruleCount"]
    assert {v["vendor"]: v["ruleCount"] > 0 for v in coverage["byVendor"]} == {
        "SIGMA": True, "ELASTIC": True, "SPLUNK": True,
    }  # fmt: skip
    item = f'li[data-uid="{WMI_PERSISTENCE}"]'
    title = page.find(f"{item} a.rule-title")
    assert title.text == "WMI Persistence"
    assert title.get_attribute("href").endswith(
        "#/rule/sigma%3A0b7889b4-5577-4521-a60a-3376ee7f9f7b"
    )
    source = page.find(f"{item} a.external").get_attribute("href")
    assert source == rule["sourceUrl"]
    assert source.endswith("/rules/windows/builtin/wmi/win_wmi_persistence.yml")

    # Events covered: the count and every event, including the WMI and process ones.
    assert page.find("#events h2").text == f"Events covered ({coverage['eventCount']})"
    events = page.texts("table.events tbody tr td:first-child")
    assert sorted(events) == sorted(e["id"] for e in coverage["events"])
    for event in ("sysmon:1", "sysmon:19", "sysmon:20", "sysmon:21", "windows-security:4688",
                  "powershell:4104", "wmi-activity:5861"):  # fmt: skip
        assert event in events

    # Fields filtered most, with operator counts.
    assert f"({guide['distinctFieldCount']} distinct)" in page.find("#fields h2").text
    fields = page.texts("table.fields tbody tr td:first-child a.field")
    assert fields == [f["field"]["name"] for f in guide["fields"]]
    # Event-selector fields carry a tag.
    tagged = page.texts("table.fields tbody tr td:first-child .chip.selector")
    assert len(tagged) == sum(f["eventSelector"] for f in guide["fields"]) > 0
    name = next(f for f in guide["fields"] if f["field"]["name"] == "process.name")
    name_row = page.find_all("table.fields tbody tr")[fields.index("process.name")]
    chips = [chip.text for chip in name_row.find_elements("css selector", "td.operators .chip")]
    assert chips == [f"{op['operator']} {op['count']}" for op in name["operators"]]

    # Top indicators, event selectors aside (63 - 13 on the corpus): process.name eq wmic.exe
    # with its rule count and its (larger) corpus reach, among the first rows.
    indicators = guide["distinctIndicatorCount"] - guide["distinctEventSelectorCount"]
    assert guide["distinctEventSelectorCount"] > 0
    assert f"({indicators} distinct)" in page.find("#indicators h2").text
    assert "process.name|eq|wmic.exe" in [_key(i) for i in guide["indicators"][:4]]
    wmic = next(i for i in guide["indicators"] if _key(i) == "process.name|eq|wmic.exe")
    vendors = " ".join(
        f"{v['vendor'].title()} {v['ruleCount']}" for v in wmic["byVendor"] if v["ruleCount"]
    )
    assert _row(page, "indicators", "process.name|eq|wmic.exe") == [
        "process.name", "eq", "wmic.exe", str(wmic["ruleCount"]), vendors,
        str(wmic["corpusReach"]),
    ]  # fmt: skip
    assert wmic["corpusReach"] > wmic["ruleCount"]
    # How far the vendors agree on those indicators, in one sentence.
    sets = {len(s["vendors"]): 0 for s in guide["vendorAgreement"]}
    for s in guide["vendorAgreement"]:
        sets[len(s["vendors"])] += s["indicatorCount"]
    agreement = page.find("#vendor-agreement").text
    assert agreement.startswith(f"Checked by all three vendors: {sets[3]}; by two: {sets[2]} (")
    assert f"by one alone: {sets[1]} (" in agreement
    assert sum(sets.values()) == indicators
    assert len(page.find_all("table.indicators tbody tr")) == len(guide["indicators"])
    assert not any(i["field"]["name"].startswith("event.") for i in guide["indicators"])

    # The event selectors in their own card, with the count of what it lists.
    selectors = guide["distinctEventSelectorCount"] + guide["distinctExcludedEventSelectorCount"]
    assert page.find("#selectors h2").text == f"Event selectors ({selectors} distinct)"
    shown_selectors = [
        row.get_attribute("data-key") for row in page.find_all("table.selectors tbody tr")
    ]
    assert shown_selectors == [_key(s) for s in guide["eventSelectors"]]
    assert "host.os.type|eq|windows" in shown_selectors

    # Exclusions: every check win_wmi_persistence.yml makes under negation is listed.
    excluded = [_key(p) for p in rule["predicates"] if p["negated"]]
    assert "winlog.event_data.Provider|eq|scm event provider" in excluded
    shown = {row.get_attribute("data-key") for row in page.find_all("table.exclusions tbody tr")}
    assert set(excluded) <= shown
    exclusions = guide["distinctExclusionCount"] - guide["distinctExcludedEventSelectorCount"]
    assert len(shown) == min(exclusions, 50)
    assert f"({exclusions} distinct)" in page.find("#exclusions h2").text

    # ATT&CK's strategy: every event its analytics read, with the technique's rules on each.
    attack = technique["attackEvents"]
    assert page.find("#attack h2").text == f"ATT&CK detection strategy ({len(attack)} events named)"
    shown_attack = [
        [cell.text.strip() for cell in row.find_elements("css selector", "td")]
        for row in page.find_all("table.attack-events tbody tr")
    ]
    assert shown_attack == [
        [e["event"]["id"], e["event"]["name"], ", ".join(e["analytics"]), str(e["ruleCount"])]
        for e in attack
    ]
    assert {"wmi-activity:5857", "sysmon:1"} <= {row[0] for row in shown_attack}
    missed = sum(e["ruleCount"] == 0 for e in attack)
    assert f"{missed} of {len(attack)} read by no rule." in page.find("#attack p.note").text
    (strategy,) = technique["detectionStrategies"]
    assert page.find(f'li[data-strategy="{strategy["id"]}"]').text.startswith("DET0086")
    analytic = page.find('li[data-analytic="AN0236"]').text
    assert all(source in analytic for source in strategy["analytics"][0]["logSources"])
    page.screenshot("technique-T1546.003")

    # The rule link opens the rule's details: its checks, exclusions marked.
    assert page.act(title.click) == "ready"
    assert page.find("h1").text == "WMI Persistence"
    assert page.driver.title == "WMI Persistence · covgraph"
    negated = page.find_all("table.predicates tr.negated")
    assert len(negated) == len(excluded)
    assert any("scm event provider" in row.text for row in negated)
    assert page.find("#facts a.external").get_attribute("href") == rule["sourceUrl"]
    page.screenshot("rule-win_wmi_persistence")
    assert page.console_errors() == []


def test_search_box_finds_and_opens_techniques(page: Page) -> None:
    assert page.open("#/") == "ready"
    box = page.find("#search")
    box.send_keys("Event Subscription")
    hit = page.wait_for('#search-results a[data-technique="T1546.003"]')[0]
    assert "Windows Management Instrumentation Event Subscription" in hit.text
    page.screenshot("search-event-subscription")
    assert page.act(hit.click) == "ready"
    assert page.find("h1 .tid").text == "T1546.003"
    assert page.find("#search-results").get_attribute("hidden") is not None

    # Words of the description find techniques too, as the box's placeholder suggests.
    for text, first in (("wmi event", "T1546.003"), ("WMI", "T1047")):
        box.clear()
        box.send_keys(text)
        page.wait_for(
            f'#search-results[data-query="{text}"] li:first-child a[data-technique="{first}"]'
        )
    box.clear()
    box.send_keys("mimikatz")
    page.wait_for('#search-results[data-query="mimikatz"] a[data-technique="T1003"]')
    page.screenshot("search-mimikatz")

    # An id typed in full opens its page on Enter, whatever its case.
    box.clear()
    assert page.act(lambda: page.enter(box, "t1047")) == "ready"
    assert page.find("h1 .tid").text == "T1047"
    assert page.console_errors() == []


def test_search_text_is_shown_never_run(page: Page) -> None:
    assert page.open("#/") == "ready"
    attack = '<img src=x onerror="window.__xss=1">'
    page.find("#search").send_keys(attack)
    message = page.wait_for("#no-match")[0]
    assert attack in message.text
    assert page.find_all("#search-results img") == []
    assert page.script("return window.__xss === undefined") is True


def test_unknown_technique_says_so(page: Page) -> None:
    assert page.open("#/technique/T9999") == "ready"
    assert page.find("h1").text == "No technique T9999"


MATRIX = """
query($vendors: [Vendor!]) {
  coverageMatrix(platform: "Windows", vendors: $vendors) {
    tactic { id name } techniqueCount
    techniques { ruleCount technique { id } }
  }
}
"""


def _cell(matrix: list[dict[str, Any]], tactic: str, technique: str) -> int:
    column = next(c for c in matrix if c["tactic"]["name"] == tactic)
    count: int = next(t["ruleCount"] for t in column["techniques"]
                      if t["technique"]["id"] == technique)  # fmt: skip
    return count


def _check_matrix_scrolls(page: Page, last_tactic: str) -> None:
    """The matrix is a box that scrolls both ways, fitted to the window, tactic heads on top."""
    page.wait_for("#matrix[data-fitted]")
    box = page.script(
        "const b = document.getElementById('matrix'), r = b.getBoundingClientRect();"
        "return {sw: b.scrollWidth, cw: b.clientWidth, sh: b.scrollHeight, ch: b.clientHeight,"
        " top: r.top, bottom: r.bottom, view: window.innerHeight,"
        " page: document.documentElement.scrollHeight};"
    )
    # Wider and taller than it shows: both scrollbars are the box's, and its bottom (with the
    # horizontal scrollbar) is on screen without scrolling the page.
    assert box["sw"] > box["cw"], box
    assert box["sh"] > box["ch"], box
    assert box["top"] > 0, box
    assert box["bottom"] <= box["view"], box
    page.screenshot("matrix-windows")
    # Scrolled to its bottom right, the last tactic's head still shows at the box's top.
    heads = page.script(
        "const b = document.getElementById('matrix');"
        "b.scrollTop = b.scrollHeight; b.scrollLeft = b.scrollWidth;"
        "const head = b.querySelector(`.column[data-tactic='${arguments[0]}'] .column-head`);"
        "const r = head.getBoundingClientRect(), box = b.getBoundingClientRect();"
        "return {head: r.top, right: r.right, top: box.top, boxRight: box.right};",
        last_tactic,
    )
    assert abs(heads["head"] - heads["top"]) <= 2, heads
    assert heads["right"] <= heads["boxRight"], heads
    page.screenshot("matrix-windows-scrolled")
    page.script("const b = document.getElementById('matrix'); b.scrollTop = 0; b.scrollLeft = 0;")


def test_coverage_matrix_by_platform_and_vendor(page: Page) -> None:
    every = gql(page.base, MATRIX)["coverageMatrix"]
    elastic = gql(page.base, MATRIX, {"vendors": ["ELASTIC"]})["coverageMatrix"]

    assert page.open("#/matrix?platform=Windows") == "ready"
    assert page.find("#platform").get_attribute("value") == "Windows"
    shown = [c for c in every if c["techniqueCount"] > 0]
    assert page.texts(".column-head strong") == [c["tactic"]["name"] for c in shown]
    persistence = next(c for c in shown if c["tactic"]["name"] == "Persistence")
    column = f'.column[data-tactic="{persistence["tactic"]["id"]}"]'
    assert len(page.find_all(f"{column} .cell")) == persistence["techniqueCount"]
    cell = f'{column} .cell[data-technique="T1546.003"]'
    assert page.find(f"{cell} .cell-count").text == str(_cell(every, "Persistence", "T1546.003"))
    assert _cell(every, "Persistence", "T1546.003") >= 10
    assert "c3" in page.find(cell).get_attribute("class").split()  # 10-29 rules
    uncovered = sum(1 for t in persistence["techniques"] if t["ruleCount"] == 0)
    assert len(page.find_all(f"{column} .cell.c0")) == uncovered
    _check_matrix_scrolls(page, shown[-1]["tactic"]["id"])

    # Untick Sigma, then Splunk: the page asks again and shows Elastic's rules only.
    assert page.act(page.find('input[name=vendor][value="SIGMA"]').click) == "ready"
    assert page.act(page.find('input[name=vendor][value="SPLUNK"]').click) == "ready"
    assert page.script("return location.hash").endswith("vendors=ELASTIC")
    assert page.find(f"{cell} .cell-count").text == str(_cell(elastic, "Persistence", "T1546.003"))
    assert _cell(elastic, "Persistence", "T1546.003") < _cell(every, "Persistence", "T1546.003")
    assert "from Elastic" in page.find("#matrix-summary").text
    page.screenshot("matrix-windows-elastic")
    assert page.console_errors() == []

    # The view as an ATT&CK Navigator layer: the link asks for the same platform and vendor,
    # and the file it names scores T1546.003 with the cell's rule count.
    link = page.find("#navigator-layer").get_attribute("href")
    assert link.endswith("/navigator-layer.json?platform=Windows&vendors=ELASTIC")
    response = httpx.get(link, timeout=60)
    assert response.status_code == 200
    layer = response.json()
    assert layer["versions"]["layer"] == "4.5"
    assert layer["domain"] == "enterprise-attack"
    scored = {t["techniqueID"]: t["score"] for t in layer["techniques"] if "score" in t}
    assert scored["T1546.003"] == _cell(elastic, "Persistence", "T1546.003")


def test_coverage_matrix_with_no_vendor_ticked_says_so(page: Page) -> None:
    splunk = gql(page.base, MATRIX, {"vendors": ["SPLUNK"]})["coverageMatrix"]
    every = gql(page.base, MATRIX)["coverageMatrix"]

    assert page.open("#/matrix?platform=Windows&vendors=SIGMA") == "ready"
    assert page.find_all(".cell")
    requests = page.script("return window.covgraph.stats.requests")

    # Unticking the last vendor shows an empty state, not every vendor's rules.
    assert page.act(page.find('input[name=vendor][value="SIGMA"]').click) == "ready"
    assert page.script("return location.hash").endswith("vendors=none")
    assert page.find("#matrix-empty").text == (
        "No vendor selected: pick at least one vendor to see its coverage."
    )
    assert page.find_all(".cell") == []
    assert page.find_all("#matrix-summary") == []
    boxes = page.find_all("input[name=vendor]")
    assert len(boxes) == 3
    assert [box.is_selected() for box in boxes] == [False, False, False]
    # Nothing was asked of the API for it.
    assert page.script("return window.covgraph.stats.requests") == requests
    page.screenshot("matrix-no-vendor")

    # The platform can still change, and the page still says to pick a vendor.
    assert page.act(lambda: _select(page, "#platform", "Linux")) == "ready"
    assert "platform=Linux" in page.script("return location.hash")
    assert page.find_all("#matrix-empty")

    # Ticking one vendor again draws that vendor's coverage.
    assert page.act(lambda: _select(page, "#platform", "Windows")) == "ready"
    assert page.act(page.find('input[name=vendor][value="SPLUNK"]').click) == "ready"
    assert page.script("return location.hash").endswith("vendors=SPLUNK")
    cell = '.column .cell[data-technique="T1546.003"] .cell-count'
    assert page.find(cell).text == str(_cell(splunk, "Persistence", "T1546.003"))
    assert _cell(splunk, "Persistence", "T1546.003") < _cell(every, "Persistence", "T1546.003")
    assert "from Splunk" in page.find("#matrix-summary").text
    assert page.console_errors() == []


def _select(page: Page, css: str, text: str) -> None:
    from selenium.webdriver.support.ui import Select

    Select(page.find(css)).select_by_visible_text(text)


OVERLAP = """
query($ids: [String!]!) {
  indicatorOverlap(techniqueIds: $ids, first: 100, includeEventSelectors: false) {
    field { name } operator value corpusReach ruleCountByTechnique { ruleCount }
  }
  similarTechniques(id: "T1546.003", first: 10, includeEventSelectors: false) {
    technique { id } }
}
"""


def test_overlap_of_two_techniques(page: Page) -> None:
    api = gql(page.base, OVERLAP, {"ids": ["T1546.003", "T1047"]})
    shared = api["indicatorOverlap"]

    assert page.open("#/overlap?ids=T1546.003,T1047") == "ready"
    assert page.texts("table.overlap thead th")[3:5] == ["T1546.003", "T1047"]
    keys = [row.get_attribute("data-key") for row in page.find_all("table.overlap tbody tr")]
    assert keys == [_key(row) for row in shared]
    wmic = next(row for row in shared if _key(row) == "process.name|eq|wmic.exe")
    counts = [str(c["ruleCount"]) for c in wmic["ruleCountByTechnique"]]
    assert _row(page, "overlap", "process.name|eq|wmic.exe") == [
        "process.name", "eq", "wmic.exe", *counts, str(wmic["corpusReach"]),
    ]  # fmt: skip
    assert all(int(count) > 0 for count in counts)
    similar = page.texts("table.similar tbody tr td:first-child")
    assert similar == [s["technique"]["id"] for s in api["similarTechniques"]]
    page.screenshot("overlap-T1546.003-T1047")

    # An unknown id keeps the form, with the ids as typed, and says which id is unknown.
    assert page.open("#/overlap?ids=T1546.003,T9999") == "ready"
    assert page.find("#overlap-ids").get_attribute("value") == "T1546.003, T9999"
    assert "unknown technique id: T9999" in page.find("#overlap-error").text
    assert page.find_all(".banner.error") == []


def test_overlap_of_one_technique_suggests_similar_ones(page: Page) -> None:
    similar = gql(
        page.base,
        '{ similarTechniques(id: "T1546.003", first: 10, includeEventSelectors: false)'
        " { technique { id } } }",
    )["similarTechniques"]
    assert page.open("#/overlap?ids=T1546.003") == "ready"
    assert "T1546.003" in page.find("#overlap-hint").text
    rows = page.find_all("table.similar tbody tr")
    assert [row.find_element("css selector", "a").text for row in rows] == [
        s["technique"]["id"] for s in similar
    ]
    first = similar[0]["technique"]["id"]
    add = rows[0].find_elements("css selector", "a")[-1]
    assert add.text == "add"
    assert page.act(add.click) == "ready"
    assert page.find("#overlap-ids").get_attribute("value") == f"T1546.003, {first}"
    assert page.texts("table.overlap thead th")[3:5] == ["T1546.003", first]


OVERLAP_THREE = """
query($ids: [String!]!) {
  indicatorOverlap(techniqueIds: $ids, first: 100, includeEventSelectors: false) {
    field { name } operator value corpusReach
    ruleCountByTechnique { ruleCount technique { id name } }
  }
}
"""

THREE = ["T1546.003", "T1047", "T1053.005"]


def test_overlap_of_three_techniques(page: Page) -> None:
    shared = gql(page.base, OVERLAP_THREE, {"ids": THREE})["indicatorOverlap"]
    first = shared[0]["ruleCountByTechnique"]
    names = {c["technique"]["id"]: c["technique"]["name"] for c in first}
    assert names == {
        "T1546.003": "Windows Management Instrumentation Event Subscription",
        "T1047": "Windows Management Instrumentation",
        "T1053.005": "Scheduled Task",
    }
    in_all = [r for r in shared if all(c["ruleCount"] > 0 for c in r["ruleCountByTechnique"])]
    # The three share indicators, some checked by all three and some by two of them only.
    assert in_all
    assert len(in_all) < len(shared)

    assert page.open("#/overlap?ids=T1546.003,T1047,T1053.005") == "ready"
    assert page.find("#overlap-ids").get_attribute("value") == "T1546.003, T1047, T1053.005"
    # textContent: the headings are shown upper case by the style sheet.
    headings = page.find_all("table.overlap thead th")
    assert [th.get_attribute("textContent") for th in headings] == [
        "field", "op", "value", *THREE, "corpus reach",
    ]  # fmt: skip
    links = page.find_all("table.overlap thead th a")
    assert [a.get_attribute("title") for a in links] == [names[i] for i in THREE]
    suffix = "+" if len(shared) == 100 else ""
    assert page.find("#shared h2").text == f"Shared indicators ({len(shared)}{suffix})"

    # Every row, in the API's order, with its three rule counts and its corpus reach.
    rows = page.find_all("table.overlap tbody tr")
    assert [row.get_attribute("data-key") for row in rows] == [_key(r) for r in shared]
    for row, expected in zip(rows, shared, strict=True):
        # Compared as the browser shows text: runs of white space as one space.
        cells = [" ".join(cell.text.split()) for cell in row.find_elements("css selector", "td")]
        field = expected["field"]["name"] if expected["field"] else "*"
        assert cells == [
            field,
            expected["operator"],
            " ".join(expected["value"].split()) if expected["value"] != "" else "(empty)",
            *(str(c["ruleCount"]) for c in expected["ruleCountByTechnique"]),
            str(expected["corpusReach"]),
        ]
        misses = [cell.text for cell in row.find_elements("css selector", "td.miss")]
        assert len(misses) == sum(1 for c in expected["ruleCountByTechnique"] if not c["ruleCount"])

    # The list of techniques compared: names and how many listed indicators each checks.
    compared = page.find_all("#compared li")
    assert [li.get_attribute("data-technique") for li in compared] == THREE
    for i, (li, technique) in enumerate(zip(compared, THREE, strict=True)):
        assert names[technique] in li.text
        checks = sum(1 for r in shared if r["ruleCountByTechnique"][i]["ruleCount"] > 0)
        assert li.find_element("css selector", ".checks").text == str(checks)
    assert page.find("#in-all").text.startswith(f"{len(in_all)} listed indicators")
    page.screenshot("overlap-three-techniques")
    assert page.console_errors() == []


RULES = """
query {
  all: rules(field: "process.name", value: "wmic.exe") { totalCount }
  sigma: rules(field: "process.name", value: "wmic.exe", vendor: SIGMA) { totalCount }
  elastic: rules(field: "process.name", value: "wmic.exe", vendor: ELASTIC) { totalCount }
  splunk: rules(field: "process.name", value: "wmic.exe", vendor: SPLUNK) { totalCount }
}
"""


def test_rules_checking_a_value_across_vendors(page: Page) -> None:
    api = gql(page.base, RULES)

    assert page.open("#/rules?field=process.name&value=wmic.exe") == "ready"
    assert page.find("#rules-total").text == f"{api['all']['totalCount']} current rules"
    for vendor in ("sigma", "elastic", "splunk"):
        label = page.find(f'.summary [data-vendor="{vendor.upper()}"]').text
        assert label == f"{vendor.capitalize()} {api[vendor]['totalCount']}"
        assert api[vendor]["totalCount"] > 0
    rows = page.find_all("table.rules-list tbody tr")
    assert len(rows) == min(100, api["all"]["totalCount"])
    if api["all"]["totalCount"] > 100:
        page.find("#more-rules").click()
        page.wait_for("table.rules-list tbody tr:nth-child(101)")
    assert page.console_errors() == []


RULE = """
query($uid: String!) {
  rule(uid: $uid) { title predicates { field { name } operator value negated caseSensitive } }
}
"""


def _rule_rows(page: Page, uid: str) -> tuple[dict[str, Any], list[list[str]]]:
    rule = gql(page.base, RULE, {"uid": uid})["rule"]
    assert page.open(f"#/rule/{uid.replace(':', '%3A')}") == "ready"
    rows = [
        [cell.text for cell in row.find_elements("css selector", "td")]
        for row in page.find_all("table.predicates tbody tr")
    ]
    return rule, rows


def test_a_rule_page_lists_every_check(page: Page) -> None:
    rule, rows = _rule_rows(page, WMI_PERSISTENCE)
    assert page.find("h1").text == rule["title"] == "WMI Persistence"
    assert len(rows) == len(rule["predicates"])
    # Keyword checks name no field: "any field"; exclusions are flagged.
    keywords = [r for r in rows if r[0] == "any field"]
    assert len(keywords) == sum(p["field"]["name"] == "*" for p in rule["predicates"]) > 0
    assert all(r[2] == "match" for r in keywords)
    excluded = [r for r in rows if "excluded" in r[4]]
    assert len(excluded) == sum(p["negated"] for p in rule["predicates"]) == 4

    # An Elastic rule comparing with case says so on that check.
    cased = gql(
        page.base,
        """{ rules(field: "process.pe.original_file_name", value: "PowerShell.EXE",
                   vendor: ELASTIC, first: 1) { nodes { uid } } }""",
    )["rules"]["nodes"]
    rule, rows = _rule_rows(page, cased[0]["uid"])
    flagged = [r for r in rows if "case-sensitive" in r[4]]
    assert len(flagged) == sum(p["caseSensitive"] for p in rule["predicates"]) > 0
    assert any(r[3] == "PowerShell.EXE" for r in flagged)
    assert page.console_errors() == []


def test_catalog_unavailable_is_a_readable_banner(
    browser: Any, outage_url: str, tmp_path: Any
) -> None:
    page = Page(browser, outage_url, tmp_path)
    assert page.open("#/technique/T1546.003") == "error"
    banner = page.find(".banner.error")
    assert banner.get_attribute("data-code") == "CATALOG_UNAVAILABLE"
    assert "The coverage catalog is unavailable" in banner.text
    assert "HTTP 503" in banner.text
    assert page.find_all(".banner button")  # a retry button
    page.screenshot("catalog-unavailable")


def test_a_corpus_reach_link_lists_that_many_rules(page: Page) -> None:
    guide = gql(page.base, TECHNIQUE, {"id": "T1047"})["technique"]["authoringGuide"]
    # The top indicator, and the first exclusion (once counted 2 against a list of 24).
    cases = [("indicators", guide["indicators"][0])]
    cases += [("exclusions", e) for e in guide["exclusions"][:1]]
    for table, row in cases:
        assert page.open("#/technique/T1047") == "ready"
        link = page.find(f'table.{table} tr[data-key="{_key(row)}"] td.reach a')
        href = link.get_attribute("href")
        assert link.text == str(row["corpusReach"])
        assert page.open(href[href.index("#") :]) == "ready"
        total = page.find("#rules-total").text
        assert total == f"{row['corpusReach']} current rule{'s' if row['corpusReach'] != 1 else ''}"
    assert page.console_errors() == []


def test_an_indicator_rows_counts_open_the_technique_rules_behind_them(page: Page) -> None:
    guide = gql(page.base, TECHNIQUE, {"id": "T1546.003"})["technique"]["authoringGuide"]
    wmic = next(i for i in guide["indicators"] if _key(i) == "process.name|eq|wmic.exe")
    row = 'table.indicators tr[data-key="process.name|eq|wmic.exe"]'
    assert page.open("#/technique/T1546.003") == "ready"
    assert page.act(page.find(f"{row} td.rules a").click) == "ready"
    assert page.find("#rules-total").text == f"{wmic['ruleCount']} current rules"
    # One vendor's chip: that vendor's rules among them; the list's own vendor counts link too.
    vendor = next(v for v in wmic["byVendor"] if v["ruleCount"])
    assert page.act(page.find(f'.rules-page .summary a[data-vendor="{vendor["vendor"]}"]').click)
    assert page.find("#rules-total").text.startswith(f"{vendor['ruleCount']} current rule")
    assert page.open("#/technique/T1546.003") == "ready"
    chip = page.find(f'{row} td.vendors a[data-vendor="{vendor["vendor"]}"]')
    assert chip.text == f"{vendor['vendor'].title()} {vendor['ruleCount']}"
    assert page.act(chip.click) == "ready"
    assert page.find("#rules-total").text.startswith(f"{vendor['ruleCount']} current rule")
    assert all(
        badge.text == vendor["vendor"].title()
        for badge in page.find_all("table.rules-list tbody td .vendor")
    )
