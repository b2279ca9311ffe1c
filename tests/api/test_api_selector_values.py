"""Event selectors by value (event.action, auditd type) and without selectors in overlap and
similarity, over HTTP against the whole corpus."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from http_api import data, running_api

from graph.selectors import is_event_selector, selector_key

pytestmark = [pytest.mark.neo4j, pytest.mark.corpus]


@pytest.fixture(scope="module")
def corpus_api(corpus_graph: object) -> Iterator[str]:
    with running_api() as url:
        yield url


GUIDE = """query($id: String!) { technique(id: $id) { authoringGuide {
  distinctIndicatorCount distinctEventSelectorCount
  all: indicators(first: 200) { field { name } value eventSelector }
  indicators(first: 10, includeEventSelectors: false) { field { name } value eventSelector }
  eventSelectors(first: 200) { field { name } value negated }
} } }"""


def test_process_start_actions_are_selectors_not_top_indicators(corpus_api: str) -> None:
    guide = data(corpus_api, GUIDE, {"id": "T1059.004"})["technique"]["authoringGuide"]
    for row in guide["all"]:
        assert row["eventSelector"] == is_event_selector(row["field"]["name"], row["value"]), row
    # What said "a process started" no longer leads the Unix shell's indicators.
    top = [(i["field"]["name"], i["value"]) for i in guide["indicators"]]
    assert top[0] == ("process.name", "bash")
    assert not any(field == "event.action" for field, _ in top)
    selectors = {(s["field"]["name"], s["value"]) for s in guide["eventSelectors"]}
    # event.action values are folded (one spelling): CrowdStrike's ProcessRollup2 too.
    for value in ("exec", "start", "exec_event", "processrollup2", "executed", "process_started"):
        assert ("event.action", value) in selectors, value
    # Counted apart as before: the list without selectors has the difference.
    assert guide["distinctEventSelectorCount"] == len(
        [s for s in guide["eventSelectors"] if not s["negated"]]
    )


def test_auditd_record_types_are_selectors_and_named_actions_are_not(corpus_api: str) -> None:
    rows = data(
        corpus_api,
        """{ a: rules(field: "type", operator: "eq", value: "execve") { totalCount }
             b: rules(field: "event.action", operator: "eq", value: "consolelogin") {
               totalCount } }""",
    )
    assert rows["a"]["totalCount"] == 48
    # Sigma's eventName and Elastic's case-sensitive event.action == "ConsoleLogin" included.
    assert rows["b"]["totalCount"] == 23
    assert is_event_selector("type", "execve")
    assert is_event_selector("type", "SYSCALL")
    assert not is_event_selector("type", "service_stop")
    assert not is_event_selector("event.action", "consolelogin")
    assert not is_event_selector("event.action", "deletebucket")
    assert not is_event_selector("event.action")
    assert selector_key("event.action|eq|exec_event")
    assert not selector_key("event.action|wildcard|*exec*")


OVERLAP = """query($ids: [String!]!, $selectors: Boolean) {
  indicatorOverlap(techniqueIds: $ids, first: 100, includeEventSelectors: $selectors) {
    field { name } operator value eventSelector corpusReach
    ruleCountByTechnique { technique { id } ruleCount } } }"""


def _overlap(url: str, ids: list[str], selectors: bool | None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = data(url, OVERLAP, {"ids": ids, "selectors": selectors})[
        "indicatorOverlap"
    ]
    return rows


def test_overlap_without_selectors(corpus_api: str) -> None:
    # T1546.003 and T1574.009 share only what Elastic's process rules all select on.
    pair = ["T1546.003", "T1574.009"]
    shared = _overlap(corpus_api, pair, None)
    assert {(r["field"]["name"], r["value"]) for r in shared} == {
        ("host.os.type", "windows"),
        ("event.category", "process"),
        ("event.type", "start"),
    }
    assert all(r["eventSelector"] for r in shared)
    assert _overlap(corpus_api, pair, False) == []
    # With T1047: 29 shared, 6 of them selectors; without them the other 23, in the same order.
    pair = ["T1546.003", "T1047"]
    every = _overlap(corpus_api, pair, True)
    assert (len(every), sum(r["eventSelector"] for r in every)) == (29, 6)
    assert _overlap(corpus_api, pair, False) == [r for r in every if not r["eventSelector"]]
    # Three techniques: the first rows are indicators, not host.os.type or event.category.
    three = _overlap(corpus_api, ["T1546.003", "T1047", "T1059.001"], False)
    assert (three[0]["field"]["name"], three[0]["value"]) == ("process.name", "wmic.exe")
    assert not any(r["eventSelector"] for r in three)


SIMILAR = """query($id: String!, $selectors: Boolean) {
  similarTechniques(id: $id, first: 6, includeEventSelectors: $selectors) {
    technique { id } jaccard sharedIndicators indicatorCount } }"""


def _sets(driver: Any, drop_selectors: bool) -> dict[str, set[str]]:
    """Each current technique's non-negated indicators from current rules, read here."""
    records, _, _ = driver.execute_query(
        """MATCH (t:Technique)<-[:DETECTS]-(r:Rule)-[c:CHECKS]->(v:Value)
           WHERE NOT r.deprecated AND NOT c.negated
           RETURN t.id AS id, coalesce(t.revoked, false) OR coalesce(t.deprecated, false)
                  AS retired, collect(DISTINCT v.key) AS keys"""
    )
    return {
        r["id"]: {k for k in r["keys"] if not (drop_selectors and selector_key(k))} for r in records
    } | {"__retired__": {r["id"] for r in records if r["retired"]}}


def test_similarity_without_selectors_is_jaccard_over_the_rest(
    corpus_api: str, neo4j_driver: Any
) -> None:
    answer = data(corpus_api, SIMILAR, {"id": "T1546.003", "selectors": False})
    similar = answer["similarTechniques"]
    # T1047, the obvious neighbour, is second; T1574.009 and T1059.010 shared only selectors.
    ids = [s["technique"]["id"] for s in similar]
    assert ids[:2] == ["T1220", "T1047"]
    assert "T1574.009" not in ids
    assert "T1059.010" not in ids
    sets = _sets(neo4j_driver, drop_selectors=True)
    retired = sets.pop("__retired__")
    mine = sets["T1546.003"]
    expected = sorted(
        (-len(mine & other) / len(mine | other), -len(mine & other), tid)
        for tid, other in sets.items()
        if tid != "T1546.003" and tid not in retired and mine & other
    )[:6]
    assert [(s["technique"]["id"], s["sharedIndicators"]) for s in similar] == [
        (tid, -shared) for _, shared, tid in expected
    ]
    for entry, (jaccard, _, tid) in zip(similar, expected, strict=True):
        assert entry["jaccard"] == pytest.approx(-jaccard)
        assert entry["indicatorCount"] == len(sets[tid])
    # The default keeps the contract's meaning: every non-negated indicator counts.
    default = data(corpus_api, SIMILAR, {"id": "T1546.003", "selectors": None})
    assert "T1574.009" in [s["technique"]["id"] for s in default["similarTechniques"]]
