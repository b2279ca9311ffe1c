"""bench/load.py wipes the database it loads into: it says so, and asks before wiping data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.neo4j


def _bench(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(REPO / "bench" / "load.py"), *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **env},
        timeout=120,
    )


def test_help_says_it_wipes() -> None:
    result = _bench("--help", env={})
    assert result.returncode == 0
    assert "WIPES the database" in result.stdout
    assert "--wipe" in result.stdout


def test_a_database_holding_nodes_is_not_wiped_without_wipe(
    clean_graph: Any, tmp_path: Path
) -> None:
    clean_graph.execute_query("CREATE (:Keep {name: 'mine'})")
    env = {"COVGRAPH_CORPUS": str(tmp_path), "COVGRAPH_BENCH_WIPE": ""}
    result = _bench("--runs", "1", "--scope", "sigma", env=env)
    assert result.returncode == 1
    assert "refusing to wipe database" in result.stderr
    assert "holds 1 nodes" in result.stderr
    assert "--wipe" in result.stderr
    assert "COVGRAPH_BENCH_WIPE=1" in result.stderr
    records, _, _ = clean_graph.execute_query("MATCH (n:Keep) RETURN n.name AS name")
    assert [r["name"] for r in records] == ["mine"]
