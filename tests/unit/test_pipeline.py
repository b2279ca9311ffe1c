"""The load pipeline on small hand-made trees: phases, file counts, worker and in-process parse."""

from __future__ import annotations

from pathlib import Path

import pytest

from covgraph.pipeline import LoadPlan, run

SIGMA_RULE = """\
title: Rule {n}
id: 00000000-0000-4000-8000-00000000000{n}
tags: [attack.t1047]
logsource: {{product: windows, category: process_creation}}
detection:
    selection:
        Image|endswith: '\\wmic.exe'
    condition: selection
"""

ELASTIC_RULE = """\
[metadata]
creation_date = "2024/01/01"
maturity = "production"

[rule]
author = ["Elastic"]
description = "x"
name = "wmic"
risk_score = 21
rule_id = "e0000000-0000-4000-8000-000000000001"
severity = "low"
type = "eql"
language = "eql"
query = 'process where process.name : "wmic.exe"'
"""


@pytest.fixture
def plan(tmp_path: Path) -> LoadPlan:
    for n in range(3):
        path = tmp_path / "sigma" / "rules" / f"r{n}.yml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(SIGMA_RULE.format(n=n))
    elastic = tmp_path / "elastic" / "rules" / "wmic.toml"
    elastic.parent.mkdir(parents=True)
    elastic.write_text(ELASTIC_RULE)
    return LoadPlan(paths={"sigma": tmp_path / "sigma", "elastic": tmp_path / "elastic"})


@pytest.mark.parametrize("workers", ["0", "1"])
def test_dry_run_reports_phases_and_files(
    plan: LoadPlan, workers: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COVGRAPH_LOAD_WORKERS", workers)
    phases: list[tuple[str, str]] = []
    files: list[tuple[str, int, int]] = []
    report = run(
        plan,
        None,
        lambda name, phase: phases.append((name, phase)),
        lambda name, done, total: files.append((name, done, total)),
    )
    assert phases == [
        ("sigma", "parsing"),
        ("sigma", "parsed"),
        ("elastic", "parsing"),
        ("elastic", "parsed"),
    ]
    assert ("sigma", 3, 3) in files
    assert ("elastic", 1, 1) in files
    assert [(s.name, s.rules, s.failed) for s in report.sources] == [
        ("sigma", 3, None),
        ("elastic", 1, None),
    ]
    assert report.sources[0].coverage["sigma"].with_predicates == 3
    assert report.dry_run


def test_a_source_that_cannot_be_read_does_not_stop_the_others(
    plan: LoadPlan, tmp_path: Path
) -> None:
    plan.paths["attack"] = tmp_path / "not-a-bundle.json"
    plan.paths["attack"].write_text("[]")
    report = run(plan, None)
    by_name = {s.name: s for s in report.sources}
    assert by_name["attack"].failed is not None
    assert "not-a-bundle.json" in by_name["attack"].failed
    assert by_name["sigma"].rules == 3
    assert report.anything_loaded
