"""Requests that are wrong in odd ways get the client's error with a code, never a server error:
bodies that are not UTF-8, text that is not Unicode, technique searches past Lucene's limits, a
document of several operations with none named."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from http_api import data, gql
from small_graph import write_small_graph

pytestmark = pytest.mark.neo4j


@pytest.fixture
def small(clean_graph: Any, api_url: str) -> str:
    write_small_graph(clean_graph)
    return api_url


def test_a_body_that_is_not_utf8_is_a_400(small: str) -> None:
    body = b'{"query": "{ technique(id: \\"\xff\xfe\\") { id } }"}'
    response = httpx.post(
        f"{small}/graphql", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert "not UTF-8" in response.text


# JSON allows a lone surrogate as an escape; Neo4j's driver cannot send it.
LONE_SURROGATE = "\ud800x"


@pytest.mark.parametrize(
    "document",
    [
        "query($s: String!) { rules(search: $s) { totalCount } }",
        "query($s: String!) { rule(uid: $s) { uid } }",
        "query($s: String!) { event(id: $s) { id } }",
        "query($s: String!) { field(name: $s) { name } }",
        "query($s: String!) { indicators(search: $s) { totalCount } }",
        "query($s: String!) { techniques(search: $s) { totalCount } }",
        "query($s: String!) { detectableWith(eventIds: [$s]) { id } }",
        'query($s: String!) { indicator(field: "process.name", operator: "eq", value: $s) '
        "{ corpusReach } }",
    ],
)
def test_text_that_is_not_unicode_is_a_bad_argument(small: str, document: str) -> None:
    # json.dumps writes the surrogate as the escape \ud800, as a browser's JSON would.
    payload = json.dumps({"query": document, "variables": {"s": LONE_SURROGATE}})
    response = httpx.post(
        f"{small}/graphql", content=payload, headers={"content-type": "application/json"}
    )
    assert response.status_code == 200
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_ARGUMENT", error
    assert "not valid Unicode" in error["message"]


def test_technique_search_past_its_length_is_a_bad_argument(small: str) -> None:
    query = "query($s: String) { techniques(search: $s, first: 1) { totalCount } }"
    # Lucene refuses a prefix past 1,000 bytes and more than 1,024 words.
    for text in ("x" * 1001, "ü" * 501, " ".join(["ab"] * 1025)):
        _, body = gql(small, query, {"s": text})
        assert body["errors"][0]["extensions"]["code"] == "BAD_ARGUMENT"
        assert "at most 200 characters" in body["errors"][0]["message"]
    assert data(small, query, {"s": "w" * 200})["techniques"]["totalCount"] == 0
    assert data(small, query, {"s": "management"})["techniques"]["totalCount"] == 2


def test_several_operations_need_an_operation_name(small: str) -> None:
    document = "query A { catalog { ruleCount } } query B { tactics { id } }"
    _, body = gql(small, document)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "2 operations" in body["errors"][0]["message"]
    named = httpx.post(
        f"{small}/graphql", json={"query": document, "operationName": "B"}, timeout=60
    ).json()
    assert "errors" not in named
    assert [t["id"] for t in named["data"]["tactics"]][:1] == ["TA0002"]


def test_errors_quote_long_arguments_cut_short(small: str) -> None:
    long = "x" * 5000
    for document in (
        "query($s: String) { rules(operator: $s) { totalCount } }",
        "query($s: String) { techniques(platform: $s) { totalCount } }",
        "query($s: String) { rules(after: $s) { totalCount } }",
    ):
        _, body = gql(small, document, {"s": long})
        message = body["errors"][0]["message"]
        assert "(5,000 characters)" in message, message
        assert len(message) < 1000
