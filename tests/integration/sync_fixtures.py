"""Fixtures of the `covgraph sync` tests: the server on 127.0.0.1, the pins, a good cache.

Used with ``pytest_plugins = ["sync_fixtures"]``, so that pytest rewrites its asserts.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from sync_server import SOURCES, Upstream, handler, options, small_bundle, tiny_files

from covgraph.sync import sync
from covgraph.sync_sources import Source, load_sources


@pytest.fixture
def upstream(monkeypatch: pytest.MonkeyPatch) -> Iterator[Upstream]:
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    state = Upstream()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler(state))
    server.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def sources_file(tmp_path: Path) -> Path:
    """A copy of the repository's pins, so that moving a pin never edits the real file."""
    path = tmp_path / "sources.yaml"
    shutil.copyfile(SOURCES, path)
    return path


@pytest.fixture
def sources(sources_file: Path) -> list[Source]:
    return load_sources(sources_file)


@pytest.fixture
def tiny(upstream: Upstream, sources: list[Source]) -> Upstream:
    """The server with a tiny hand-made archive of every source at its pin."""
    files = {s.name: tiny_files(s) for s in sources}
    files["attack"] = {"bundle": small_bundle()}
    upstream.serve_sources(sources, files)
    return upstream


@pytest.fixture
def good_cache(tiny: Upstream, sources_file: Path, tmp_path: Path) -> Path:
    """A cache holding every source, from a first sync that succeeded."""
    results = sync(options(tmp_path, sources_file, tiny))
    assert [r.action for r in results] == ["synced"] * 4
    return tmp_path / "cache"
