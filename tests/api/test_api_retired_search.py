"""techniques(search:, includeDeprecated: true) over HTTP: retired techniques found, ranked last."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from http_api import data, running_api
from small_graph import write_small_graph

pytestmark = pytest.mark.neo4j

SEARCH = """query($s: String, $retired: Boolean) {
  techniques(search: $s, first: 100, includeDeprecated: $retired) {
    totalCount nodes { id revoked deprecated revokedBy { id } } } }"""


def _nodes(url: str, text: str, retired: bool = True) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = data(url, SEARCH, {"s": text, "retired": retired})["techniques"][
        "nodes"
    ]
    return nodes


def test_retired_techniques_come_after_current_ones(clean_graph: Any, api_url: str) -> None:
    write_small_graph(clean_graph, extras=True)
    found = _nodes(api_url, "t1")
    ids = [t["id"] for t in found]
    # Every id matches "t1"; the retired ones come after the current ones although T1546.098
    # and T1546.099 sort before the T16xx fillers by id.
    assert ids[-3:] == ["T1546.098", "T1546.099", "T1999"]
    assert ids[:-3] == sorted(ids[:-3])
    assert "T1600" in ids[:-3]
    assert not any(t["revoked"] or t["deprecated"] for t in found[:-3])
    # A retired id typed in full is its first hit, marked with what replaced it.
    assert _nodes(api_url, "T1546.099")[0] == {
        "id": "T1546.099",
        "revoked": True,
        "deprecated": False,
        "revokedBy": {"id": "T1546.003"},
    }
    assert _nodes(api_url, "Deprecated Sub")[0]["deprecated"] is True
    # Without includeDeprecated they stay out, as before.
    assert _nodes(api_url, "T1546.099", retired=False) == []


@pytest.fixture(scope="module")
def corpus_api(corpus_graph: object) -> Iterator[str]:
    with running_api() as url:
        yield url


@pytest.mark.corpus
def test_a_revoked_technique_rules_still_carry_is_found(corpus_api: str) -> None:
    # T1574.002 DLL Side-Loading: revoked for T1574.001, still the tag of current rules.
    assert _nodes(corpus_api, "T1574.002")[0] == {
        "id": "T1574.002",
        "revoked": True,
        "deprecated": False,
        "revokedBy": {"id": "T1574.001"},
    }
    assert "T1574.002" in [t["id"] for t in _nodes(corpus_api, "DLL Side-Loading")]
    assert _nodes(corpus_api, "T1574.002", retired=False) == []
