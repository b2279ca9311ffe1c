"""The log collection page over the corpus: what the rules detect with the events collected,
checked against `detectableWith` (Cypher) while the page reads `collection` (in memory)."""

from __future__ import annotations

import re

import pytest
from browser_page import Page, gql

pytestmark = [pytest.mark.browser, pytest.mark.corpus, pytest.mark.neo4j]

DETECTABLE = "query($ids: [String!]!) { detectableWith(eventIds: $ids) { id } }"
REACHABLE = """{ collection(eventIds: []) { reachableRuleCount reachableTechniqueCount
  plan(steps: 3, platform: "windows") { event { id } techniqueCount } } }"""


def _detectable(page: Page, ids: list[str]) -> int:
    return len(gql(page.base, DETECTABLE, {"ids": ids})["detectableWith"])


def _number(text: str) -> int:
    return int(text.replace(",", "").lstrip("+"))


def test_plan_next_and_search_agree_with_detectable_with(page: Page) -> None:
    reach = gql(page.base, REACHABLE)["collection"]
    assert page.open("#/collect?platform=windows") == "ready"
    summary = page.find("#collect-summary").text
    assert summary.startswith(
        f"0 of the {reach['reachableRuleCount']:,} current rules that observe a catalog event "
        f"can fire; they detect 0 techniques of the {reach['reachableTechniqueCount']:,}"
    )
    # The plan's first Windows step is process creation, and its totals are detectableWith's.
    steps = page.find_all("#collect-plan tbody tr")
    planned = [s.get_attribute("data-event") for s in steps]
    assert planned[:3] == [p["event"]["id"] for p in reach["plan"]]
    assert planned[0] == "sysmon:1"
    windows = gql(
        page.base, '{ collection(eventIds: []) { platformTechniqueCount(platform: "windows") } }'
    )
    every = windows["collection"]["platformTechniqueCount"]
    assert f"and of the {every:,} they could with every windows event (0%)." in summary
    totals = [_number(s.find_element("css selector", "td.total").text) for s in steps]
    assert totals == sorted(totals)
    assert totals[1] == _detectable(page, planned[:2])

    assert page.act(steps[0].find_element("css selector", "a.take").click) == "ready"
    assert "events=sysmon%3A1" in page.script("return window.location.hash")
    assert page.texts("#collect-events .event-chip a:first-child") == ["sysmon:1"]
    sysmon = _detectable(page, ["sysmon:1"])
    assert f"they detect {sysmon:,} techniques" in page.find("#collect-summary").text

    # The best next event adds what detectableWith says it adds.
    best = page.find("#collect-next tbody tr")
    event = best.get_attribute("data-event")
    gain = _number(best.find_element("css selector", "td.techniques").text)
    assert gain > 0
    assert _detectable(page, ["sysmon:1", event]) == sysmon + gain
    for row in page.find_all("#collect-next tbody tr"):
        assert not row.get_attribute("data-event").startswith("linux")  # platform: windows

    # Adding by search: 4688 finds the Security event; its link adds it.
    search = page.find("#collect-search")
    search.send_keys("4688")
    link = page.wait_for('#collect-found a[data-event="windows-security:4688"]')[0]
    assert page.act(link.click) == "ready"
    assert page.texts("#collect-events .event-chip a:first-child") == [
        "sysmon:1",
        "windows-security:4688",
    ]
    both = _detectable(page, ["sysmon:1", "windows-security:4688"])
    assert f"they detect {both:,} techniques" in page.find("#collect-summary").text
    page.screenshot("collect-windows")
    # Removing a chip takes it out again.
    remove = page.find('#collect-events .event-chip[data-event="sysmon:1"] a.remove')
    assert page.act(remove.click) == "ready"
    assert page.texts("#collect-events .event-chip a:first-child") == ["windows-security:4688"]
    assert page.console_errors() == []


def test_unknown_events_are_named_and_ignored(page: Page) -> None:
    assert page.open("#/collect?events=sysmon:1,nope:42") == "ready"
    assert page.find("#collect-unknown").text == "Not catalog events (ignored): nope:42."
    sysmon = _detectable(page, ["sysmon:1"])
    assert re.search(rf"they detect {sysmon:,} techniques", page.find("#collect-summary").text)


def test_one_vendors_rules(page: Page) -> None:
    query = """{ collection(eventIds: ["sysmon:1"], vendors: [ELASTIC]) {
      ruleCount techniqueCount reachableRuleCount next(first: 1, platform: "windows") {
        event { id } } } }"""
    api = gql(page.base, query)["collection"]
    assert page.open("#/collect?events=sysmon:1&platform=windows&vendors=ELASTIC") == "ready"
    summary = page.find("#collect-summary").text
    assert summary.startswith(
        f"{api['ruleCount']:,} of the {api['reachableRuleCount']:,} current Elastic rules"
    )
    assert f"they detect {api['techniqueCount']:,} techniques" in summary
    first = page.find("#collect-next tbody tr").get_attribute("data-event")
    assert first == api["next"][0]["event"]["id"]
    ticked = [b.get_attribute("value") for b in page.find_all("input[name=collect-vendor]")
              if b.is_selected()]  # fmt: skip
    assert ticked == ["ELASTIC"]
    # Links keep the vendor: adding the first suggestion stays on Elastic's rules.
    assert "vendors=ELASTIC" in page.find("#collect-next a.add").get_attribute("href")


def test_an_inventory_is_pasted_whole(page: Page) -> None:
    assert page.open("#/collect?events=sysmon:1") == "ready"
    page.script("document.querySelector('details.paste').open = true")
    page.find("#collect-paste").send_keys("sysmon:3, windows-security:4688\nnope:9 sysmon:1")
    assert page.act(page.find("#collect-paste-add").click) == "ready"
    assert page.texts("#collect-events .event-chip a:first-child") == [
        "sysmon:1",
        "sysmon:3",
        "windows-security:4688",
    ]
    assert page.find("#collect-unknown").text == "Not catalog events (ignored): nope:9."
    every = _detectable(page, ["sysmon:1", "sysmon:3", "windows-security:4688"])
    assert f"they detect {every:,} techniques" in page.find("#collect-summary").text
