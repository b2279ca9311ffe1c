"""The page over a real, empty Neo4j: it says that nothing is loaded and how to load."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_page import Page, api_server

pytestmark = [pytest.mark.browser, pytest.mark.neo4j]


@pytest.fixture
def empty_url(clean_graph: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The API over the test Neo4j wiped empty (no Source node: /healthz says "empty")."""
    with api_server(tmp_path_factory.mktemp("api-empty"), {"COVGRAPH_API_CACHE": "0"}) as url:
        yield url


def _write_one_technique(driver: Any) -> None:
    from graph.writer import GraphWriter
    from loaders.records import AttackCatalog, SourceInfo, Tactic, Technique

    GraphWriter(driver).write_attack(
        AttackCatalog(
            source=SourceInfo(name="attack", repository="mitre/cti", commit="c0ffee"),
            tactics=[Tactic(id="TA0003", name="Persistence", shortname="persistence", order=5)],
            techniques=[
                Technique(
                    id="T1546.003",
                    name="Windows Management Instrumentation Event Subscription",
                    tactics=("TA0003",),
                    platforms=("Windows",),
                )
            ],
        )
    )


def test_an_empty_graph_says_nothing_is_loaded_and_how_to_load(
    browser: Any, clean_graph: Any, empty_url: str, tmp_path: Path
) -> None:
    health = httpx.get(f"{empty_url}/healthz", timeout=30)
    assert (health.status_code, health.json()["status"]) == (503, "empty")
    page = Page(browser, empty_url, tmp_path)
    for route, name in (
        ("#/technique/T1546.003", "empty-graph-technique"),
        ("#/", "empty-graph-home"),
        ("#/matrix?platform=Windows", "empty-graph-matrix"),
    ):
        assert page.open(route) == "ready", route
        banner = page.find("#nothing-loaded")
        assert "Nothing is loaded yet" in banner.text
        assert "covgraph load" in banner.text
        assert "make run" in banner.text
        main = page.find("#main").text
        # Not the misleading answers of an empty graph: an unknown technique, zeros.
        assert "not in the loaded ATT&CK catalog" not in main
        assert "0 current rules" not in main
        assert "0 techniques" not in main
        assert page.driver.title == "Nothing loaded · covgraph"
        page.screenshot(name)
    # Chromium logs the 503 of /healthz as a failed resource; nothing else may fail.
    assert [e for e in page.console_errors() if "/healthz " not in e] == []

    # Once something is loaded, the same server draws the page: no restart.
    _write_one_technique(clean_graph)
    assert page.open("#/technique/T1546.003") == "ready"
    assert page.find_all("#nothing-loaded") == []
    assert page.find("h1 .tid").text == "T1546.003"
