"""The corpus in a real Neo4j: one Sigma Rule per id with every branch, shared library loads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from corpus_expect import sigma_rule_uids

pytestmark = [pytest.mark.neo4j, pytest.mark.corpus]

REMOTE_SERVICE = "unsupported/windows/win_remote_service.yml"
REIMAGING = "unsupported/windows/sysmon_process_reimaging.yml"


def _query(driver: Any, cypher: str, **params: Any) -> list[dict[str, Any]]:
    records, _, _ = driver.execute_query(cypher, params)
    return [record.data() for record in records]


def test_sigma_rule_count_is_one_per_id_in_the_files(corpus_graph: Any, corpus_dir: Path) -> None:
    from covgraph.pipeline import plan_from_corpus, run

    rows = _query(
        corpus_graph,
        "MATCH (s:Source {name: 'sigma'}) OPTIONAL MATCH (r:Rule)-[:FROM]->(s) "
        "RETURN s.rule_count AS declared, count(r) AS rules",
    )
    expected = len(sigma_rule_uids(corpus_dir / "sigma"))
    assert rows[0]["rules"] == rows[0]["declared"] == expected
    # the dry-run report says the same
    (report,) = run(plan_from_corpus(corpus_dir, {"sigma"}), None).sources
    assert report.rules == expected


def test_multi_document_sigma_rules_observe_every_branch(corpus_graph: Any) -> None:
    rows = _query(
        corpus_graph,
        "MATCH (r:Rule {vendor: 'sigma'}) WHERE r.path IN $paths "
        "RETURN r.path AS path, [(r)-[:OBSERVES]->(e) | e.id] AS events, "
        "[(r)-[:CHECKS]->(v) | v.key] AS keys",
        paths=[REMOTE_SERVICE, REIMAGING],
    )
    by_path = {row["path"]: row for row in rows}
    remote = by_path[REMOTE_SERVICE]
    assert {"windows-security:4624", "windows-security:4697", "windows-system:7045"} <= set(
        remote["events"]
    )
    assert {"event.code|eq|4697", "event.code|eq|7045"} <= set(remote["keys"])
    assert "sysmon:11" in by_path[REIMAGING]["events"]


def test_loaded_libraries_are_shared_across_vendors(corpus_graph: Any) -> None:
    rows = _query(
        corpus_graph,
        "MATCH (v:Value)<-[c:CHECKS]-(r:Rule) WHERE v.key IN $keys "
        "RETURN v.key AS key, collect(DISTINCT r.vendor) AS vendors, "
        "collect(DISTINCT c.vendor_field) AS fields",
        keys=["dll.name|eq|dbghelp.dll", "dll.name|eq|samlib.dll"],
    )
    found = {row["key"]: row for row in rows}
    assert {"sigma", "elastic"} <= set(found["dll.name|eq|dbghelp.dll"]["vendors"])
    samlib = found["dll.name|eq|samlib.dll"]
    assert set(samlib["vendors"]) == {"sigma", "elastic", "splunk"}
    assert {"ImageLoaded", "dll.name", "loaded_file_path"} <= set(samlib["fields"])
    # the pySigma name for Sigma's image loads is gone from image-load rules
    stale = _query(
        corpus_graph,
        "MATCH (r:Rule {vendor: 'sigma', logsource_category: 'image_load'})-[c:CHECKS]->(v) "
        "WHERE c.vendor_field = 'ImageLoaded' AND v.field STARTS WITH 'file.' "
        "RETURN count(*) AS n",
    )
    assert stale[0]["n"] == 0
    shared = _query(
        corpus_graph,
        "MATCH (v:Value)<-[:CHECKS]-(r:Rule) WHERE v.field IN ['dll.name', 'dll.path'] "
        "WITH v, collect(DISTINCT r.vendor) AS vendors WHERE size(vendors) >= 2 "
        "RETURN count(v) AS n",
    )
    assert shared[0]["n"] >= 100
