"""The whole corpus in a real Neo4j: counts against the files, shared indicators, idempotence."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from corpus_expect import deprecated_uids, rules_per_technique

pytestmark = [pytest.mark.neo4j, pytest.mark.corpus]


def _attack_ids(corpus: Path) -> set[str]:
    bundle = json.loads((corpus / "attack" / "enterprise-attack.json").read_text())
    return {
        ref["external_id"]
        for obj in bundle["objects"]
        if obj.get("type") == "attack-pattern"
        for ref in obj.get("external_references", [])
        if ref.get("source_name") == "mitre-attack"
    }


def _query(driver: Any, cypher: str, **params: Any) -> list[dict[str, Any]]:
    records, _, _ = driver.execute_query(cypher, params)
    return [record.data() for record in records]


@pytest.mark.parametrize("vendor", ["sigma", "elastic", "splunk"])
def test_rules_per_technique_equal_the_files(
    corpus_graph: Any, corpus_dir: Path, vendor: str
) -> None:
    expected = rules_per_technique(corpus_dir)[vendor]
    known = _attack_ids(corpus_dir)
    rows = _query(
        corpus_graph,
        "MATCH (r:Rule {vendor: $vendor})-[:DETECTS]->(t:Technique) "
        "RETURN t.id AS technique, collect(r.uid) AS uids",
        vendor=vendor,
    )
    found = {row["technique"]: set(row["uids"]) for row in rows}
    assert found == {t: uids for t, uids in expected.items() if t in known}
    # Tags naming techniques ATT&CK does not have are the only ones without a DETECTS.
    assert set(expected) - set(found) == set(expected) - known


def test_deprecated_flags_equal_the_files(corpus_graph: Any, corpus_dir: Path) -> None:
    rows = _query(corpus_graph, "MATCH (r:Rule {deprecated: true}) RETURN collect(r.uid) AS u")
    assert set(rows[0]["u"]) == deprecated_uids(corpus_dir)


def test_one_indicator_reached_from_all_three_vendors(corpus_graph: Any) -> None:
    rows = _query(
        corpus_graph,
        "MATCH (v:Value {key: 'process.name|eq|wmic.exe'})<-[c:CHECKS {negated: false}]-(r:Rule) "
        "RETURN r.vendor AS vendor, collect(DISTINCT c.vendor_field) AS fields, count(*) AS n",
    )
    by_vendor = {row["vendor"]: row for row in rows}
    assert set(by_vendor) == {"sigma", "elastic", "splunk"}
    assert "Image" in by_vendor["sigma"]["fields"]
    assert "process.name" in by_vendor["elastic"]["fields"]
    assert "Processes.process_name" in by_vendor["splunk"]["fields"]
    # the macro `process_wmic` is expanded: this rule only names the macro
    rows = _query(
        corpus_graph,
        "MATCH (r:Rule {vendor: 'splunk'})-[:CHECKS]->(:Value {key: 'process.name|eq|wmic.exe'}) "
        "WHERE r.query CONTAINS '`process_wmic`' AND NOT r.query CONTAINS 'wmic.exe' "
        "RETURN count(r) AS n",
    )
    assert rows[0]["n"] > 0


def test_command_line_wildcards_are_shared_across_vendors(corpus_graph: Any) -> None:
    rows = _query(
        corpus_graph,
        "MATCH (v:Value {field: 'process.command_line', operator: 'wildcard'})<-[:CHECKS]-(r) "
        "WITH v, collect(DISTINCT r.vendor) AS vendors WHERE size(vendors) = 3 "
        "RETURN count(v) AS shared",
    )
    assert rows[0]["shared"] >= 10


def test_wmi_persistence_exclusions(corpus_graph: Any) -> None:
    rows = _query(
        corpus_graph,
        "MATCH (r:Rule {path: 'rules/windows/builtin/wmi/win_wmi_persistence.yml'})"
        "-[c:CHECKS]->(v:Value) RETURN c.vendor_field AS vf, c.negated AS negated, v.key AS key",
    )
    negated = {row["vf"] for row in rows if row["negated"]}
    plain = {row["key"] for row in rows if not row["negated"]}
    assert negated == {"Provider", "Query", "User", "PossibleCause"}
    assert {"event.code|eq|5861", "event.code|eq|5859"} <= plain
    assert "*|match|activescripteventconsumer" in plain
    events = _query(
        corpus_graph,
        "MATCH (r:Rule {path: 'rules/windows/builtin/wmi/win_wmi_persistence.yml'})"
        "-[:OBSERVES]->(e) RETURN collect(e.id) AS ids",
    )
    assert set(events[0]["ids"]) == {"wmi-activity:5861", "wmi-activity:5859"}


def test_elastic_mofcomp_excludes_system_and_paths(corpus_graph: Any) -> None:
    rows = _query(
        corpus_graph,
        "MATCH (r:Rule {vendor: 'elastic', path: 'rules/windows/execution_mofcomp.toml'})"
        "-[c:CHECKS {negated: true}]->(v:Value) RETURN v.field AS field, v.value AS value",
    )
    assert {"field": "user.id", "value": "s-1-5-18"} in rows
    assert sum(row["field"] == "process.args" for row in rows) >= 5


def test_splunk_mof_rule(corpus_graph: Any) -> None:
    path = "detections/endpoint/windows_mof_event_triggered_execution_via_wmi.yml"
    rows = _query(
        corpus_graph,
        "MATCH (r:Rule {vendor: 'splunk', path: $path}) "
        "RETURN [(r)-[:CHECKS]->(v) | v.key] AS keys, [(r)-[:OBSERVES]->(e) | e.id] AS events",
        path=path,
    )
    assert rows, f"no rule at {path}"
    keys = set(rows[0]["keys"])
    assert {
        "process.name|eq|mofcomp.exe",
        "process.parent.name|eq|cmd.exe",
        "process.parent.name|eq|powershell.exe",
    } <= keys
    assert {"sysmon:1", "windows-security:4688"} <= set(rows[0]["events"])


def test_sources_carry_provenance(corpus_graph: Any) -> None:
    rows = _query(
        corpus_graph,
        "MATCH (s:Source) OPTIONAL MATCH (r:Rule)-[:FROM]->(s) "
        "RETURN s.name AS name, s.commit AS commit, s.rule_count AS declared, count(r) AS rules",
    )
    by_name = {row["name"]: row for row in rows}
    assert set(by_name) == {"attack", "sigma", "elastic", "splunk"}
    for name in ("sigma", "elastic", "splunk"):
        assert by_name[name]["commit"], name
        assert by_name[name]["rules"] == by_name[name]["declared"] > 1000


def test_reloading_the_corpus_changes_nothing(corpus_graph: Any, corpus_dir: Path) -> None:
    from covgraph.pipeline import plan_from_corpus, run
    from graph.writer import GraphWriter

    def totals() -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
        nodes = _query(
            corpus_graph,
            "MATCH (n) UNWIND labels(n) AS label RETURN label, count(*) AS n ORDER BY label",
        )
        rels = _query(
            corpus_graph,
            "MATCH ()-[r]->() RETURN type(r) AS type, count(*) AS n ORDER BY type",
        )
        return [(r["label"], r["n"]) for r in nodes], [(r["type"], r["n"]) for r in rels]

    before = totals()
    report = run(plan_from_corpus(corpus_dir), GraphWriter(corpus_graph))
    assert [(s.name, s.failed) for s in report.sources] == [
        ("attack", None),
        ("sigma", None),
        ("elastic", None),
        ("splunk", None),
    ]
    assert totals() == before
