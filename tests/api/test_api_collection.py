"""`collection`: what the rules detect with the events collected, over the small graph, and its
agreement with `detectableWith` for every set of the graph's events."""

from __future__ import annotations

from itertools import combinations
from typing import Any

import pytest
from http_api import data, gql
from small_graph import FILLER, write_small_graph

pytestmark = pytest.mark.neo4j

EVENTS = [
    "sysmon:1",
    "sysmon:19",
    "sysmon:20",
    "sysmon:21",
    "windows-security:4688",
    "powershell:4104",
    "linux-auditd",
]

COLLECTION = """
query($ids: [String!]!, $vendors: [Vendor!], $platform: String) {
  collection(eventIds: $ids, vendors: $vendors) {
    events { id } unknownEventIds ruleCount techniqueCount reachableRuleCount
    reachableTechniqueCount techniques(first: 200) { id }
    next(first: 10, platform: $platform) { event { id } newTechniqueCount newRuleCount
      techniqueCount ruleCount newTechniques(first: 2) { id } }
    plan(steps: 5, platform: $platform) { event { id } newTechniqueCount newRuleCount
      techniqueCount ruleCount }
  }
}
"""


@pytest.fixture
def small(clean_graph: Any, api_url: str) -> str:
    write_small_graph(clean_graph)
    return api_url


def _collection(url: str, ids: list[str], **variables: Any) -> dict[str, Any]:
    result: dict[str, Any] = data(url, COLLECTION, {"ids": ids, **variables})["collection"]
    return result


def _gains(rows: list[dict[str, Any]]) -> list[tuple[str, int, int, int]]:
    return [(g["event"]["id"], g["newTechniqueCount"], g["newRuleCount"], g["techniqueCount"])
            for g in rows]  # fmt: skip


def test_collection_from_process_creation(small: str) -> None:
    c = _collection(small, ["sysmon:1", "nope:1", "sysmon:1"])
    assert [e["id"] for e in c["events"]] == ["sysmon:1"]
    assert c["unknownEventIds"] == ["nope:1"]
    # b, s, e and k observe sysmon:1; they detect T1546.003, T1546.008 and T1047.
    assert (c["ruleCount"], c["techniqueCount"]) == (4, 3)
    assert [t["id"] for t in c["techniques"]] == ["T1047", "T1546.003", "T1546.008"]
    # Every current rule observes an event: a, b, w, s, e, k, p and the fillers; the deprecated
    # sigma:old (sysmon:21) is not counted.
    assert c["reachableRuleCount"] == 7 + len(FILLER)
    assert c["reachableTechniqueCount"] == 4 + len(FILLER)
    assert _gains(c["next"]) == [
        ("linux-auditd", len(FILLER), len(FILLER), 3 + len(FILLER)),
        ("powershell:4104", 1, 1, 4),
        # Rules that could fire but detect nothing new: a on sysmon:19/20, w on 4688.
        ("sysmon:19", 0, 1, 3),
        ("sysmon:20", 0, 1, 3),
        ("windows-security:4688", 0, 1, 3),
    ]
    assert c["next"][1]["newTechniques"] == [{"id": "T1059.001"}]
    windows = _collection(small, ["sysmon:1"], platform="Windows")["next"]
    assert [g["event"]["id"] for g in windows] == [
        "powershell:4104",
        "sysmon:19",
        "sysmon:20",
        "windows-security:4688",
    ]


def test_plan_is_greedy_and_stops_when_nothing_is_added(small: str) -> None:
    c = _collection(small, [])
    assert (c["ruleCount"], c["techniqueCount"]) == (0, 0)
    assert _gains(c["plan"]) == [
        ("linux-auditd", len(FILLER), len(FILLER), len(FILLER)),
        ("sysmon:1", 3, 4, 3 + len(FILLER)),
        ("powershell:4104", 1, 1, 4 + len(FILLER)),
    ]
    assert [s["ruleCount"] for s in c["plan"]] == [len(FILLER), len(FILLER) + 4,
                                                     len(FILLER) + 5]  # fmt: skip
    windows = _collection(small, [], platform="windows")["plan"]
    assert [s["event"]["id"] for s in windows] == ["sysmon:1", "powershell:4104"]


def test_vendor_filter(small: str) -> None:
    c = _collection(small, ["sysmon:1"], vendors=["ELASTIC"])
    assert (c["ruleCount"], c["techniqueCount"]) == (1, 2)
    assert (c["reachableRuleCount"], c["reachableTechniqueCount"]) == (1, 2)
    assert c["next"] == []


def test_agrees_with_detectable_with_for_every_set_of_events(small: str) -> None:
    query = """query($ids: [String!]!) {
      detectableWith(eventIds: $ids) { id }
      collection(eventIds: $ids) { techniqueCount techniques(first: 200) { id } } }"""
    for size in range(len(EVENTS) + 1):
        for ids in combinations(EVENTS, size):
            result = data(small, query, {"ids": list(ids)})
            expected = [t["id"] for t in result["detectableWith"]]
            assert result["collection"]["techniqueCount"] == len(expected), ids
            assert [t["id"] for t in result["collection"]["techniques"]] == expected, ids


def test_bad_arguments(small: str) -> None:
    for document, code in (
        ('{ collection(eventIds: ["sysmon:1"]) { plan(steps: -1) { newRuleCount } } }',
         "BAD_ARGUMENT"),
        ('{ collection(eventIds: ["sysmon:1"]) { next(first: -2) { newRuleCount } } }',
         "BAD_ARGUMENT"),
    ):  # fmt: skip
        _, body = gql(small, document)
        assert body["errors"][0]["extensions"]["code"] == code, body
    _, body = gql(
        small, '{ collection(eventIds: []) { next(platform: "banana") { newRuleCount } } }'
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_ARGUMENT"
    assert "unknown event platform 'banana'; one of: linux, windows" in body["errors"][0]["message"]
    many = [f"e{i}" for i in range(501)]
    _, body = gql(small, "query($ids: [String!]!) { collection(eventIds: $ids) { ruleCount } }",
                  {"ids": many})  # fmt: skip
    assert body["errors"][0]["extensions"]["code"] == "BAD_ARGUMENT"
    assert "at most 500" in body["errors"][0]["message"]
    # A plan asked longer than 50 steps is answered (cut to 50 at most), not refused; this graph
    # has 3 events that add a technique.
    long = data(small, "{ collection(eventIds: []) { plan(steps: 500) { newRuleCount } } }")
    assert len(long["collection"]["plan"]) == 3


def test_events_are_found_by_every_word_in_any_order(small: str) -> None:
    """The collect page's event search: words of the id or the name, any order."""
    query = "query($s: String) { events(search: $s) { id } }"
    for text in ("security 4688", "4688 SECURITY", "windows-security:4688"):
        assert [e["id"] for e in data(small, query, {"s": text})["events"]] == [
            "windows-security:4688"
        ], text
    assert data(small, query, {"s": "sysmon 4688"})["events"] == []


def test_what_every_event_of_a_platform_would_detect(small: str) -> None:
    query = """{ collection(eventIds: ["linux-auditd"]) { techniqueCount
      windows: platformTechniqueCount(platform: "Windows")
      linux: platformTechniqueCount(platform: "linux") } }"""
    c = data(small, query)["collection"]
    # Windows: T1546.003, T1546.008, T1047, T1059.001, beside the fillers auditd gives already.
    assert (c["techniqueCount"], c["windows"], c["linux"]) == (
        len(FILLER),
        len(FILLER) + 4,
        len(FILLER),
    )


def test_an_events_techniques_with_their_rule_counts(small: str) -> None:
    usage = data(small, '{ event(id: "sysmon:1") { techniqueCount techniqueUsage { ruleCount '
                 "technique { id } } } }")["event"]  # fmt: skip
    rows = [(u["technique"]["id"], u["ruleCount"]) for u in usage["techniqueUsage"]]
    assert len(rows) == usage["techniqueCount"]
    assert [n for _, n in rows] == sorted((n for _, n in rows), reverse=True)
    query = """query($t: String!) { rules(techniqueId: $t, eventId: "sysmon:1") { totalCount } }"""
    for technique, count in rows:
        assert data(small, query, {"t": technique})["rules"]["totalCount"] == count, technique
    assert rows[0] == ("T1546.003", 3)  # b, e and k
