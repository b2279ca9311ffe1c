"""`covgraph query` and `covgraph technique` over the small graph, checked against the HTTP API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from api_process import free_port
from http_api import data
from small_graph import write_small_graph

pytestmark = pytest.mark.neo4j

REPO = Path(__file__).resolve().parents[2]
COVGRAPH = [sys.executable, "-m", "covgraph"]


@pytest.fixture
def small(clean_graph: Any, api_url: str) -> str:
    write_small_graph(clean_graph)
    return api_url


def covgraph(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> Any:
    return subprocess.run(
        [*COVGRAPH, *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        timeout=120,
        check=False,
    )


def test_query_prints_the_api_answer(small: str, tmp_path: Path) -> None:
    document = "query($id: String!) { technique(id: $id) { coverage { ruleCount } } }"
    expected = data(small, document, {"id": "T1546.003"})
    assert expected["technique"]["coverage"]["ruleCount"] == 4

    by_argument = covgraph("query", document, "--var", "id=T1546.003")
    assert by_argument.returncode == 0, by_argument.stderr
    answer = json.loads(by_argument.stdout)
    assert answer["data"] == expected
    # The extensions the HTTP API adds: the cost estimate and the statements sent.
    assert answer["extensions"]["cost"]["budget"] == 50_000
    assert answer["extensions"]["covgraph"]["neo4j"] >= 1

    path = tmp_path / "page.graphql"
    path.write_text(document, encoding="utf-8")
    by_file = covgraph("query", "-f", str(path), "--variables", '{"id": "T1546.003"}')
    assert json.loads(by_file.stdout)["data"] == expected

    by_stdin = covgraph("query", "--var", "id=T1546.003", "--compact", stdin=document)
    assert by_stdin.stdout.count("\n") == 1
    assert json.loads(by_stdin.stdout)["data"] == expected

    # --var values are JSON when they parse: a list of ids here.
    overlap = covgraph(
        "query",
        "query($ids: [String!]!) { indicatorOverlap(techniqueIds: $ids) { value } }",
        "--var",
        'ids=["T1546.003", "T1047"]',
    )
    assert overlap.returncode == 0, overlap.stdout
    assert {"value": "wmic.exe"} in json.loads(overlap.stdout)["data"]["indicatorOverlap"]
    # A String variable takes the text as given, even when it reads as a number.
    numeric = covgraph(
        "query", "query($v: String!) { rules(value: $v) { totalCount } }", "--var", "v=1047"
    )
    assert numeric.returncode == 0, numeric.stdout
    assert json.loads(numeric.stdout)["data"]["rules"]["totalCount"] == 0


def test_query_errors_keep_their_codes_and_exit_status(small: str) -> None:
    invalid = covgraph("query", "{ nope }")
    assert invalid.returncode == 1
    body = json.loads(invalid.stdout)
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"

    unknown = covgraph("query", '{ similarTechniques(id: "T9999") { jaccard } }')
    assert unknown.returncode == 1
    assert json.loads(unknown.stdout)["errors"][0]["extensions"]["code"] == "UNKNOWN_TECHNIQUE"

    for args, message in (
        (("query", "{ catalog { ruleCount } }", "--var", "novalue"), "expected NAME=VALUE"),
        (("query", "{ catalog { ruleCount } }", "--variables", "[1]"), "JSON object"),
        (("query", "{ x }", "-f", "/no/such/file.graphql"), "give the document either"),
        (("query", "-f", "/no/such/file.graphql"), "cannot read /no/such/file.graphql"),
        (("query", "  "), "the GraphQL document (the argument) is empty"),
    ):
        result = covgraph(*args)
        assert result.returncode == 1, args
        assert message in result.stderr, (args, result.stderr)
        assert result.stdout == ""


def test_query_says_when_neo4j_is_unavailable() -> None:
    result = covgraph(
        "query",
        "{ catalog { ruleCount } }",
        env={"NEO4J_URI": f"bolt://127.0.0.1:{free_port()}"},
    )
    assert result.returncode == 2
    assert json.loads(result.stdout)["errors"][0]["extensions"]["code"] == "CATALOG_UNAVAILABLE"


GUIDE = """
query($id: String!) {
  technique(id: $id) {
    coverage { ruleCount eventCount byVendor { vendor ruleCount rules { uid } } }
    authoringGuide {
      distinctFieldCount distinctIndicatorCount distinctEventSelectorCount
      fields { field { name } ruleCount operators { operator count } }
      indicators(includeEventSelectors: false) { field { name } operator value ruleCount
        corpusReach }
      exclusions(includeEventSelectors: false) { field { name } operator value ruleCount
        corpusReach }
    }
  }
}
"""


def _row(line_cells: list[str], text: str) -> bool:
    """Whether some table line of `text` holds these cells in this order."""
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip("│ ").split("│")]
        if cells[: len(line_cells)] == line_cells:
            return True
    return False


def test_technique_tables_show_the_api_numbers(small: str) -> None:
    page = data(small, GUIDE, {"id": "T1546.003"})["technique"]
    result = covgraph("technique", "T1546.003", "--first", "50", "--rules")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    coverage = page["coverage"]
    assert (
        f"{coverage['ruleCount']} current rules: Sigma 2, Elastic 1, Splunk 1; "
        f"{coverage['eventCount']} catalog events." in text
    )
    guide = page["authoringGuide"]
    assert f"Fields filtered most ({guide['distinctFieldCount']} distinct)" in text
    # The totals leave out event selectors, as the lists do.
    shown = guide["distinctIndicatorCount"] - guide["distinctEventSelectorCount"]
    assert f"Top indicator values ({shown} distinct)" in text
    for usage in guide["fields"]:
        operators = ", ".join(f"{o['operator']} {o['count']}" for o in usage["operators"])
        assert _row([usage["field"]["name"], str(usage["ruleCount"]), operators], text), usage
    for row in guide["indicators"] + guide["exclusions"]:
        cells = [row["field"]["name"], row["operator"], row["value"]]
        assert _row([*cells, str(row["ruleCount"]), str(row["corpusReach"])], text), row
    assert "What the rules exclude" in text
    # --rules: every rule under its vendor's table.
    for group in coverage["byVendor"]:
        for rule in group["rules"]:
            assert rule["uid"] in text

    only_elastic = covgraph("technique", "T1546.003", "--vendor", "elastic", "--rules")
    assert "Fields filtered most by Elastic rules" in only_elastic.stdout
    assert "Indicators checked" not in only_elastic.stdout  # one vendor: nothing to agree on
    # Its rules only; coverage and events say they are every vendor's.
    assert "elastic:e" in only_elastic.stdout
    assert "sigma:a" not in only_elastic.stdout
    assert "Events the rules observe (rules of every vendor)" in only_elastic.stdout
    # A document of several operations runs the one named.
    both = "query A { catalog { ruleCount } } query B { tactics { id } }"
    named = json.loads(covgraph("query", both, "--operation", "B").stdout)
    assert "tactics" in named["data"]
    unnamed = json.loads(covgraph("query", both).stdout)
    assert unnamed["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    empty = covgraph("query", stdin="")
    assert empty.returncode == 1
    assert "the GraphQL document (stdin) is empty" in empty.stderr

    as_json = covgraph("technique", "T1546.003", "--json")
    assert json.loads(as_json.stdout)["data"]["technique"]["coverage"]["ruleCount"] == 4


def test_technique_unknown_id_and_bad_first(small: str) -> None:
    unknown = covgraph("technique", "T9999")
    assert unknown.returncode == 1
    assert "unknown technique id: T9999" in unknown.stderr
    bad = covgraph("technique", "T1546.003", "--first", "0")
    assert bad.returncode == 1
    assert "--first must be between 1 and 200" in bad.stderr
