"""Event selectors in the authoring guide: told apart, left out on request, counted apart."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from http_api import data, running_api
from small_graph import write_small_graph

from graph.selectors import EVENT_SELECTOR_FIELDS

pytestmark = pytest.mark.neo4j

GUIDE = """query($id: String!) { technique(id: $id) { authoringGuide {
  distinctIndicatorCount distinctExclusionCount
  distinctEventSelectorCount distinctExcludedEventSelectorCount
  fields(first: 200) { field { name } eventSelector }
  all: indicators(first: 200) { field { name } operator value eventSelector }
  indicators(first: 200, includeEventSelectors: false) { field { name } value eventSelector }
  allExclusions: exclusions(first: 200) { field { name } value eventSelector }
  exclusions(first: 200, includeEventSelectors: false) { field { name } value eventSelector }
  eventSelectors(first: 200) { field { name } operator value negated ruleCount corpusReach }
} } }"""


def _guide(url: str, technique: str) -> dict[str, Any]:
    guide: dict[str, Any] = data(url, GUIDE, {"id": technique})["technique"]["authoringGuide"]
    return guide


def _check_counts_add_up(guide: dict[str, Any]) -> None:
    """Each count is the length of the list it names (all lists here fit in one page)."""
    assert len(guide["all"]) == guide["distinctIndicatorCount"]
    assert len(guide["allExclusions"]) == guide["distinctExclusionCount"]
    assert len(guide["indicators"]) == (
        guide["distinctIndicatorCount"] - guide["distinctEventSelectorCount"]
    )
    assert len(guide["exclusions"]) == (
        guide["distinctExclusionCount"] - guide["distinctExcludedEventSelectorCount"]
    )
    assert len(guide["eventSelectors"]) == (
        guide["distinctEventSelectorCount"] + guide["distinctExcludedEventSelectorCount"]
    )
    for row in guide["all"] + guide["allExclusions"] + guide["fields"]:
        assert row["eventSelector"] == (row["field"]["name"] in EVENT_SELECTOR_FIELDS), row
    assert not any(row["eventSelector"] for row in guide["indicators"] + guide["exclusions"])
    assert all(row["field"]["name"] in EVENT_SELECTOR_FIELDS for row in guide["eventSelectors"])


@pytest.fixture
def extras(clean_graph: Any, api_url: str) -> str:
    write_small_graph(clean_graph, extras=True)
    return api_url


def test_selectors_are_told_apart_on_the_small_graph(extras: str) -> None:
    # Rule x (T1059.001) reads event.code 1 and excludes host.os.type linux.
    guide = _guide(extras, "T1059.001")
    _check_counts_add_up(guide)
    assert (guide["distinctEventSelectorCount"], guide["distinctExcludedEventSelectorCount"]) == (
        1,
        1,
    )
    selectors = [
        (s["field"]["name"], s["value"], s["negated"], s["ruleCount"], s["corpusReach"])
        for s in guide["eventSelectors"]
    ]
    assert selectors == [("event.code", "1", False, 1, 1), ("host.os.type", "linux", True, 1, 1)]
    flags = {f["field"]["name"]: f["eventSelector"] for f in guide["fields"]}
    assert (flags["event.code"], flags["process.name"]) == (True, False)
    # The default keeps the contract's lists whole: selectors are in them, flagged.
    assert ("event.code", "1") in {(i["field"]["name"], i["value"]) for i in guide["all"]}
    # A technique whose rules select by no field has none.
    plain = _guide(extras, "T1546.003")
    _check_counts_add_up(plain)
    assert plain["eventSelectors"] == []
    assert plain["indicators"] == [
        {k: v for k, v in i.items() if k != "operator"} for i in plain["all"]
    ]


@pytest.fixture(scope="module")
def corpus_api(corpus_graph: object) -> Iterator[str]:
    """An API server with its caches on, over the loaded corpus."""
    with running_api() as url:
        yield url


@pytest.mark.corpus
def test_t1546_003_indicators_lead_with_indicators(corpus_api: str) -> None:
    guide = _guide(corpus_api, "T1546.003")
    _check_counts_add_up(guide)
    # 63 indicators, 13 of them event selectors; 22 exclusions, none a selector.
    assert guide["distinctIndicatorCount"] == 63
    assert guide["distinctEventSelectorCount"] == 13
    assert (guide["distinctExclusionCount"], guide["distinctExcludedEventSelectorCount"]) == (22, 0)
    top = [(i["field"]["name"], i["value"]) for i in guide["all"][:5]]
    assert top == [
        ("event.code", "21"),
        ("host.os.type", "windows"),
        ("event.category", "process"),
        ("event.code", "20"),
        ("event.type", "start"),
    ]
    # Without selectors, the wmic.exe is in the top four (all checked by two rules).
    first = [(i["field"]["name"], i["value"]) for i in guide["indicators"][:4]]
    assert ("process.name", "wmic.exe") in first
    reach = {(s["field"]["name"], s["value"]): s["corpusReach"] for s in guide["eventSelectors"]}
    assert reach[("host.os.type", "windows")] > 500
