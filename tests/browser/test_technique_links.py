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


FIELDS = """query($id: String!) { technique(id: $id) { authoringGuide {
  distinctFieldCount fields(first: 200) { field { name } ruleCount } } } }"""


def test_show_all_draws_every_field(page: Page) -> None:
    from browser_page import gql
    from selenium.webdriver.support.ui import WebDriverWait

    guide = gql(page.base, FIELDS, {"id": "T1546.003"})["technique"]["authoringGuide"]
    total = guide["distinctFieldCount"]
    assert total > 20
    assert page.open("#/technique/T1546.003") == "ready"
    footer = page.find('p.more[data-list="fields"]')
    assert footer.text.startswith(f"Showing 20 of {total} fields.")
    assert len(page.find_all("table.fields tbody tr")) == 20
    footer.find_element("css selector", "button.show-all").click()
    WebDriverWait(page.driver, 30).until(
        lambda _: len(page.find_all("table.fields tbody tr")) == total
    )
    names = page.texts("table.fields tbody tr td:first-child a.field")
    assert names == [f["field"]["name"] for f in guide["fields"]]
    # Every row shown: no count, no button, only the CSV of them all.
    assert page.find('p.more[data-list="fields"]').text == "Download CSV"
    assert page.console_errors() == []


def test_show_more_pages_past_the_api_cap(page: Page) -> None:
    from browser_page import gql
    from selenium.webdriver.support.ui import WebDriverWait

    query = """query($offset: Int!) { technique(id: "T1059.004") { authoringGuide {
        distinctIndicatorCount distinctEventSelectorCount
        indicators(first: 200, offset: $offset, includeEventSelectors: false) {
          field { name } operator value } } } }"""
    guide = gql(page.base, query, {"offset": 40})["technique"]["authoringGuide"]
    total = guide["distinctIndicatorCount"] - guide["distinctEventSelectorCount"]
    assert total > 440
    assert page.open("#/technique/T1059.004") == "ready"
    footer = page.find('p.more[data-list="indicators"]')
    assert footer.text.startswith(f"Showing 40 of {total:,} indicators.")
    button = footer.find_element("css selector", "button.show-all")
    assert button.text == "Show 200 more"
    button.click()
    WebDriverWait(page.driver, 30).until(
        lambda _: len(page.find_all("table.indicators tbody tr")) == 240
    )
    # The 200 after the first 40, in the API's order.
    keys = [r.get_attribute("data-key") for r in page.find_all("table.indicators tbody tr")]
    assert keys[40:] == [
        f"{i['field']['name']}|{i['operator']}|{i['value']}" for i in guide["indicators"]
    ]
    footer = page.find('p.more[data-list="indicators"]')
    assert footer.text.startswith(f"Showing 240 of {total:,} indicators.")
    footer.find_element("css selector", "button.show-all").click()
    WebDriverWait(page.driver, 30).until(
        lambda _: len(page.find_all("table.indicators tbody tr")) == 440
    )
    assert len(set(page.texts("table.indicators tbody tr td.value"))) > 1
    page.screenshot("indicators-paged")
