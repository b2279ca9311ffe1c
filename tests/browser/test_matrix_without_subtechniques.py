"""The matrix with sub-techniques hidden, over the corpus: parents carry their sub-techniques'
rules, and the heads and summary count the techniques shown."""

from __future__ import annotations

import re
from typing import Any

import pytest
from browser_page import Page, gql

pytestmark = [pytest.mark.browser, pytest.mark.corpus, pytest.mark.neo4j]

ROLLED_UP = """
query($platform: String, $vendors: [Vendor!]) {
  coverageMatrix(platform: $platform, vendors: $vendors, includeSubtechniques: true) {
    tactic { id } techniqueCount coveredCount
    techniques { ruleCount technique { id isSubtechnique } }
  }
}
"""


def _counts(matrix: list[dict[str, Any]]) -> dict[str, int]:
    return {t["technique"]["id"]: t["ruleCount"] for c in matrix for t in c["techniques"]}


def test_hidden_subtechniques_roll_up_into_their_parents(page: Page) -> None:
    vendors = ["SIGMA", "SPLUNK"]
    matrix = gql(page.base, ROLLED_UP, {"vendors": vendors})["coverageMatrix"]
    counts = _counts(matrix)
    # Reconnaissance parents with no rule of their own, only their sub-techniques'.
    for parent in ("T1591", "T1593", "T1598"):
        assert counts[parent] > 0, parent

    assert page.open("#/matrix?vendors=SIGMA,SPLUNK&sub=0") == "ready"
    assert page.find_all("#matrix .cell.sub") == []
    for parent in ("T1591", "T1593", "T1598"):
        cell = page.find(f'.cell[data-technique="{parent}"]')
        assert cell.find_element("css selector", ".cell-count").text == str(counts[parent])
        assert "c0" not in cell.get_attribute("class").split()
        assert "with its sub-techniques" in cell.get_attribute("title")
    # Heads count the cells under them.
    for column in (c for c in matrix if c["techniqueCount"]):
        selector = f'.column[data-tactic="{column["tactic"]["id"]}"]'
        cells = page.find_all(f"{selector} .cell")
        covered = [c for c in cells if "c0" not in c.get_attribute("class").split()]
        head = page.find(f"{selector} .column-head .muted").text
        assert (
            head
            == f"{len(covered)}/{len(cells)} covered"
            == (f"{column['coveredCount']}/{column['techniqueCount']} covered")
        )
    # The summary counts the techniques shown, each once.
    summary = page.find("#matrix-summary").text
    shown = len(counts)
    covered_ids = sum(1 for n in counts.values() if n)
    assert summary.startswith(f"{shown:,} techniques under ")
    assert f": {covered_ids:,} ({round(100 * covered_ids / shown)}%)" in summary
    assert page.find("#matrix-rolled").is_displayed()
    assert page.console_errors() == []


def test_windows_parent_shows_its_subtechniques_rules(page: Page) -> None:
    matrix = gql(page.base, ROLLED_UP, {"platform": "Windows"})["coverageMatrix"]
    rolled = _counts(matrix)["T1001"]
    assert rolled > 0
    assert page.open("#/matrix?platform=Windows&sub=0") == "ready"
    assert page.find('.cell[data-technique="T1001"] .cell-count').text == str(rolled)
    # The cell opens the technique page rolled up: the same count.
    assert page.act(page.find('.cell[data-technique="T1001"]').click) == "ready"
    summary = page.find("header p.summary").text.replace(",", "")
    assert summary.startswith(f"{rolled} rules tagged with this technique or its sub-techniques")
    assert page.open("#/matrix?platform=Windows&sub=0") == "ready"
    # Shown again, sub-techniques count their own rules and the parent only its direct tags.
    assert page.act(page.find("#show-sub").click) == "ready"
    assert page.find_all('.cell.sub[data-technique="T1001.003"]')
    direct = page.find('.cell[data-technique="T1001"] .cell-count').text
    assert int(direct.replace(",", "")) < rolled
    assert page.find_all("#matrix-rolled") == []


def test_matrix_page_has_one_vertical_scrollbar(page: Page) -> None:
    assert page.open("#/matrix?platform=Windows") == "ready"
    page.wait_for("#matrix[data-fitted]")
    sizes = page.script(
        "const b = document.getElementById('matrix');"
        "return {doc: document.documentElement.scrollHeight, view: window.innerHeight,"
        " sh: b.scrollHeight, ch: b.clientHeight};"
    )
    # The box scrolls; the page around it does not.
    assert sizes["sh"] > sizes["ch"], sizes
    assert sizes["doc"] <= sizes["view"], sizes


def test_technique_route_without_id_says_what_it_needs(page: Page) -> None:
    assert page.open("#/technique") == "ready"
    assert page.find("h1").text == "No technique chosen"
    body = page.find("main").text
    assert "GRAPHQL" not in body
    assert "$id" not in body
    assert page.console_errors() == []


def test_rules_page_figures_use_thousands_separators(page: Page) -> None:
    assert page.open("#/rules") == "ready"
    figures = page.texts(".vendor-count")
    assert len(figures) == 3
    assert all(re.fullmatch(r"\w+ \d{1,3}(,\d{3})*", f) for f in figures), figures
    assert any("," in f for f in figures), figures


def test_case_sensitive_and_excluded_badges_differ(page: Page) -> None:
    cased = gql(
        page.base,
        """{ rules(field: "process.pe.original_file_name", value: "PowerShell.EXE",
                   vendor: ELASTIC, first: 1) { nodes { uid } } }""",
    )["rules"]["nodes"]
    assert page.open(f"#/rule/{cased[0]['uid'].replace(':', '%3A')}") == "ready"
    style = (
        "const s = getComputedStyle(document.querySelector(arguments[0]));"
        "return [s.backgroundColor, s.color, s.borderTopStyle];"
    )
    case = page.script(style, ".flag.case")
    # WMI Persistence (Sigma) excludes four values.
    assert page.open("#/rule/sigma%3A0b7889b4-5577-4521-a60a-3376ee7f9f7b") == "ready"
    excluded = page.script(style, ".flag.exclusion")
    assert case[0] != excluded[0], (case, excluded)
    assert case[1] != excluded[1], (case, excluded)
    # Field names are link-coloured only when they are links: the rule's own link to its
    # field's page, the field page's title plain.
    link_colour = page.script(style, "table.predicates a.field")[1]
    assert page.open("#/field/process.name") == "ready"
    plain = page.script(style, "#field-name span.field")
    assert plain[1] != link_colour
