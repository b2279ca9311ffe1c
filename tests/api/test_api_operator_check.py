"""rules(operator:) over HTTP: an operator no check can have is BAD_ARGUMENT, not an empty list."""

from __future__ import annotations

from typing import Any

import pytest
from http_api import data, gql
from small_graph import write_small_graph

pytestmark = pytest.mark.neo4j

COUNT = """query($op: String) {
  rules(field: "process.name", operator: $op, value: "wmic.exe") { totalCount } }"""


def test_unknown_operator_is_a_bad_argument(clean_graph: Any, api_url: str) -> None:
    write_small_graph(clean_graph)
    status, body = gql(api_url, COUNT, {"op": "eqq"})
    assert status == 200
    assert body["data"] is None
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_ARGUMENT"
    assert "'eqq'" in error["message"]
    assert "eq, exists, gt" in error["message"]
    # Any case of a real operator, and no operator at all, still answer.
    assert data(api_url, COUNT, {"op": "EQ"})["rules"]["totalCount"] > 0
    assert data(api_url, COUNT, {"op": " eq "})["rules"]["totalCount"] > 0
    assert data(api_url, COUNT, {"op": None})["rules"]["totalCount"] > 0
