"""The matrix's gap view, over the corpus: the techniques other vendors cover and one does not.

The page works the gaps out from the matrix's per-vendor counts; the API's
`techniques(vendor:, uncoveredBy:)` filter works them out in Cypher. The two must agree.
"""

from __future__ import annotations

import re

import httpx
import pytest
from browser_page import Page, gql

pytestmark = [pytest.mark.browser, pytest.mark.corpus, pytest.mark.neo4j]

GAPS = """
query($vendor: Vendor, $covered: Boolean, $uncoveredBy: [Vendor!], $after: String) {
  techniques(vendor: $vendor, covered: $covered, uncoveredBy: $uncoveredBy, first: 200,
             after: $after) {
    totalCount pageInfo { hasNextPage endCursor } nodes { id }
  }
}
"""


def _ids(page: Page, **variables: object) -> list[str]:
    """Every technique the filter gives, page after page (200 a page at most)."""
    ids: list[str] = []
    after = None
    while True:
        found = gql(page.base, GAPS, {**variables, "after": after})["techniques"]
        ids += [t["id"] for t in found["nodes"]]
        if not found["pageInfo"]["hasNextPage"]:
            assert len(ids) == found["totalCount"]
            return ids
        after = found["pageInfo"]["endCursor"]


def test_elastic_gaps_against_sigma_are_the_api_filter(page: Page) -> None:
    gaps = _ids(page, vendor="SIGMA", uncoveredBy=["ELASTIC"])
    by_sigma = _ids(page, vendor="SIGMA")
    assert 0 < len(gaps) < len(by_sigma)

    assert page.open("#/matrix?vendors=SIGMA,ELASTIC&gap=ELASTIC") == "ready"
    summary = page.find("#matrix-gaps").text
    assert summary.startswith(
        f"Elastic has no rule for {len(gaps):,} techniques of the {len(by_sigma):,} "
        "that Sigma covers"
    )
    legend = page.find("#matrix-legend").text
    assert "no Elastic rule" in legend
    assert "Elastic covers it" in legend
    outlined = {c.get_attribute("data-technique") for c in page.find_all("#matrix .cell.gap")}
    assert outlined == set(gaps)
    # T1047 (WMI) has Elastic rules: dimmed, not a gap.
    assert all("dim" in c.get_attribute("class").split()
               for c in page.find_all('#matrix .cell[data-technique="T1047"]'))  # fmt: skip
    assert page.find("#gap-list h2").text == f"Elastic gaps ({len(gaps):,})"
    rows = page.find_all("#gap-list tbody tr")
    assert sorted(r.find_element("css selector", "td a").text for r in rows) == sorted(gaps)
    # Most Sigma rules first; each row's chips are Sigma's only.
    counts = [int(re.sub(r"\D", "", r.find_element("css selector", "td.vendors").text))
              for r in rows]  # fmt: skip
    assert counts == sorted(counts, reverse=True)
    assert counts[0] > 1
    assert all(r.find_element("css selector", "td.vendors").text.startswith("Sigma ") for r in rows)
    # The download is the same gaps as a Navigator layer.
    href = page.find("#navigator-layer").get_attribute("href")
    assert href.endswith("navigator-layer.json?vendors=SIGMA%2CELASTIC&gapsOf=ELASTIC")
    layer = httpx.get(href, timeout=60).json()
    assert sorted(t["techniqueID"] for t in layer["techniques"]) == sorted(gaps)
    page.screenshot("matrix-gaps-elastic")
    assert page.console_errors() == []


def test_gap_select_compares_with_every_other_vendor(page: Page) -> None:
    assert page.open("#/matrix") == "ready"
    assert page.find_all("#matrix-gaps") == []
    select = page.find("#gap")
    assert page.act(lambda: select.find_element("css selector", 'option[value="SPLUNK"]').click())
    assert "gap=SPLUNK" in page.script("return window.location.hash")
    gaps = _ids(page, covered=True, uncoveredBy=["SPLUNK"])
    covered = _ids(page, covered=True)
    # Techniques only Splunk covers are not among "those Sigma or Elastic cover".
    only_splunk = set(_ids(page, covered=True, uncoveredBy=["SIGMA", "ELASTIC"]))
    by_others = set(covered) - only_splunk
    assert set(gaps) <= by_others
    summary = page.find("#matrix-gaps").text
    assert summary.startswith(
        f"Splunk has no rule for {len(gaps):,} techniques of the {len(by_others):,} "
        "that Sigma or Elastic cover"
    )
    assert len(page.find_all("#gap-list tbody tr")) == len(gaps)


def test_an_unticked_gap_vendor_counts_nowhere_but_in_the_marks(page: Page) -> None:
    """Gaps of Elastic with only Sigma ticked: heads, cells and summary count Sigma's rules."""
    by_sigma = _ids(page, vendor="SIGMA")
    assert page.open("#/matrix?gap=elastic&vendors=sigma&platform=windows") == "ready"
    assert page.find("#platform").get_attribute("value") == "Windows"
    assert page.find("#gap").get_attribute("value") == "ELASTIC"
    sigma_windows = gql(page.base, """{ coverageMatrix(platform: "Windows", vendors: [SIGMA]) {
        techniques { ruleCount technique { id } } } }""")["coverageMatrix"]  # fmt: skip
    counts = {c["technique"]["id"]: c["ruleCount"] for t in sigma_windows for c in t["techniques"]}
    covered = sum(1 for n in counts.values() if n)
    assert f": {covered:,} (" in page.find("#matrix-summary").text
    for cell in page.find_all("#matrix .cell")[:200]:
        tid = cell.get_attribute("data-technique")
        assert cell.find_element("css selector", ".cell-count").text == f"{counts[tid]:,}", tid
    assert covered <= len(by_sigma)


def test_no_gap_and_nothing_to_compare_are_said_so(page: Page) -> None:
    assert page.open("#/matrix?gap=ELASTIC&vendors=ELASTIC") == "ready"
    assert page.find("#matrix-gaps").text == "Tick another vendor to compare Elastic with."
    assert page.find_all("#matrix .cell.dim") == []
    assert "gapsOf" not in page.find("#navigator-layer").get_attribute("href")
    # A platform where Elastic covers every technique the others cover says so, and lists
    # nothing; which platform that is comes from the API's own filter.
    query = """query($p: String) { techniques(platform: $p, covered: true,
        uncoveredBy: [ELASTIC], first: 1) { totalCount } }"""
    platform = next(
        p
        for p in ("Containers", "SaaS", "Office Suite", "Identity Provider", "IaaS", "Linux")
        if gql(page.base, query, {"p": p})["techniques"]["totalCount"] == 0
    )
    assert page.open(f"#/matrix?platform={platform}&gap=ELASTIC") == "ready"
    assert page.find("#matrix-gaps").text.startswith("Elastic has a rule for every one of the ")
    assert page.find_all("#matrix .cell.gap") == []
    assert page.find_all("#gap-list") == []
