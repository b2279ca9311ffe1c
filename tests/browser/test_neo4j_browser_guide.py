"""docs/neo4j-browser.md and docs/covgraph.grass against the graph loaded with the whole corpus.

Every Cypher block of the guide runs with the guide's own `:params`, returns rows and uses no
deprecated feature; the figures of the main queries equal the API's answers to the same
questions. The GraSS file is read the way Neo4j Browser reads it and checked against the labels
and properties in the graph.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from browser_page import gql
from neo4j_guide import GRASS, guide_blocks, read_grass, section

pytestmark = [pytest.mark.neo4j, pytest.mark.corpus]

WMI_PERSISTENCE = "sigma:0b7889b4-5577-4521-a60a-3376ee7f9f7b"


def run(driver: Any, query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of a guide query; a warning from Neo4j (deprecation, unknown label) fails it."""
    from neo4j import NotificationSeverity

    records, summary, _ = driver.execute_query(query, params)
    warnings = [
        f"{status.gql_status} {status.status_description}"
        for status in summary.gql_status_objects
        if status.is_notification and status.severity == NotificationSeverity.WARNING
    ]
    assert not warnings, f"{warnings} from:\n{query}"
    return [dict(record) for record in records]


@pytest.fixture(scope="module")
def params(corpus_graph: Any) -> dict[str, Any]:
    """The guide's `:params {...}` map, evaluated by Neo4j as Browser does."""
    found = [code for _, code in guide_blocks() if code.startswith(":params ")]
    assert len(found) == 1, found
    records, _, _ = corpus_graph.execute_query(
        f"RETURN {found[0].removeprefix(':params ')} AS params"
    )
    value: dict[str, Any] = records[0]["params"]
    return value


def test_every_query_of_the_guide_runs_and_returns_rows(
    corpus_graph: Any, params: dict[str, Any]
) -> None:
    queries = [code for _, code in guide_blocks() if not code.startswith(":")]
    assert len(queries) >= 12
    for query in queries:
        assert run(corpus_graph, query, params), f"no rows from:\n{query}"


def test_a_techniques_rules_and_events_as_the_api_counts_them(
    corpus_graph: Any, params: dict[str, Any], page_url: str
) -> None:
    api = gql(
        page_url,
        """query($id: String!) { technique(id: $id) { coverage {
             ruleCount eventUsage { ruleCount event { id } }
             byVendor { vendor ruleCount rules { uid } } } } }""",
        {"id": params["id"]},
    )["technique"]["coverage"]
    rules = run(corpus_graph, section(1)[0], params)
    assert len(rules) == api["ruleCount"] == 18
    by_vendor = {v["vendor"].lower(): v["ruleCount"] for v in api["byVendor"]}
    assert {v: sum(1 for r in rules if r["vendor"] == v) for v in by_vendor} == by_vendor
    assert any("wmi-activity:5861" in r["events"] for r in rules)

    events = run(corpus_graph, section(2)[0], params)
    assert [(e["event"], e["rules"]) for e in events] == [
        (u["event"]["id"], u["ruleCount"]) for u in api["eventUsage"]
    ]


def test_attack_events_as_the_api_lists_them(
    corpus_graph: Any, params: dict[str, Any], page_url: str
) -> None:
    api = gql(
        page_url,
        "query($id: String!) { technique(id: $id) { attackEvents { event { id } analytics "
        "ruleCount } } }",
        {"id": params["id"]},
    )["technique"]["attackEvents"]
    rows = run(corpus_graph, section(3)[1], params)
    assert [(r["event"], r["analytics"], r["rules"]) for r in rows] == [
        (e["event"]["id"], e["analytics"], e["ruleCount"]) for e in api
    ]
    assert any(r["rules"] == 0 for r in rows)


def test_shared_indicators_as_indicator_overlap(
    corpus_graph: Any, params: dict[str, Any], page_url: str
) -> None:
    api = gql(
        page_url,
        """query($ids: [String!]!) { indicatorOverlap(techniqueIds: $ids, first: 200) {
             field { name } operator value corpusReach ruleCountByTechnique { ruleCount } } }""",
        {"ids": [params["id"], params["other"]]},
    )["indicatorOverlap"]
    rows = run(corpus_graph, section(4)[0], params)
    expected = {
        (i["field"]["name"], i["operator"], i["value"]): (
            *(c["ruleCount"] for c in i["ruleCountByTechnique"]),
            i["corpusReach"],
        )
        for i in api
    }
    got = {(r["field"], r["op"], r["value"]): (r["rules_a"], r["rules_b"], r["corpus_reach"])
           for r in rows}  # fmt: skip
    assert got == expected
    assert got[("process.name", "eq", "wmic.exe")] == (2, 42, 112)


def test_one_indicator_across_vendors_adds_up_to_its_corpus_reach(
    corpus_graph: Any, params: dict[str, Any], page_url: str
) -> None:
    indicators = gql(
        page_url,
        """query($id: String!) { technique(id: $id) { authoringGuide { indicators(first: 100) {
             field { name } operator value ruleCount corpusReach } } } }""",
        {"id": params["id"]},
    )["technique"]["authoringGuide"]["indicators"]
    wmic = next(
        i
        for i in indicators
        if f"{i['field']['name']}|{i['operator']}|{i['value']}" == params["key"]
    )
    vendors = run(corpus_graph, section(7)[0], params)
    assert {v["vendor"] for v in vendors} == {"sigma", "elastic", "splunk"}
    assert sum(v["rules"] for v in vendors) == wmic["corpusReach"]
    # What else those rules look for: the API's checkedWith, row for row.
    field, operator, value = params["key"].split("|", 2)
    companions = gql(
        page_url,
        """query($field: String!, $operator: String!, $value: String!) {
             indicator(field: $field, operator: $operator, value: $value) {
               checkedWith(first: 20) { field { name } operator value ruleCount } } }""",
        {"field": field, "operator": operator, "value": value},
    )["indicator"]["checkedWith"]
    both = run(corpus_graph, section(7)[2], params)
    assert [(r["field"], r["op"], r["value"], r["rules_checking_both"]) for r in both] == [
        (c["field"]["name"], c["operator"], c["value"], c["ruleCount"]) for c in companions
    ]
    assert ("process.pe.original_file_name", "eq", "wmic.exe", 53) in [
        (r["field"], r["op"], r["value"], r["rules_checking_both"]) for r in both
    ]
    rules = run(corpus_graph, section(6)[3], params)
    assert sum(1 for r in rules if not r["excluded"]) == wmic["corpusReach"]
    assert {r["vendor"] for r in rules if r["excluded"]} <= {"sigma", "elastic", "splunk"}

    # The most specific indicators (query 10) are those whose reach is the technique's own.
    specific = run(corpus_graph, section(10)[0], params)
    assert {(r["field"], r["op"], r["value"]) for r in specific} == {
        (i["field"]["name"], i["operator"], i["value"])
        for i in indicators
        if i["corpusReach"] == i["ruleCount"]
    }


def test_a_value_exactly_and_contained(
    corpus_graph: Any, params: dict[str, Any], page_url: str
) -> None:
    exact_query, contains_query, totals_query = section(6)[:3]
    exact = run(corpus_graph, exact_query, params)
    contains = run(corpus_graph, contains_query, params)
    (totals,) = run(corpus_graph, totals_query, params)
    value = params["value"]

    # The exact query: the values equal to wmic.exe, in the fields the guide names.
    assert {r["value"] for r in exact} == {value}
    assert {r["field"] for r in exact} == {
        "process.name", "process.pe.original_file_name", "process.parent.name",
    }  # fmt: skip

    # The CONTAINS query: those rows and more, every value containing it whatever its case.
    def keys(rows: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
        return {(r["field"], r["op"], r["value"]) for r in rows}

    assert keys(exact) < keys(contains)
    assert all(value in r["value"].lower() for r in contains)
    assert ("process.command_line", "wildcard", f"*{value}*") in keys(contains)
    assert len(contains) == 12
    assert len({r["field"] for r in contains}) == 10

    # Distinct rules: the exact count is the API's rules(value:), and the guide's figures.
    api = gql(page_url, "query($v: String!) { rules(value: $v) { totalCount } }", {"v": value})
    assert totals["rules_exact"] == api["rules"]["totalCount"] == 122
    assert totals["rules_containing"] == 131
    assert (totals["containing_checking"], totals["containing_excluding"]) == (129, 4)


def test_a_rules_exclusions_as_its_negated_predicates(
    corpus_graph: Any, params: dict[str, Any], page_url: str
) -> None:
    rule = gql(
        page_url,
        """query($uid: String!) { rule(uid: $uid) { sourcePath
             predicates { field { name } operator value negated } } }""",
        {"uid": WMI_PERSISTENCE},
    )["rule"]
    assert rule["sourcePath"] == params["file"]
    rows = run(corpus_graph, section(8)[0], params)
    assert sorted((r["field"], r["op"], r["value"]) for r in rows) == sorted(
        (p["field"]["name"], p["operator"], p["value"]) for p in rule["predicates"] if p["negated"]
    )
    assert ("winlog.event_data.Provider", "eq", "scm event provider") in {
        (r["field"], r["op"], r["value"]) for r in rows
    }


def test_uncovered_techniques_are_the_empty_cells_of_the_matrix(
    corpus_graph: Any, params: dict[str, Any], page_url: str
) -> None:
    matrix = gql(
        page_url,
        """query($platform: String) { coverageMatrix(platform: $platform) {
             techniques { ruleCount technique { id } } } }""",
        {"platform": params["platform"]},
    )["coverageMatrix"]
    empty = {
        c["technique"]["id"] for col in matrix for c in col["techniques"] if not c["ruleCount"]
    }
    rows = run(corpus_graph, section(9)[0], params)
    assert {r["id"] for r in rows} == empty
    assert len(empty) > 0


def test_fields_of_a_vendor_and_loaded_sources(corpus_graph: Any, params: dict[str, Any]) -> None:
    fields = run(corpus_graph, section(5)[0], params)
    assert fields[0]["field"] == "event.category"
    assert fields[0]["operators"][0].startswith("eq ")
    assert [f["rules"] for f in fields] == sorted((f["rules"] for f in fields), reverse=True)
    aliases = run(corpus_graph, section(11)[0], params)
    assert {a["vendor"] for a in aliases} == {"sigma", "elastic", "splunk"}
    sources = run(corpus_graph, section(12)[0], params)
    assert {s["source"] for s in sources} == {"attack", "sigma", "elastic", "splunk"}


def test_grass_gives_every_label_a_colour_and_a_caption_it_can_fill(corpus_graph: Any) -> None:
    text = GRASS.read_text()
    # Browser's reader knows neither comments nor double quotes.
    assert "/*" not in text
    assert '"' not in text
    style = read_grass(text)
    assert {"node", "relationship"} <= style.keys()
    records, _, _ = corpus_graph.execute_query("CALL db.labels() YIELD label RETURN label")
    labels = [r["label"] for r in records]
    colours = set()
    for label in labels:
        rule = style.get(f"node.{label}")
        assert rule, f"no style for {label}"
        assert re.fullmatch(r"#[0-9A-Fa-f]{6}", rule["color"]), rule
        colours.add(rule["color"].upper())
        keys = re.findall(r"\{([^{}]*)\}", rule["caption"])
        assert keys, f"{label}: caption {rule['caption']!r} names no property"
        for key in keys:
            records, _, _ = corpus_graph.execute_query(
                f"MATCH (n:`{label}`) RETURN count(n) AS n, count(n[$key]) AS with_key", key=key
            )
            assert records[0]["n"] == records[0]["with_key"], (label, key)
    assert len(colours) == len(labels)  # one colour per node type
    assert style["node.Technique"]["caption"] == "{id} {name}"
    assert style["node.Rule"]["caption"] == "{title}"
    assert style["node.Value"]["caption"] == "{field} {operator} {value}"
