"""Fixtures: headless Chromium (Debian's chromium + chromium-driver, via Selenium), API servers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_process import free_port
from browser_page import (
    CHROMEDRIVER,
    CHROMIUM,
    CHROMIUM_FLAGS,
    Page,
    api_server,
    browser_missing,
)


@pytest.fixture(scope="session")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One headless Chromium for the session; skipped when absent unless CI requires it."""
    reason = browser_missing()
    if reason:
        if os.environ.get("COVGRAPH_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="session")
def page_url(corpus_graph: object, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The API (and the page at /) over the test Neo4j loaded with the whole corpus."""
    with api_server(tmp_path_factory.mktemp("api"), {"COVGRAPH_API_CACHE": "0"}) as url:
        yield url


@pytest.fixture(scope="session")
def outage_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The API pointed at a port where no Neo4j listens: every query answers 503."""
    dead = f"bolt://127.0.0.1:{free_port()}"
    with api_server(tmp_path_factory.mktemp("api-outage"), {"NEO4J_URI": dead}) as url:
        yield url


@pytest.fixture
def page(browser: Any, page_url: str, tmp_path: Path) -> Page:
    """The app over the loaded corpus, screenshots going to this test's tmp_path."""
    browser.get_log("browser")  # drop what earlier tests logged
    return Page(browser, page_url, tmp_path)
