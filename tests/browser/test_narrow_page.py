"""At 800 px the tables fit their cards and values wrap between their parts, not inside words."""

from __future__ import annotations

import pytest
from browser_page import HEIGHT, WIDTH, Page

pytestmark = [pytest.mark.browser, pytest.mark.corpus, pytest.mark.neo4j]

# Per value: its key, its text, and the parts between break opportunities (<wbr>) that are
# themselves broken over several lines.
LINES = """
return [...document.querySelectorAll(arguments[0])].map((row) => {
  const value = row.querySelector('td.value code');
  const broken = [...value.childNodes].filter((node) => {
    if (node.nodeType !== Node.TEXT_NODE) return false;
    const range = document.createRange();
    range.selectNodeContents(node);
    return range.getClientRects().length > 1;
  }).map((node) => node.textContent);
  return [row.dataset.key, value.textContent, broken];
});"""


@pytest.mark.parametrize(
    ("route", "table"),
    [
        ("#/overlap?ids=T1546.003,T1047,T1059.001", "table.overlap"),
        ("#/technique/T1546.003", "table.indicators"),
        ("#/technique/T1059.001", "table.indicators"),
    ],
)
def test_narrow_tables_fit_and_wrap_between_parts(page: Page, route: str, table: str) -> None:
    page.driver.set_window_size(800, 900)
    try:
        assert page.open(route) == "ready"
        # No horizontal scroll bar on the page.
        assert page.script(
            "return document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        )
        rows = page.script(LINES, f"{table} tbody tr")
        assert rows
        for key, _, broken in rows:
            # Values wrap between their parts (after a separator), never inside one.
            assert broken == [], key
        # The text is the value as is: the break opportunities add no character.
        assert all(text == key.split("|", 2)[2] for key, text, _ in rows if text != "(empty)")
        page.screenshot(f"narrow-{table.split('.')[1]}")
    finally:
        page.driver.set_window_size(WIDTH, HEIGHT)
