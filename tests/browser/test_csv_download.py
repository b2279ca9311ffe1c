"""The technique page's tables download as CSV: header and the rows shown, as read on screen."""

from __future__ import annotations

import csv
import io

import pytest
from browser_page import Page, gql

pytestmark = [pytest.mark.browser, pytest.mark.corpus, pytest.mark.neo4j]

# Clicks the card's CSV link without leaving the page, and reads the file it made.
READ_CSV = """
const link = document.querySelector(arguments[0]);
link.addEventListener("click", (event) => event.preventDefault());
link.dispatchEvent(new MouseEvent("click", { bubbles: true, cancelable: true }));
return fetch(link.href).then((response) => response.text());
"""


def test_the_indicators_card_downloads_what_it_shows(page: Page) -> None:
    guide = gql(page.base, """{ technique(id: "T1546.003") { authoringGuide {
        indicators(first: 40, includeEventSelectors: false) {
          field { name } operator value ruleCount corpusReach } } } }""")  # fmt: skip
    rows = guide["technique"]["authoringGuide"]["indicators"]
    assert page.open("#/technique/T1546.003") == "ready"
    link = page.find('[data-list="indicators"] a.csv')
    assert link.get_attribute("download") == "T1546.003-indicators.csv"
    text = page.script(READ_CSV, '[data-list="indicators"] a.csv')
    table = list(csv.reader(io.StringIO(text)))
    header, body = table[0], table[1:]
    assert len(body) == len(rows)
    field, value, rules, reach = (
        header.index(name) for name in ("field", "value", "rules", "corpus reach")
    )
    for line, row in zip(body, rows, strict=True):
        assert line[field] == row["field"]["name"]
        if row["value"]:
            assert line[value] == row["value"]
        assert (int(line[rules]), int(line[reach])) == (row["ruleCount"], row["corpusReach"])


def test_the_gap_list_and_the_values_download(page: Page) -> None:
    assert page.open("#/matrix?vendors=SIGMA,ELASTIC&gap=ELASTIC") == "ready"
    rows = page.find_all("#gap-list tbody tr")
    text = page.script(READ_CSV, "#gap-list a.csv")
    table = list(csv.reader(io.StringIO(text)))
    assert table[0] == ["technique", "name", "rules from the others"]
    assert [line[0] for line in table[1:]] == [
        r.find_element("css selector", "td").text for r in rows
    ]
    assert page.open("#/indicators?search=procdump") == "ready"
    values = list(csv.reader(io.StringIO(page.script(READ_CSV, "#indicators-found a.csv"))))
    shown = page.find_all("#indicators-found tbody tr")
    assert len(values) == len(shown) + 1
    assert all("procdump" in line[values[0].index("value")].lower() for line in values[1:])
