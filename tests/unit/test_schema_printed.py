"""The checked-in schema.graphql is the printed schema: a change to the API shows in review."""

from __future__ import annotations

from pathlib import Path

from api.schema import printed_schema

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_printed_schema_matches_the_checked_in_file() -> None:
    printed = printed_schema()
    checked_in = SCHEMA_FILE.read_text(encoding="utf-8")
    assert printed == checked_in, (
        "the GraphQL schema changed: review the difference, then regenerate it with "
        "`.venv/bin/python -m api.schema > schema.graphql`"
    )


def test_the_contract_names_are_in_the_schema() -> None:
    # The contract's arguments come first and in its order; arguments added later follow.
    printed = printed_schema()
    for line in (
        "enum Vendor {",
        "technique(id: String!): Technique",
        "techniques(tactic: String, platform: String, vendor: Vendor, covered: Boolean, "
        "search: String, first: Int = 50, after: String",
        "rules(search: String, vendor: Vendor, techniqueId: String, eventId: String, "
        "field: String, value: String, includeDeprecated: Boolean = false, first: Int = 50, "
        "after: String",
        "indicatorOverlap(techniqueIds: [String!]!, first: Int = 50",
        "similarTechniques(id: String!, first: Int = 10",
        "coverageMatrix(platform: String, vendors: [Vendor!]",
        "detectableWith(eventIds: [String!]!): [Technique!]!",
        "navigatorLayer(platform: String, vendors: [Vendor!]",
        "catalog: Catalog!",
        "coverage(includeSubtechniques: Boolean = false, includeDeprecated: Boolean = false): "
        "Coverage!",
        "authoringGuide(includeSubtechniques: Boolean = false, vendors: [Vendor!]): "
        "AuthoringGuide!",
        "sampleValues(first: Int = 5): [String!]!",
        "ruleCountByTechnique: [TechniqueCount!]!",
    ):
        assert line in printed, line
