"""The search box in headless Chromium: Enter opens what was typed; retired techniques marked."""

from __future__ import annotations

import pytest
from browser_page import Page, gql

pytestmark = [pytest.mark.browser, pytest.mark.corpus, pytest.mark.neo4j]


def test_enter_before_the_lookup_answers_opens_the_typed_text(page: Page) -> None:
    assert page.open("#/") == "ready"
    box = page.find("#search")
    # No dropdown yet: Enter looks "wmi" up and opens its first result.
    assert page.act(lambda: page.enter(box, "wmi")) == "ready"
    assert page.find("h1 .tid").text == "T1047"


def test_enter_never_opens_the_previous_text_results(page: Page) -> None:
    from selenium.webdriver.common.keys import Keys

    assert page.open("#/") == "ready"
    box = page.find("#search")
    box.send_keys("mimikatz")
    page.wait_for('#search-results[data-query="mimikatz"] li:first-child a')
    # New text and Enter at once, while the dropdown still lists mimikatz's techniques.
    assert (
        page.act(lambda: box.send_keys(Keys.CONTROL, "a", Keys.NULL, "wmi event", Keys.ENTER))
        == "ready"
    )
    assert page.find("h1 .tid").text == "T1546.003"
    assert page.console_errors() == []


def test_a_revoked_technique_is_listed_and_marked(page: Page) -> None:
    assert page.open("#/") == "ready"
    page.find("#search").send_keys("T1574.002")
    hit = page.wait_for('#search-results[data-query="T1574.002"] a[data-technique="T1574.002"]')[0]
    assert "retired" in hit.get_attribute("class")
    assert hit.find_element("css selector", ".chip.retired").text == "revoked: use T1574.001"
    page.screenshot("search-revoked")
    assert page.find_all("#no-match") == []


def test_after_an_id_the_hint_says_the_rest_mention_it(page: Page) -> None:
    assert page.open("#/") == "ready"
    page.find("#search").send_keys("T1059")
    hint = page.wait_for('#search-results[data-query="T1059"] #search-more')[0]
    assert "more mention T1059 in their descriptions; press Enter to open T1059." in hint.text
    assert "name" not in hint.text


def test_a_tool_no_technique_names_opens_the_values_that_contain_it(page: Page) -> None:
    api = gql(page.base, '{ indicators(search: "scrcons") { totalCount ruleCount } }')
    assert page.open("#/") == "ready"
    box = page.find("#search")
    box.send_keys("scrcons")
    offer = page.wait_for('#search-results[data-query="scrcons"] #search-values a')[0]
    assert offer.text == "Values rules check that contain “scrcons”"
    assert page.find_all("#no-match")  # no technique names WMI's script consumer host...
    # ...so Enter opens the values that contain it.
    assert page.act(lambda: page.enter(box, "")) == "ready"
    assert page.find("#indicators-search").get_attribute("value") == "scrcons"
    found = api["indicators"]
    assert page.find("#indicators-summary").text.startswith(
        f"{found['totalCount']} indicators contain “scrcons”; {found['ruleCount']} current rules"
    )
    # With a technique that names it, the offer is the last choice.
    assert page.open("#/") == "ready"
    page.find("#search").send_keys("certutil")
    choices = page.wait_for('#search-results[data-query="certutil"] a')
    assert choices[-1].get_attribute("href").endswith("#/indicators?search=certutil")
    assert choices[0].get_attribute("data-technique")
