"""Helpers for the browser tests: Chromium's whereabouts, API servers, the app as a Page."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
from api_process import serve_api

REPO = Path(__file__).resolve().parents[2]
#: Screenshots are copied here too (git-ignored), so that a run leaves them in one known place.
OUTPUT = REPO / "test-output" / "browser"

CHROMIUM = Path(os.environ.get("COVGRAPH_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("COVGRAPH_CHROMEDRIVER", "/usr/bin/chromedriver"))
# Without the background-networking flags Chromium's own connections are refused on closed
# networks and slow every start; a fresh profile keeps runs independent.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,1000",
)
WIDTH, HEIGHT = 1400, 1000


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -e '.[dev]')"
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not path.exists():
            return f"{path} is absent: apt-get install -y chromium chromium-driver ({package})"
    return None


@contextlib.contextmanager
def api_server(log_dir: Path, env: Mapping[str, str] | None = None) -> Iterator[str]:
    """`covgraph serve` on a free port, its log kept in `log_dir`; yields its base URL."""
    with serve_api(env, log_path=log_dir / "api.log") as url:
        yield url


def gql(url: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """The data of a GraphQL query the test asks the API directly, to compare with the page."""
    response = httpx.post(
        f"{url}/graphql", json={"query": query, "variables": variables or {}}, timeout=120
    )
    body = response.json()
    assert response.status_code == 200, body
    assert "errors" not in body, body["errors"]
    data: dict[str, Any] = body["data"]
    return data


class Page:
    """The app in the browser: navigation that waits for a render, lookups, screenshots."""

    def __init__(self, driver: Any, base: str, out_dir: Path) -> None:
        self.driver = driver
        self.base = base
        self.out_dir = out_dir

    def _render_id(self) -> str | None:
        value: str | None = self.driver.execute_script(
            "const m = document.getElementById('main'); return m ? m.dataset.render : null;"
        )
        return value

    def wait_rendered(self, before: str | None, timeout: float = 60) -> str:
        """Waits until a render newer than `before` is ready (or failed); returns its state."""
        from selenium.webdriver.support.ui import WebDriverWait

        def done(driver: Any) -> str | None:
            state: str | None = driver.execute_script(
                "const m = document.getElementById('main');"
                "return m && m.dataset.render !== arguments[0] && "
                "(m.dataset.state === 'ready' || m.dataset.state === 'error') "
                "? m.dataset.state : null;",
                before,
            )
            return state

        state: str = WebDriverWait(self.driver, timeout, poll_frequency=0.05).until(done)
        return state

    def open(self, hash_route: str) -> str:
        """Loads the page afresh at a route (#/...) and waits for it to render."""
        self.driver.get("about:blank")
        self.driver.get(f"{self.base}/{hash_route}")
        return self.wait_rendered(None)

    def act(self, action: Callable[[], object]) -> str:
        """Runs an action that changes the route (a click...) and waits for the new render."""
        before = self._render_id()
        action()
        return self.wait_rendered(before)

    def find(self, css: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str) -> list[Any]:
        from selenium.webdriver.common.by import By

        found: list[Any] = self.driver.find_elements(By.CSS_SELECTOR, css)
        return found

    def wait_for(self, css: str, timeout: float = 30) -> list[Any]:
        """Waits until at least one element matches; returns the matches."""
        from selenium.webdriver.support.ui import WebDriverWait

        found: list[Any] = WebDriverWait(self.driver, timeout, poll_frequency=0.05).until(
            lambda driver: driver.find_elements("css selector", css)
        )
        return found

    def enter(self, element: Any, text: str) -> None:
        """Types text into an input and presses Enter."""
        from selenium.webdriver.common.keys import Keys

        element.send_keys(text, Keys.ENTER)

    def texts(self, css: str) -> list[str]:
        return [element.text.strip() for element in self.find_all(css)]

    def script(self, source: str, *args: Any) -> Any:
        return self.driver.execute_script(source, *args)

    def console_errors(self) -> list[str]:
        """Severe messages the page logged (uncaught errors, failed requests)."""
        return [e["message"] for e in self.driver.get_log("browser") if e["level"] == "SEVERE"]

    def screenshot(self, name: str) -> Path:
        """The whole page as PNG in the test's directory, copied under test-output/browser."""
        height = int(self.script("return document.documentElement.scrollHeight"))
        width = int(self.script("return document.documentElement.scrollWidth"))
        self.driver.set_window_size(max(WIDTH, min(width, 4000)), min(max(height, HEIGHT), 12000))
        try:
            path = self.out_dir / f"{name}.png"
            assert self.driver.save_screenshot(str(path)), f"no screenshot for {name}"
        finally:
            self.driver.set_window_size(WIDTH, HEIGHT)
        OUTPUT.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, OUTPUT / path.name)
        return path
