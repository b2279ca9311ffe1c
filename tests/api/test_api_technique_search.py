"""techniques(search:) over HTTP: id prefix, name and full-text matches, ranked, paged, escaped."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from http_api import data, gql, running_api
from small_graph import write_small_graph

pytestmark = pytest.mark.neo4j

SEARCH = """query($s: String, $first: Int, $after: String) {
  techniques(search: $s, first: $first, after: $after) {
    totalCount edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }"""


@pytest.fixture
def small(clean_graph: Any, api_url: str) -> str:
    write_small_graph(clean_graph)
    return api_url


def _found(url: str, search: str, first: int = 200) -> list[str]:
    page = data(url, SEARCH, {"s": search, "first": first})["techniques"]
    ids = [edge["node"]["id"] for edge in page["edges"]]
    assert len(ids) == min(page["totalCount"], first)
    return ids


def test_search_finds_descriptions_and_ranks_id_name_then_text(small: str) -> None:
    # WMI is in no name: the descriptions of T1047 and T1546.003 have it.
    assert sorted(_found(small, "WMI")) == ["T1047", "T1546.003"]
    # Every word is needed, in any order and case.
    assert _found(small, "wmi event") == ["T1546.003"]
    assert _found(small, "EVENT wmi") == ["T1546.003"]
    assert _found(small, "mimikatz") == ["T1059.001"]
    # The last word is also a prefix: the box asks while the user types.
    assert _found(small, "mimi") == ["T1059.001"]
    assert _found(small, "mofcomp.exe") == ["T1546.003"]
    # Name matches before description matches: T1546 is named "Event Triggered Execution",
    # T1059.001's description ends "for execution".
    assert _found(small, "execution") == ["T1546", "T1059.001"]
    # "command" is in T1059's name; T1047's and T1059.001's descriptions say "commands".
    found = _found(small, "command")
    assert found[0] == "T1059"
    assert sorted(found[1:]) == ["T1047", "T1059.001"]
    # Id prefixes first, by id; then names ("Management" in T1047 and T1546.003).
    assert _found(small, "t1546") == ["T1546", "T1546.003", "T1546.008"]
    assert _found(small, "management") == ["T1047", "T1546.003"]
    # Revoked techniques stay out unless asked for, as without search.
    assert _found(small, "old") == []


def test_search_text_is_never_lucene_syntax(small: str) -> None:
    for text in ("T1059.*", '"', "(", ")", "wmi AND", "OR", "NOT wmi", "name:wmi", "*", "?",
                 "\\", "wmi~", "[a TO z]", "{", "^2", "a/b", "&&", "||", "!", "-", "+wmi"):  # fmt: skip  # noqa: E501
        status, body = gql(small, SEARCH, {"s": text, "first": 5})
        assert status == 200, (text, body)
        assert "errors" not in body, (text, body)
    # Operators are words, not operators: "NOT wmi" needs the word "not" too (in no text),
    # "wmi AND" the word "and" (T1047's "commands and payloads").
    assert _found(small, "NOT wmi") == []
    assert _found(small, "wmi AND") == ["T1047"]
    # A field name is text too: no technique says "name:wmi".
    assert _found(small, "name:wmi") == []


def test_search_pages_through_the_ranked_list(small: str) -> None:
    whole = _found(small, "command")
    seen: list[str] = []
    after = None
    while True:
        page = data(small, SEARCH, {"s": "command", "first": 1, "after": after})["techniques"]
        assert page["totalCount"] == len(whole)
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == whole


@pytest.fixture(scope="module")
def corpus_api(corpus_graph: object) -> Iterator[str]:
    """An API server with its caches on, over the loaded corpus."""
    with running_api() as url:
        yield url


@pytest.mark.corpus
def test_descriptions_find_wmi_and_mimikatz(corpus_api: str) -> None:
    # The page's search box suggests "WMI Event…"; none of these is in a technique's name.
    wmi = _found(corpus_api, "WMI", first=12)
    assert wmi[:2] == ["T1047", "T1546.003"]
    assert _found(corpus_api, "wmi event", first=3)[0] == "T1546.003"
    assert "T1003" in _found(corpus_api, "mimikatz", first=12)
    # Id prefixes still come first, sub-techniques in id order.
    assert _found(corpus_api, "T1059", first=3) == ["T1059", "T1059.001", "T1059.002"]
    # An id with a word, in either order: the analyzer keeps t1059.001 as one word, so the id
    # is a prefix; the sub-technique whose name holds the word comes first.
    assert _found(corpus_api, "T1059 powershell", first=1) == ["T1059.001"]
    assert _found(corpus_api, "powershell t1059", first=1) == ["T1059.001"]
    # Pages of 7 give the same ranked list as one page.
    whole = _found(corpus_api, "credential")
    assert len(whole) > 50
    paged: list[str] = []
    after = None
    while len(paged) < len(whole):
        page = data(corpus_api, SEARCH, {"s": "credential", "first": 7, "after": after})
        edges = page["techniques"]["edges"]
        paged += [edge["node"]["id"] for edge in edges]
        after = edges[-1]["cursor"]
    assert paged == whole
