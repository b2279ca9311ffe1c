"""The writer against a real Neo4j: model, idempotence, removal, and all-or-nothing loads."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from graph.writer import GraphWriter
from loaders.events import windows_event
from loaders.predicates import make_predicate
from loaders.records import (
    AttackCatalog,
    DataComponent,
    DataSource,
    Rule,
    RuleLoad,
    SourceInfo,
    Story,
    Tactic,
    Technique,
)

pytestmark = pytest.mark.neo4j


def _catalog() -> AttackCatalog:
    return AttackCatalog(
        source=SourceInfo(name="attack", version="18.0"),
        tactics=[Tactic(id="TA0003", name="Persistence", shortname="persistence")],
        techniques=[
            Technique(id="T1546", name="Event Triggered Execution", tactics=("TA0003",)),
            Technique(
                id="T1546.003",
                name="WMI Event Subscription",
                is_subtechnique=True,
                parent_id="T1546",
                tactics=("TA0003",),
                platforms=("Windows",),
            ),
        ],
        data_sources=[DataSource(id="DS0017", name="Command")],
        data_components=[
            DataComponent(
                id="DC0064",
                name="Command Execution",
                data_source_id="DS0017",
                detects=("T1546.003",),
            )
        ],
    )


def _rule(uid: str, *predicates: Any, techniques: tuple[str, ...] = ("T1546.003",)) -> Rule:
    return Rule(
        uid=f"sigma:{uid}",
        vendor="sigma",
        native_id=uid,
        title=f"rule {uid}",
        path=f"rules/{uid}.yml",
        collection="rules",
        techniques=techniques,
        events=("sysmon:1",),
        predicates=tuple(predicates),
        stories=("story-1",),
        extra={"logsource_category": "process_creation"},
    )


def _load(*rules: Rule) -> RuleLoad:
    return RuleLoad(
        source=SourceInfo(name="sigma", repository="SigmaHQ/sigma", commit="abc"),
        vendor="sigma",
        rules=list(rules),
        events=[windows_event("sysmon", 1)],
        stories=[Story(id="story-1", name="Story", vendor="sigma")],
    )


WMIC = make_predicate("process.executable", "wildcard", "*\\WMIC.exe", vendor_field="Image")
CMD = make_predicate("process.command_line", "wildcard", "*create*", vendor_field="CommandLine")
SYSTEM = make_predicate("user.id", "eq", "S-1-5-18", negated=True, vendor_field="User")


def _counts(driver: Any) -> tuple[int, int]:
    records, _, _ = driver.execute_query(
        "MATCH (n) WITH count(n) AS nodes "
        "OPTIONAL MATCH ()-[r]->() RETURN nodes, count(r) AS relationships"
    )
    return records[0]["nodes"], records[0]["relationships"]


def test_rules_land_on_the_model(clean_graph: Any) -> None:
    writer = GraphWriter(clean_graph)
    writer.write_attack(_catalog())
    stats = writer.write_rules(_load(_rule("a", WMIC, CMD, SYSTEM)))
    assert stats.rules == 1
    assert stats.checks == 3
    records, _, _ = clean_graph.execute_query(
        """
        MATCH (r:Rule {uid: 'sigma:a'})-[c:CHECKS]->(v:Value)-[:OF_FIELD]->(f:Field)
        RETURN v.key AS key, f.name AS field, c.negated AS negated, c.vendor_field AS vf
        ORDER BY key
        """
    )
    rows = [(r["key"], r["field"], r["negated"], r["vf"]) for r in records]
    assert rows == [
        ("process.command_line|wildcard|*create*", "process.command_line", False, "CommandLine"),
        ("process.name|eq|wmic.exe", "process.name", False, "Image"),
        ("user.id|eq|s-1-5-18", "user.id", True, "User"),
    ]
    records, _, _ = clean_graph.execute_query(
        """
        MATCH (r:Rule {uid: 'sigma:a'})
        RETURN [(r)-[:DETECTS]->(t) | t.id] AS techniques,
               [(r)-[:OBSERVES]->(e) | e.id] AS events,
               [(r)-[:IN_STORY]->(s) | s.id] AS stories,
               [(r)-[:FROM]->(s) | s.name] AS sources,
               [(r)-[f:FILTERS_ON]->(x) | x.name + ':' + f.operators[0]] AS fields,
               r.logsource_category AS category
        """
    )
    row = records[0]
    assert row["techniques"] == ["T1546.003"]
    assert row["events"] == ["sysmon:1"]
    assert row["stories"] == ["story-1"]
    assert row["sources"] == ["sigma"]
    assert sorted(row["fields"]) == [
        "process.command_line:wildcard",
        "process.name:eq",
        "user.id:eq",
    ]
    assert row["category"] == "process_creation"
    records, _, _ = clean_graph.execute_query(
        "MATCH (t:Technique {id: 'T1546.003'})-[:SUBTECHNIQUE_OF]->(p) "
        "MATCH (t)-[:IN_TACTIC]->(ta) MATCH (:DataComponent)-[:DETECTS]->(t) "
        "RETURN p.id AS parent, ta.shortname AS tactic"
    )
    assert [(r["parent"], r["tactic"]) for r in records] == [("T1546", "persistence")]


def test_loading_twice_changes_nothing(clean_graph: Any) -> None:
    writer = GraphWriter(clean_graph)
    writer.write_attack(_catalog())
    writer.write_rules(_load(_rule("a", WMIC, CMD), _rule("b", WMIC, SYSTEM)))
    first = _counts(clean_graph)
    writer.write_attack(_catalog())
    writer.write_rules(_load(_rule("a", WMIC, CMD), _rule("b", WMIC, SYSTEM)))
    assert _counts(clean_graph) == first


def test_a_removed_rule_disappears_with_its_orphan_values(clean_graph: Any) -> None:
    writer = GraphWriter(clean_graph)
    writer.write_attack(_catalog())
    writer.write_rules(_load(_rule("a", WMIC, CMD), _rule("b", WMIC, SYSTEM)))
    writer.write_rules(_load(_rule("a", WMIC, CMD)))
    records, _, _ = clean_graph.execute_query(
        "MATCH (r:Rule) WITH collect(r.uid) AS rules "
        "MATCH (v:Value) RETURN rules, collect(v.key) AS values"
    )
    assert records[0]["rules"] == ["sigma:a"]
    assert sorted(records[0]["values"]) == [
        "process.command_line|wildcard|*create*",
        "process.name|eq|wmic.exe",
    ]
    assert clean_graph.execute_query("MATCH (f:Field {name: 'user.id'}) RETURN f").records == []


def test_a_failed_load_leaves_the_previous_graph_as_it_was(clean_graph: Any) -> None:
    writer = GraphWriter(clean_graph)
    writer.write_attack(_catalog())
    writer.write_rules(_load(_rule("a", WMIC, CMD)))
    before = _counts(clean_graph)
    keys_before = clean_graph.execute_query("MATCH (v:Value) RETURN collect(v.key) AS k").records
    # A map is not a storable property: Neo4j rejects the second batch, after the first one
    # (the removal of rule a and 600 new rules) has been written inside the transaction.
    good = [_rule(f"n{i}", SYSTEM) for i in range(600)]
    broken = dataclasses.replace(_rule("z", SYSTEM), extra={"bad": {"nested": 1}})  # type: ignore[dict-item]
    with pytest.raises(Exception, match=r"(?i)map|property|type"):
        writer.write_rules(_load(*good, broken))
    assert _counts(clean_graph) == before
    assert (
        clean_graph.execute_query("MATCH (v:Value) RETURN collect(v.key) AS k").records
        == keys_before
    )


def test_unknown_techniques_are_reported_not_created(clean_graph: Any) -> None:
    writer = GraphWriter(clean_graph)
    writer.write_attack(_catalog())
    stats = writer.write_rules(_load(_rule("a", WMIC, techniques=("T1546.003", "T9999"))))
    assert stats.unknown_techniques == ("T9999",)
    assert clean_graph.execute_query("MATCH (t:Technique {id: 'T9999'}) RETURN t").records == []
