"""`make run`'s chain (covgraph/run.py) with COVGRAPH_SKIP_LOAD=1: serve the graph as it is."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.neo4j


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_skip_load_serves_without_syncing(neo4j_driver: object, tmp_path: Path) -> None:
    from graph.settings import neo4j_settings

    settings = neo4j_settings()
    port = _free_port()
    env = {
        **os.environ,
        # The server the tests use, named so that the chain does not start one of its own.
        "NEO4J_URI": settings.uri,
        "COVGRAPH_SKIP_LOAD": "1",
        # An empty cache and no corpus: a sync would have to download, which fails here.
        "COVGRAPH_CACHE": str(tmp_path / "cache"),
        "COVGRAPH_PORT": str(port),
    }
    env.pop("COVGRAPH_CORPUS", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "covgraph.run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        answered = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                answered = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
                break
            except httpx.HTTPError:
                time.sleep(0.3)
        assert answered is not None, "the API never answered"
        # Ready or not depends on what the graph holds; either way it answers as the API.
        assert answered.json()["status"] in {"ok", "empty"}
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert "COVGRAPH_SKIP_LOAD=1: keeping the graph as it is" in output
    assert "covgraph sync" not in output
    assert "covgraph load" not in output


GOOD_RULE = """\
title: Good rule
id: 11111111-1111-4111-8111-111111111111
tags: [attack.t1047]
logsource: {product: windows, category: process_creation}
detection:
    selection:
        Image|endswith: '\\\\wmic.exe'
    condition: selection
"""


def test_make_run_writes_the_whole_report_and_says_where(
    clean_graph: object, tmp_path: Path
) -> None:
    """More problems than the 20 printed: the rest are in the JSON report the output names."""
    from graph.settings import neo4j_settings

    rules = tmp_path / "corpus" / "sigma" / "rules"
    rules.mkdir(parents=True)
    (rules / "good.yml").write_text(GOOD_RULE)
    for n in range(25):
        (rules / f"broken_{n:02d}.yml").write_text("title: broken\nid: [unclosed\n")
    port = _free_port()
    cache = tmp_path / "cache"
    env = {
        **os.environ,
        "NEO4J_URI": neo4j_settings().uri,
        "COVGRAPH_CORPUS": str(tmp_path / "corpus"),
        "COVGRAPH_CACHE": str(cache),
        "COVGRAPH_PORT": str(port),
        "COVGRAPH_LOAD_WORKERS": "0",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "covgraph.run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        answered = False
        while time.monotonic() < deadline and process.poll() is None and not answered:
            try:
                answered = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).is_success
            except httpx.HTTPError:
                time.sleep(0.3)
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    assert answered, output
    report = cache / "load-report.json"
    assert f"... 5 more (all in {report})" in output
    assert f"Full report, every problem with its file and line (JSON): {report}" in output
    (sigma,) = json.loads(report.read_text())["sources"]
    broken = [p for p in sigma["problems"] if p["location"].startswith("rules/broken_")]
    assert len(broken) == 25
    assert all(p["location"].endswith(":3:1") for p in broken), broken[0]
