"""Neo4j Browser of the local server in headless Chromium: connect, load the style, run a query.

What a user does by following docs/neo4j-browser.md: open /browser/, connect with "No
authentication", drop docs/covgraph.grass on the window, set `$id` and draw T1546.003's rules
and events; the nodes come out in the style's colours with its captions.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_page import Page
from neo4j_guide import GRASS, read_grass, section

pytestmark = [pytest.mark.browser, pytest.mark.neo4j, pytest.mark.corpus]

NODES = """
return JSON.stringify([...document.querySelectorAll('svg g.node')].map(g => {
  const circle = g.querySelector('circle.b-outline') || g.querySelector('circle');
  return {fill: circle ? circle.getAttribute('fill') : null,
          caption: [...g.querySelectorAll('text')].map(t => t.textContent.trim()).join(' ')};
}));
"""


@pytest.fixture(scope="module")
def browser_url(corpus_graph: object) -> str:
    """Neo4j Browser of the local server, when this run uses one without auth."""
    from graph.settings import local_server_settings

    if os.environ.get("NEO4J_URI"):
        pytest.skip("NEO4J_URI names an external server: its Browser, if any, is not ours")
    settings = local_server_settings()
    if settings.password:
        pytest.skip("the local server has auth on (COVGRAPH_NEO4J_PASSWORD): no password here")
    url = f"{settings.http_url}/browser/"
    response = httpx.get(url, timeout=30)
    assert response.status_code == 200, f"{url} answered {response.status_code}"
    assert "Neo4j Browser" in response.text
    return url


def _wait(page: Page, condition: Any, timeout: float = 60) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(page.driver, timeout, poll_frequency=0.2).until(condition)


def _settled(page: Page) -> list[dict[str, Any]] | None:
    """The nodes drawn, once there are some and their number holds for half a second."""
    first: list[dict[str, Any]] = json.loads(page.script(NODES))
    time.sleep(0.5)
    again: list[dict[str, Any]] = json.loads(page.script(NODES))
    return again if first and len(first) == len(again) else None


def _editor_text(page: Page) -> str:
    text: str = page.script(
        "const lines = document.querySelector('.monaco-editor .view-lines');"
        "return lines ? lines.textContent : '';"
    )
    return text.replace("\u00a0", " ").strip()


def _run(page: Page, text: str) -> None:
    """Types a command into Browser's main editor and runs it (Ctrl+Enter).

    Browser empties the editor once it has taken the command; waiting for that keeps the next
    command's keystrokes out of this one.
    """
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    page.find(".monaco-editor").click()
    ActionChains(page.driver).send_keys(text).perform()
    keys = ActionChains(page.driver).key_down(Keys.CONTROL).send_keys(Keys.ENTER)
    keys.key_up(Keys.CONTROL).perform()
    _wait(page, lambda d: _editor_text(page) == "")


def _drop_file(page: Page, path: Path) -> None:
    """Drops a file on Browser's window, as dragging it from a file manager does."""
    page.script(
        """
        const file = new File([arguments[0]], arguments[1]);
        const data = new DataTransfer();
        data.items.add(file);
        const target = document.elementFromPoint(window.innerWidth / 2, window.innerHeight / 2);
        for (const type of ['dragenter', 'dragover', 'drop']) {
          target.dispatchEvent(new DragEvent(type, {bubbles: true, cancelable: true,
                                                    dataTransfer: data}));
        }
        """,
        path.read_text(),
        path.name,
    )


def test_browser_draws_a_technique_in_the_covgraph_style(
    browser: Any, browser_url: str, corpus_graph: Any, tmp_path: Path
) -> None:
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import Select

    page = Page(browser, browser_url, tmp_path)
    browser.get("about:blank")
    browser.get(browser_url)

    # Connect with "No authentication", as the guide says for the local server.
    auth = _wait(
        page, lambda d: [s for s in page.find_all("select") if "No authentication" in s.text]
    )
    # The Connect URL as the guide says Browser fills it in: scheme neo4j://, then host:port.
    from graph.settings import local_server_settings

    # The form's lists fill in as Browser starts: wait for the scheme list too.
    schemes = _wait(page, lambda d: [s for s in page.find_all("select") if "bolt://" in s.text])
    assert Select(schemes[0]).first_selected_option.text == "neo4j://"
    expected_address = f"127.0.0.1:{local_server_settings().bolt_port}"
    address = page.find('input[data-testid="boltaddress"]')
    with contextlib.suppress(TimeoutException):  # filled in as Browser starts, too
        _wait(page, lambda d: address.get_attribute("value") == expected_address, timeout=20)
    assert address.get_attribute("value") == expected_address
    Select(auth[0]).select_by_visible_text("No authentication")
    next(b for b in page.find_all("button") if b.text == "Connect").click()
    _wait(page, lambda d: "You have a working connection" in page.find("body").text)

    # The style file dropped on the window (the guide's first way to load it).
    _drop_file(page, GRASS)
    loaded = _wait(
        page,
        lambda d: page.script(
            "const s = JSON.parse(localStorage.getItem('neo4j.grass')) || {};"
            "return s['node.Technique'] ? s : null;"
        ),
    )
    expected = read_grass(GRASS.read_text())
    for selector in ("node.Technique", "node.Rule", "node.Event", "node.Value"):
        assert loaded[selector] == expected[selector]

    # The guide's first graph query for T1546.003.
    graph_query = section(1)[1]
    _run(page, ":param id => 'T1546.003'")
    _wait(page, lambda d: '"id": "T1546.003"' in page.find("body").text)  # the :param frame
    _run(page, " ".join(graph_query.split()))
    try:
        drawn = _wait(page, lambda d: _settled(page))
    except TimeoutException:
        page.screenshot("neo4j-browser-failed")
        raise AssertionError(page.find("body").text[-2000:]) from None
    # As many nodes of each colour as the query returns nodes of each label.
    records, _, _ = corpus_graph.execute_query(
        graph_query.replace("RETURN p", "UNWIND nodes(p) AS n RETURN labels(n)[0] AS label, "
                            "count(DISTINCT n) AS nodes"),
        id="T1546.003",
    )  # fmt: skip
    counts = {r["label"]: r["nodes"] for r in records}
    assert counts["Technique"] == 1
    assert counts["Rule"] == 18
    colour = {label: expected[f"node.{label}"]["color"] for label in counts}
    drawn_counts = {label: sum(1 for n in drawn if n["fill"] == colour[label]) for label in counts}
    assert drawn_counts == counts
    assert len(drawn) == sum(counts.values())
    technique = next(n for n in drawn if n["fill"] == colour["Technique"])
    assert technique["caption"].startswith("T1546.003 Windows")
    events = [n["caption"] for n in drawn if n["fill"] == colour["Event"]]
    assert "sysmon:1" in events
    page.screenshot("neo4j-browser-T1546.003")
