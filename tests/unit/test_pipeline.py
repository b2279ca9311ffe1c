"""The load pipeline on small hand-made trees: phases, file counts, worker and in-process parse."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from covgraph.load_report import render
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


# Bad input: ATT&CK problems, unknown techniques, CLI misuse.

BUNDLE = """{"type": "bundle", "id": "bundle--1", "objects": [
 {"type": "x-mitre-tactic", "id": "x-mitre-tactic--1", "name": "Execution",
  "x_mitre_shortname": "execution",
  "external_references": [{"source_name": "mitre-attack", "external_id": "TA0002"}]},
 {"type": "attack-pattern", "id": "attack-pattern--1", "name": "WMI",
  "kill_chain_phases": [{"kill_chain_name": "mitre-attack", "phase_name": "execution"}],
  "external_references": [{"source_name": "mitre-attack", "external_id": "T1047"}]},
 {"type": "attack-pattern", "id": "attack-pattern--2", "name": "No id"},
 "garbage"
]}"""


def test_a_technique_unknown_to_attack_is_reported_with_its_file_in_a_dry_run(
    plan: LoadPlan, tmp_path: Path
) -> None:
    plan.paths["attack"] = tmp_path / "attack.json"
    plan.paths["attack"].write_text(BUNDLE)
    unknown = SIGMA_RULE.format(n=9).replace("attack.t1047", "attack.t9999")
    (tmp_path / "sigma" / "rules" / "r9.yml").write_text(unknown)
    report = run(plan, None)
    sigma = next(s for s in report.sources if s.name == "sigma")
    assert sigma.unknown_techniques == ("T9999",)
    (problem,) = [p for p in sigma.problems if p.kind == "unknown-technique"]
    assert (str(problem.location), problem.reason) == (
        "rules/r9.yml:3",
        "technique T9999 is not in ATT&CK",
    )
    # ATT&CK's own problems are printed like every source's
    console = Console(record=True, width=200)
    render(report, console, problems=20)
    text = console.export_text()
    assert "attack: problems by kind" in text
    assert "malformed-object" in text
    assert "missing-attack-id" in text


def test_attack_objects_are_not_counted_as_rules(plan: LoadPlan, tmp_path: Path) -> None:
    plan.paths["attack"] = tmp_path / "attack.json"
    plan.paths["attack"].write_text(BUNDLE)
    report = run(plan, None)
    console = Console(record=True, width=200)
    render(report, console, problems=1, report_path=tmp_path / "report.json")
    lines = console.export_text().splitlines()
    header = next(line for line in lines if "source" in line and "rules" in line)
    cells = [cell.strip() for cell in header.split("┃")[1:-1]]
    assert cells[:4] == ["source", "files", "rules", "ATT&CK objects"]
    rows: dict[str, list[str]] = {}
    for line in lines:
        if line.startswith("│"):  # the first table's rows come first
            cells = [cell.strip() for cell in line.split("│")[1:-1]]
            rows.setdefault(cells[0], cells)
    # One tactic and one technique; the garbage and the object without an id are problems.
    assert rows["attack"][2:4] == ["", "2"]
    assert rows["sigma"][2:4] == ["3", ""]
    # More problems than shown: the line names where all of them are.
    assert f"... 1 more (all in {tmp_path / 'report.json'})" in "\n".join(lines)
    assert lines[-1] == (
        f"Full report, every problem with its file and line (JSON): {tmp_path / 'report.json'}"
    )


def test_without_attack_in_the_load_no_technique_is_called_unknown(plan: LoadPlan) -> None:
    report = run(plan, None)
    assert all(p.kind != "unknown-technique" for s in report.sources for p in s.problems)
