"""GraphiQL at /graphql in headless Chromium, from the locally served assets (no internet)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_page import OUTPUT, api_server

pytestmark = [pytest.mark.neo4j, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def graphiql_url(
    neo4j_driver: object, graphiql_assets: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The API over the test Neo4j, serving GraphiQL's assets from the cache `make setup` fills."""
    env = {"COVGRAPH_GRAPHIQL_ASSETS": str(graphiql_assets), "COVGRAPH_API_CACHE": "0"}
    with api_server(tmp_path_factory.mktemp("api-graphiql"), env) as url:
        yield url


def test_graphiql_renders_and_runs_a_query(browser: Any, graphiql_url: str, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get_log("browser")  # drop what earlier tests logged
    browser.get("about:blank")
    browser.get(f"{graphiql_url}/graphql?q=%7B%20__typename%20%7D")
    wait = WebDriverWait(browser, 60, poll_frequency=0.1)
    # The editor replaces the "Loading..." placeholder once React and GraphiQL have run.
    editor = wait.until(
        lambda d: d.find_elements(By.CSS_SELECTOR, ".graphiql-query-editor .CodeMirror")
    )[0]
    assert "__typename" in editor.text
    assert "Loading..." not in browser.find_element(By.ID, "graphiql").text
    # Running the query shows the API's answer in the response pane.
    browser.find_element(By.CSS_SELECTOR, ".graphiql-execute-button").click()
    wait.until(
        lambda d: (
            '"Query"' in d.find_element(By.CSS_SELECTOR, ".graphiql-response .CodeMirror").text
        )
    )
    # The schema was introspected: the documentation explorer lists the Query type's fields.
    browser.find_element(By.CSS_SELECTOR, "[aria-label='Show Documentation Explorer']").click()
    wait.until(lambda d: "Query" in d.find_element(By.CSS_SELECTOR, ".graphiql-doc-explorer").text)
    # Every resource came from the API itself.
    origins = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => new URL(e.name).origin);"
    )
    assert origins
    assert set(origins) == {graphiql_url}
    severe = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == []
    shot = tmp_path / "graphiql.png"
    assert browser.save_screenshot(str(shot))
    OUTPUT.mkdir(parents=True, exist_ok=True)
    (OUTPUT / shot.name).write_bytes(shot.read_bytes())
