"""`covgraph load` as a user runs it: exit codes, dry runs, broken files, a killed load."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.neo4j

GOOD_RULE = """\
title: Good rule
id: 11111111-1111-4111-8111-111111111111
status: test
tags: [attack.execution, attack.t1047]
logsource: {product: windows, category: process_creation}
detection:
    selection:
        Image|endswith: '\\wmic.exe'
    condition: selection
level: medium
"""

BROKEN_YAML = "title: broken\nid: [unclosed\n"
NO_ID = """\
title: No id
logsource: {product: windows, category: process_creation}
detection:
    selection: {Image: x}
    condition: selection
"""


def _covgraph(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "covgraph", *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        timeout=600,
    )


def _sigma_tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "sigma" / "rules" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "sigma"


def _rule_uids(driver: Any) -> list[str]:
    records, _, _ = driver.execute_query("MATCH (r:Rule) RETURN r.uid AS uid ORDER BY uid")
    return [r["uid"] for r in records]


def test_broken_files_are_reported_and_the_rest_loads(clean_graph: Any, tmp_path: Path) -> None:
    sigma = _sigma_tree(
        tmp_path, {"good.yml": GOOD_RULE, "broken.yml": BROKEN_YAML, "no_id.yml": NO_ID}
    )
    result = _covgraph("load", "--sigma", str(sigma))
    assert result.returncode == 0, result.stderr
    assert "rules/broken.yml:3:1: malformed YAML" in result.stdout
    assert "rules/no_id.yml" in result.stdout
    assert _rule_uids(clean_graph) == ["sigma:11111111-1111-4111-8111-111111111111"]


def test_exit_code_is_non_zero_only_when_nothing_loads(clean_graph: Any, tmp_path: Path) -> None:
    sigma = _sigma_tree(tmp_path, {"broken.yml": BROKEN_YAML})
    result = _covgraph("load", "--sigma", str(sigma))
    assert result.returncode == 1
    assert "rules/broken.yml" in result.stdout
    assert _rule_uids(clean_graph) == []


def test_dry_run_parses_and_writes_nothing(clean_graph: Any, tmp_path: Path) -> None:
    sigma = _sigma_tree(tmp_path, {"good.yml": GOOD_RULE})
    result = _covgraph(
        "load", "--sigma", str(sigma), "--dry-run", "--report", str(tmp_path / "report.json")
    )
    assert result.returncode == 0, result.stderr
    assert "dry run" in result.stdout
    assert _rule_uids(clean_graph) == []
    assert '"rules": 1' in (tmp_path / "report.json").read_text()


def test_a_folder_with_no_rules_never_empties_the_source(clean_graph: Any, tmp_path: Path) -> None:
    sigma = _sigma_tree(tmp_path, {"good.yml": GOOD_RULE})
    assert _covgraph("load", "--sigma", str(sigma)).returncode == 0
    loaded = _rule_uids(clean_graph)
    assert loaded == ["sigma:11111111-1111-4111-8111-111111111111"]
    # The user points at a folder below the root by mistake: no rule is read from it.
    wrong = tmp_path / "elsewhere"
    wrong.mkdir()
    result = _covgraph("load", "--sigma", str(wrong))
    assert result.returncode == 1
    assert "no rule file under" in result.stdout
    assert "previous sigma rules are kept" in result.stdout
    assert _rule_uids(clean_graph) == loaded
    # Every file broken: nothing readable, the same refusal.
    broken = _sigma_tree(tmp_path / "broken", {"broken.yml": BROKEN_YAML})
    result = _covgraph("load", "--sigma", str(broken))
    assert result.returncode == 1
    assert "no readable rule under" in result.stdout
    assert _rule_uids(clean_graph) == loaded


def test_the_report_lists_every_rule_without_predicates(tmp_path: Path) -> None:
    # More rules without a predicate than --problems shows: every one is still listed.
    files = {"good.yml": GOOD_RULE}
    for n in range(12):
        uid = f"22222222-2222-4222-8222-{n:012d}"
        files[f"unread_{n:02d}.yml"] = GOOD_RULE.replace(
            "11111111-1111-4111-8111-111111111111", uid
        ).replace("condition: selection", "condition: missing")
    sigma = _sigma_tree(tmp_path, files)
    result = _covgraph("load", "--sigma", str(sigma), "--dry-run", "--problems", "1")
    assert result.returncode == 0, result.stderr
    assert "sigma: 12 rules with a query yielded no predicate" in result.stdout
    for n in range(12):
        assert f"rules/unread_{n:02d}.yml" in result.stdout


def test_a_missing_corpus_is_a_clear_error(tmp_path: Path) -> None:
    result = _covgraph("load", "--corpus", str(tmp_path / "nowhere"))
    assert result.returncode == 1
    assert "nowhere" in result.stderr


def test_a_killed_load_leaves_the_previous_graph(clean_graph: Any, corpus_dir: Path) -> None:
    first = _covgraph("load", "--corpus", str(corpus_dir), "--only", "attack,splunk")
    assert first.returncode == 0, first.stderr
    before = _totals(clean_graph)
    loader = subprocess.Popen(
        [sys.executable, "-m", "covgraph", "load", "--corpus", str(corpus_dir), "--only", "sigma"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_rule_write(clean_graph, loader)
        loader.send_signal(signal.SIGKILL)
    finally:
        loader.wait(timeout=60)
    deadline = time.monotonic() + 60  # the server rolls back once it sees the connection gone
    while _open_write_transactions(clean_graph) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _totals(clean_graph) == before
    records, _, _ = clean_graph.execute_query("MATCH (s:Source {name: 'sigma'}) RETURN s")
    assert records == []


def _totals(driver: Any) -> tuple[int, int]:
    records, _, _ = driver.execute_query(
        "MATCH (n) WITH count(n) AS nodes MATCH ()-[r]->() RETURN nodes, count(r) AS rels"
    )
    return records[0]["nodes"], records[0]["rels"]


def _open_write_transactions(driver: Any) -> bool:
    # The writer's statements all start with MERGE (s:Source ...) or UNWIND $...; between two
    # statements an open transaction shows an empty currentQuery, so elapsed time is checked too.
    records, _, _ = driver.execute_query(
        "SHOW TRANSACTIONS YIELD currentQuery, elapsedTime "
        "WHERE NOT currentQuery STARTS WITH 'SHOW' AND NOT currentQuery CONTAINS 'db.awaitIndexes' "
        "AND (currentQuery CONTAINS 'UNWIND $' OR currentQuery CONTAINS 'MERGE (s:Source' "
        "     OR currentQuery = '') "
        "RETURN count(*) AS n"
    )
    return bool(records[0]["n"])


def _wait_for_rule_write(driver: Any, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail("the load finished before it could be killed mid-write")
        if _open_write_transactions(driver):
            time.sleep(1.0)  # deeper into the transaction: several batches written
            return
        time.sleep(0.05)
    pytest.fail("no rule write transaction seen within 300 s")
