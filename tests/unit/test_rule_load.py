"""RuleLoad: one rule per uid, and a problem naming both files for every rule dropped."""

from __future__ import annotations

from pathlib import Path

from covgraph.pipeline import LoadPlan, run
from loaders.records import Rule, RuleLoad, SourceInfo


def rule(uid: str, path: str) -> Rule:
    return Rule(
        uid=uid,
        vendor="elastic",
        native_id=uid.split(":")[1],
        title=uid,
        path=path,
        collection="rules",
    )


def test_later_rules_with_a_used_uid_are_dropped_and_reported() -> None:
    load = RuleLoad(SourceInfo(name="elastic"), "elastic")
    load.rules = [
        rule("elastic:a", "rules/one.toml"),
        rule("elastic:b", "rules/two.toml"),
        rule("elastic:a", "rules/three.toml"),
    ]
    load.drop_duplicate_uids()
    assert [(r.uid, r.path) for r in load.rules] == [
        ("elastic:a", "rules/one.toml"),
        ("elastic:b", "rules/two.toml"),
    ]
    (problem,) = load.problems
    assert (problem.kind, problem.severity, problem.rule_uid) == (
        "duplicate-id",
        "warning",
        "elastic:a",
    )
    assert problem.location.path == "rules/three.toml"
    assert "rules/one.toml" in problem.reason


def test_a_load_without_duplicates_is_left_alone() -> None:
    load = RuleLoad(SourceInfo(name="elastic"), "elastic")
    load.rules = [rule("elastic:a", "rules/one.toml"), rule("elastic:b", "rules/two.toml")]
    load.drop_duplicate_uids()
    assert len(load.rules) == 2
    assert load.problems == []


ELASTIC_RULE = """\
[metadata]
creation_date = "2024/01/01"
maturity = "production"

[rule]
author = ["Elastic"]
description = "x"
name = "{name}"
risk_score = 21
rule_id = "e0000000-0000-4000-8000-000000000001"
severity = "low"
type = "eql"
language = "eql"
query = 'process where process.name : "wmic.exe"'
"""


def test_the_load_report_counts_one_rule_per_uid_and_names_both_files(tmp_path: Path) -> None:
    for name in ("first", "second"):
        path = tmp_path / "elastic" / "rules" / f"{name}.toml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(ELASTIC_RULE.format(name=name), encoding="utf-8")
    (report,) = run(LoadPlan(paths={"elastic": tmp_path / "elastic"}), None).sources
    assert report.rules == 1
    (problem,) = [p for p in report.problems if p.kind == "duplicate-id"]
    assert problem.location.path == "rules/second.toml"
    assert "rules/first.toml" in problem.reason
