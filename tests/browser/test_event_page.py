"""The event page: the rules that need an event, and the techniques ATT&CK reads it for."""

from __future__ import annotations

import pytest
from browser_page import Page, gql

pytestmark = [pytest.mark.browser, pytest.mark.corpus, pytest.mark.neo4j]

EVENT = """query($id: String!) { event(id: $id) { name ruleCount techniques(first: 50) { id }
  attackTechniques(first: 200) { technique { id } analytics ruleCount }
  attackTechniqueCount noRule: attackTechniqueCount(noRule: true) } }"""


def test_an_event_attack_names_that_no_rule_reads(page: Page) -> None:
    # T1546.003's strategy reads WMI-Activity 5857; no rule of the corpus observes it.
    api = gql(page.base, EVENT, {"id": "wmi-activity:5857"})["event"]
    assert api["ruleCount"] == 0
    assert page.open("#/technique/T1546.003") == "ready"
    link = page.find('table.attack-events a.event-id[href$="event/wmi-activity%3A5857"]')
    assert page.act(link.click) == "ready"
    assert page.find("h1").text == f"wmi-activity:5857 {api['name']}"
    assert page.find("#event-rules").text == "0 current rules"
    uses = api["attackTechniques"]
    rows = [
        [cell.text.strip() for cell in row.find_elements("css selector", "td")]
        for row in page.find_all("table.event-attack tbody tr")
    ]
    assert [(r[0], r[2], r[3]) for r in rows] == [
        (u["technique"]["id"], ", ".join(u["analytics"]), str(u["ruleCount"])) for u in uses
    ]
    assert "T1546.003" in [r[0] for r in rows]
    assert (
        f"{len(uses)} of {len(uses)} have no such rule." in page.find("#event-attack p.note").text
    )
    assert page.console_errors() == []


def test_an_event_the_rules_need(page: Page) -> None:
    api = gql(page.base, EVENT, {"id": "sysmon:1"})["event"]
    assert page.open("#/event/sysmon:1") == "ready"
    assert page.driver.title == f"sysmon:1 {api['name']} · covgraph"
    total = f"{api['ruleCount']:,} current rules"
    assert page.find("#event-rules").text == total
    shown = [li.get_attribute("data-technique") for li in page.find_all("#event-techniques li")]
    assert shown == [t["id"] for t in api["techniques"]]
    attack = page.find_all("table.event-attack tbody tr")
    assert [row.get_attribute("data-technique") for row in attack] == [
        u["technique"]["id"] for u in api["attackTechniques"]
    ]
    # ATT&CK reads sysmon:1 for more techniques than the list shows: the card says so, and
    # counts the gaps over all of them.
    read_for, gaps = api["attackTechniqueCount"], api["noRule"]
    assert read_for > len(attack) == 200
    assert page.find("#event-attack h2").text == f"ATT&CK reads it for ({read_for})"
    note = page.find("#event-attack p.note").text
    assert f" {gaps} of {read_for} have no such rule. The first 200 by id are shown." in note
    assert gaps >= sum(u["ruleCount"] == 0 for u in api["attackTechniques"])
    page.screenshot("event-sysmon-1")
    # All the techniques its rules detect (more than the first 50): detectableWith's, by count.
    detectable = gql(page.base, '{ detectableWith(eventIds: ["sysmon:1"]) { id } }')
    every = {t["id"] for t in detectable["detectableWith"]}
    assert page.find("#event-techniques h2").text == f"Techniques its rules detect ({len(every)})"
    page.script("arguments[0].click()", page.find("#event-techniques-more"))
    page.wait_for(f"#event-techniques li:nth-child({len(every)})")
    listed = [li.get_attribute("data-technique") for li in page.find_all("#event-techniques li")]
    assert len(listed) == len(set(listed)) == len(every) > 50
    assert set(listed) == every
    assert page.find_all("#event-techniques-more") == []
    # Each technique says how many of the event's rules detect it, linking to them.
    usage = gql(page.base, '{ event(id: "sysmon:1") { techniqueUsage(first: 1) { ruleCount '
                "technique { id } } } }")["event"]["techniqueUsage"][0]  # fmt: skip
    first = page.find("#event-techniques li a.rule-count")
    assert first.text == f"{usage['ruleCount']:,} rules"
    assert first.get_attribute("href").endswith(
        f"#/rules?technique={usage['technique']['id']}&event=sysmon%3A1"
    )
    collect = page.find("#event-collect").get_attribute("href")
    assert collect.endswith("#/collect?events=sysmon%3A1")
    # The rule count links to the list of those rules.
    assert page.act(page.find("#event-rules").click) == "ready"
    assert page.find("#rules-total").text == total
    assert page.find("#rules-event a").get_attribute("href").endswith("#/event/sysmon%3A1")


def test_an_unknown_event_says_so(page: Page) -> None:
    assert page.open("#/event/no-such-event") == "ready"
    assert "no-such-event" in page.find("#event-unknown").text
