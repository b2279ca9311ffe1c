"""The cost limit and the Neo4j transaction timeout, over HTTP; the estimates of known queries."""

from __future__ import annotations

import importlib.util
import re
from typing import Any

import pytest
from graphql import parse
from http_api import REPO, data, gql, running_api
from small_graph import write_small_graph

from api.cost import MAX_COST, estimate_cost
from api.schema import build_schema

#: A request over the corpus that took 12.8 s and returned 12.7 MB before the cost limit.
LARGE_REQUEST = """{ techniques(first: 200) { nodes { id
  coverage(includeSubtechniques: true, includeDeprecated: true) { ruleCount
    byVendor { vendor rules { uid title
      predicates { field { name } vendorField operator value negated } } } }
  authoringGuide(includeSubtechniques: true) {
    indicators(first: 200) { field { name } operator value ruleCount corpusReach } } } } }"""

#: The DataLoader test's page of techniques (tests/api/test_api_small_graph.py).
FIFTY = """query($first: Int) { techniques(tactic: "execution", first: $first) {
    edges { node { id name tactics { id } parent { id }
      coverage { ruleCount eventCount events { id ruleCount }
        byVendor { vendor ruleCount rules { uid title sourceUrl techniques { id } } }
      } } } } }"""

RULES_OF_200 = """query($first: Int) { techniques(first: $first) { nodes {
    coverage { byVendor { rules { uid } } } } } }"""


def _bench_page() -> str:
    spec = importlib.util.spec_from_file_location("bench_api", REPO / "bench" / "api.py")
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    page: str = module.PAGE
    return page


def _static(file: str, name: str) -> str:
    """A query the page in api/static sends, as written there."""
    text = (REPO / "api" / "static" / file).read_text()
    found = re.search(rf"const {name} = `(.*?)`;", text, re.S)
    assert found, f"no query {name} in api/static/{file}"
    return found.group(1)


def _cost(query: str, variables: dict[str, Any] | None = None) -> int:
    return estimate_cost(build_schema()._schema, parse(query), None, variables)


def test_estimates_of_known_queries() -> None:
    costs = {
        "bench page": _cost(_bench_page(), {"id": "T1546.003"}),
        "static page": _cost(_static("technique.js", "PAGE"), {"id": "T1", "sub": True}),
        "static matrix": _cost(_static("matrix.js", "MATRIX")),
        "static overlap": _cost(
            _static("overlap.js", "OVERLAP"), {"ids": ["T1", "T2"], "first": "T1", "sub": False}
        ),
        "fifty techniques": _cost(FIFTY, {"first": 50}),
        "layer": _cost("{ navigatorLayer }"),
    }
    assert costs == {
        "bench page": 266,
        # With ATT&CK's strategy (analytics, events), the vendor split (3 per vendor list)
        # of the 130 guide rows and the 7 sets of vendors' agreement.
        "static page": 429 + 1 + 3 + 5 + 5 + 130 * 3 + 7,
        "static matrix": 5628,
        "static overlap": 100 + 100 + 200 + 200 + 10 + 10,
        "fifty techniques": 7701,
        "layer": 550 * 26,
    }
    assert max(costs.values()) < MAX_COST
    assert _cost(LARGE_REQUEST) == 360_201 > MAX_COST


def test_how_estimates_add_up() -> None:
    # A connection's first sizes its nodes; a variable counts as given; the cap is 200.
    assert _cost(RULES_OF_200, {"first": 10}) == 1 + 10 * (1 + 1 + 3 + 3 * 15)
    assert _cost(RULES_OF_200, {"first": 100000}) == _cost(RULES_OF_200, {"first": 200})
    assert _cost("{ techniques { nodes { id } } }") == 1 + 50  # the default page
    # Aliases and fragments add up like any selection; scalars and introspection are free.
    one = _cost("{ tactics { id } }")
    assert one == 14
    assert _cost("{ a: tactics { id } b: tactics { ...T } } fragment T on Tactic { id }") == 28
    assert _cost("{ __schema { types { fields { name } } } catalog { ruleCount } }") == 1
    # The same key asked twice, directly or through fragments, is one field, as executed.
    twice = (
        "{ tactics { id ...T ...T } tactics { name } } fragment T on Tactic { techniques { id } }"
    )
    assert _cost(twice) == 14 + 14 * 80
    # Selections @skip or @include drop cost nothing.
    assert _cost("{ tactics @skip(if: true) { id } catalog { ruleCount } }") == 1
    dropped = "query($on: Boolean!) { tactics @include(if: $on) { id } }"
    assert _cost(dropped, {"on": False}) == 0
    assert _cost(dropped, {"on": True}) == 14
    # indicatorOverlap's per-technique counts: one per id asked.
    overlap = '{ indicatorOverlap(techniqueIds: ["T1", "T2", "T3"], first: 10) { ruleCountByTechnique { ruleCount } } }'  # noqa: E501
    assert _cost(overlap) == 10 + 10 * 3
    # The layer's links are capped at 50 per technique, so any layer is within the budget.
    assert _cost("{ navigatorLayer(linksPerTechnique: 200) }") == 550 * 51 < MAX_COST


@pytest.mark.neo4j
def test_a_costly_query_is_refused_and_the_others_pass(clean_graph: Any, api_url: str) -> None:
    write_small_graph(clean_graph)
    status, body = gql(api_url, LARGE_REQUEST)
    assert status == 200
    assert body["data"] is None
    error = body["errors"][0]
    assert error["extensions"] == {
        "code": "QUERY_TOO_COSTLY",
        "estimate": 360_201,
        "budget": MAX_COST,
    }
    assert "360,201" in error["message"]
    assert f"{MAX_COST:,}" in error["message"]
    # Each alias adds its own cost: five of a 10,001-object query are over the budget together.
    single = _cost(RULES_OF_200, {"first": 200})
    assert single == 10_001
    rules = "nodes { coverage { byVendor { rules { uid } } } }"
    aliased = "query($first: Int) {" + " ".join(
        f"a{i}: techniques(first: $first) {{ {rules} }}" for i in range(5)
    ) + "}"  # fmt: skip
    status, body = gql(api_url, aliased, {"first": 200})
    assert body["errors"][0]["extensions"]["code"] == "QUERY_TOO_COSTLY"
    assert body["errors"][0]["extensions"]["estimate"] == 5 * single
    # The calibration queries run, and each answer tells its estimate.
    for query, variables in (
        (_bench_page(), {"id": "T1546.003"}),
        (_static("technique.js", "PAGE"), {"id": "T1546.003", "sub": True}),
        (_static("matrix.js", "MATRIX"), {"platform": "Windows", "vendors": ["SIGMA"]}),
        (FIFTY, {"first": 50}),
        ("{ navigatorLayer }", {}),
        (RULES_OF_200, {"first": 200}),
    ):
        status, body = gql(api_url, query, variables)
        assert status == 200, body
        assert "errors" not in body, body
        assert body["extensions"]["cost"] == {
            "estimate": _cost(query, variables),
            "budget": MAX_COST,
        }


def test_an_answer_past_the_item_budget_is_cut_short_once(clean_graph: Any) -> None:
    write_small_graph(clean_graph)
    rules = """{ techniques(first: 30) { nodes { id
        coverage { byVendor { rules { uid predicates { value } } } } } } }"""
    with running_api({"COVGRAPH_API_MAX_ITEMS": "10", "COVGRAPH_API_CACHE": "0"}) as url:
        # Under the cost budget, but its answer holds more than 10 rules and checks.
        assert _cost(rules) < MAX_COST
        status, body = gql(url, rules)
        assert status == 200
        codes = [e["extensions"]["code"] for e in body["errors"]]
        assert codes == ["RESULT_TOO_LARGE"]
        assert "10 list items" in body["errors"][0]["message"]
        assert body["extensions"]["covgraph"]["items"] > 10
        # A smaller answer within the same limits is whole.
        small = '{ technique(id: "T1546.003") { coverage { byVendor { rules { uid } } } } }'
        status, body = gql(url, small)
        assert "errors" not in body, body
        assert 0 < body["extensions"]["covgraph"]["items"] <= 10


@pytest.mark.neo4j
@pytest.mark.corpus
def test_a_read_past_the_transaction_timeout_is_a_coded_error(corpus_graph: Any) -> None:
    # Neo4j stops timed-out transactions from a monitor that runs about every second or two, so
    # the read must last longer than that: LARGE_REQUEST, let through by a raised budget,
    # asks the predicates of about 9,000 rules in one read (over 4 s on the corpus).
    env = {
        "COVGRAPH_API_QUERY_TIMEOUT": "0.5",
        "COVGRAPH_API_MAX_COST": "1000000",
        "COVGRAPH_API_MAX_ITEMS": "10000000",
        "COVGRAPH_API_CACHE": "0",
    }
    with running_api(env) as url:
        status, body = gql(url, LARGE_REQUEST, timeout=300)
    assert status == 200
    codes = {e["extensions"]["code"] for e in body["errors"]}
    assert codes == {"QUERY_TIMEOUT"}
    error = body["errors"][0]
    assert error["extensions"] == {"code": "QUERY_TIMEOUT", "timeoutSeconds": 0.5}
    assert error["message"].startswith("The query ran longer than 0.5 s")
    assert "Neo.ClientError" not in str(body)
    # With the default budget and timeout a page of the same techniques answers.
    with running_api({"COVGRAPH_API_CACHE": "0"}) as url:
        page = data(url, FIFTY, {"first": 50})
        assert page["techniques"]["edges"]


def test_bad_limit_settings_stop_the_server_with_a_clear_error() -> None:
    from api.app import create_app
    from covgraph.errors import ConfigError

    for name, raw in (
        ("COVGRAPH_API_QUERY_TIMEOUT", "soon"),
        ("COVGRAPH_API_QUERY_TIMEOUT", "-1"),
        ("COVGRAPH_API_MAX_COST", "lots"),
        ("COVGRAPH_API_MAX_COST", "0"),
        ("COVGRAPH_API_MAX_ITEMS", "-5"),
    ):
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv(name, raw)
            with pytest.raises(ConfigError, match=name):
                create_app()
