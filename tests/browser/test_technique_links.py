"""Links beside a technique page's counts open lists of exactly that many rules."""

from __future__ import annotations

import pytest
from browser_page import Page

pytestmark = [pytest.mark.browser, pytest.mark.corpus, pytest.mark.neo4j]


def _follow(page: Page, css: str) -> tuple[str, str]:
    """The count beside the link in its row, and the rules total of the list it opens."""
    link = page.find(css)
    count = link.find_element("xpath", "./ancestor::tr").find_element("css selector", "td.num").text
    assert page.act(link.click) == "ready"
    return count, page.find("#rules-total").text


@pytest.mark.parametrize(
    ("route", "css"),
    [
        ("#/technique/T1546.003", 'table.events a.event-id[href*="event=sysmon%3A1"]'),
        ("#/technique/T1546.003", 'table.fields a.field[href*="field=dll.name"]'),
        ("#/technique/T1059?sub=1", 'table.events a.event-id[href*="event=sysmon%3A1"]'),
    ],
)
def test_event_and_field_links_list_the_rules_counted(page: Page, route: str, css: str) -> None:
    assert page.open(route) == "ready"
    count, total = _follow(page, css)
    assert total in (f"{count} rules", f"{count} current rules", f"{count} current rule")
    assert "tagged with T1" in page.find(".rules-page .summary").text
