"""The home page in headless Chromium: each figure says what it counts."""

from __future__ import annotations

import pytest
from browser_page import Page, gql

pytestmark = [pytest.mark.browser, pytest.mark.corpus, pytest.mark.neo4j]

CATALOG = """{ catalog { ruleCount deprecatedRuleCount indicatorCount currentIndicatorCount
  sources { vendor ruleCount currentRuleCount } } }"""


def test_summary_tells_current_rules_and_indicators_from_all(page: Page) -> None:
    catalog = gql(page.base, CATALOG)["catalog"]
    assert page.open("#/") == "ready"
    text = page.find("#home-summary").text
    assert f"{catalog['ruleCount']:,} current rules" in text
    assert f"({catalog['deprecatedRuleCount']:,} deprecated not counted)" in text
    # Indicators are the values current rules check positively; the graph holds more.
    assert catalog["currentIndicatorCount"] < catalog["indicatorCount"]
    assert f"{catalog['currentIndicatorCount']:,} indicators (values current rules check" in text
    assert f"of {catalog['indicatorCount']:,} values in the graph" in text


def test_sources_table_shows_current_and_read_rules(page: Page) -> None:
    catalog = gql(page.base, CATALOG)["catalog"]
    assert page.open("#/") == "ready"
    heads = [th.text.lower() for th in page.find_all("table.sources th")]
    assert heads[3:] == ["current rules", "rules read (deprecated included)"]
    rows = [
        [td.text for td in tr.find_elements("css selector", "td")]
        for tr in page.find_all("table.sources tbody tr")
    ]
    by_label = {row[0]: row for row in rows}
    sigma = next(s for s in catalog["sources"] if s["vendor"] == "SIGMA")
    assert by_label["Sigma"][3:] == [f"{sigma['currentRuleCount']:,}", f"{sigma['ruleCount']:,}"]
    current = sum(s["currentRuleCount"] or 0 for s in catalog["sources"])
    assert current == catalog["ruleCount"]
    page.screenshot("home")
