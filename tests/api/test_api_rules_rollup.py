"""rules(techniqueId:, includeSubtechniques:) lists the rules behind each count of a technique
page: its events' and fields' rule counts, with and without the roll-up."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from http_api import data, running_api

pytestmark = [pytest.mark.neo4j, pytest.mark.corpus]

PAGE = """query($id: String!, $sub: Boolean!) { technique(id: $id) {
  coverage(includeSubtechniques: $sub) { ruleCount eventUsage { ruleCount event { id } } }
  authoringGuide(includeSubtechniques: $sub) { fields(first: 200) { field { name } ruleCount } }
} }"""

COUNT = """query($id: String, $sub: Boolean, $event: String, $field: String) {
  rules(techniqueId: $id, includeSubtechniques: $sub, eventId: $event, field: $field, first: 1) {
    totalCount } }"""


@pytest.fixture(scope="module")
def corpus_api(corpus_graph: object) -> Iterator[str]:
    with running_api() as url:
        yield url


def _total(url: str, **variables: object) -> int:
    total: int = data(url, COUNT, variables)["rules"]["totalCount"]
    return total


@pytest.mark.parametrize(("technique", "sub"), [("T1546.003", False), ("T1059", True)])
def test_event_and_field_counts_are_the_rules_listed(
    corpus_api: str, technique: str, sub: bool
) -> None:
    page = data(corpus_api, PAGE, {"id": technique, "sub": sub})["technique"]
    assert _total(corpus_api, id=technique, sub=sub) == page["coverage"]["ruleCount"]
    for usage in page["coverage"]["eventUsage"]:
        listed = _total(corpus_api, id=technique, sub=sub, event=usage["event"]["id"])
        assert listed == usage["ruleCount"], usage
    for usage in page["authoringGuide"]["fields"][:40]:
        listed = _total(corpus_api, id=technique, sub=sub, field=usage["field"]["name"])
        assert listed == usage["ruleCount"], usage


def test_the_roll_up_adds_current_sub_techniques_rules_only(corpus_api: str) -> None:
    direct = _total(corpus_api, id="T1059")
    rolled = _total(corpus_api, id="T1059", sub=True)
    assert rolled > direct
    # Without a technique the argument changes nothing.
    assert _total(corpus_api, event="sysmon:1", sub=True) == _total(corpus_api, event="sysmon:1")
    # T1546.003 has no sub-technique: the same list either way.
    assert _total(corpus_api, id="T1546.003", sub=True) == _total(corpus_api, id="T1546.003")
