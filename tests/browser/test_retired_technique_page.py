"""Retired techniques' headers in headless Chromium: the title stays a title, prose is drawn."""

from __future__ import annotations

import pytest
from browser_page import Page

pytestmark = [pytest.mark.browser, pytest.mark.corpus, pytest.mark.neo4j]


def test_revoked_title_holds_only_id_name_and_flag(page: Page) -> None:
    assert page.open("#/technique/T1574.002") == "ready"
    title = page.find("h1")
    assert "replaced" not in title.text.lower()
    assert title.find_element("css selector", ".flag").text == "revoked"
    note = page.find("header .revoked-by")
    assert note.text.startswith("Replaced by T1574.001")
    assert (
        note.find_element("css selector", "a")
        .get_attribute("href")
        .endswith("#/technique/T1574.001")
    )
    page.screenshot("revoked-header")


def test_deprecated_description_renders_markdown_as_text(page: Page) -> None:
    assert page.open("#/technique/T1043") == "ready"
    description = page.find("header .description")
    assert "**" not in description.text
    bold = description.find_elements("css selector", "strong")
    assert bold
    assert bold[0].text.startswith("This technique has been deprecated")
    items = [item.text for item in description.find_elements("css selector", ".md-item")]
    assert "TCP:80 (HTTP)" in items
    # Markdown is drawn as elements, never parsed as HTML.
    assert description.find_elements("css selector", "script, img, iframe") == []
    page.screenshot("deprecated-header")
