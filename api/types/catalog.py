"""What is loaded: sources with their provenance, and totals."""

from typing import Any

import strawberry

from api.types.vendor import Vendor, vendor_of


@strawberry.type(description="One loaded source (ATT&CK or a rule catalog) and where it came from.")
class Source:
    name: str
    vendor: Vendor | None = strawberry.field(description="Null for ATT&CK.")
    repository: str | None
    ref: str | None
    commit: str | None
    commit_date: str | None
    version: str | None
    fetched_at: str | None
    loaded_at: str | None
    url: str | None = strawberry.field(description="The repository at the loaded commit.")
    rule_count: int | None = strawberry.field(
        description="Rules the loader read from the source, deprecated ones included (unlike "
        "catalog.ruleCount and rules(vendor:), which count current rules only: see "
        "currentRuleCount)."
    )
    current_rule_count: int | None = strawberry.field(
        description="The source's current (not deprecated) rules in the graph, as "
        "rules(vendor:) counts them; null for ATT&CK."
    )
    predicate_count: int | None = strawberry.field(
        description="Predicates the loader read from the source's rules; a rule's repeats of "
        "one check (an EQL sequence's steps) are one check in the graph, so Rule.predicates "
        "lists a little fewer."
    )
    problem_count: int | None
    technique_count: int | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "Source":
        repository, commit = row.get("repository"), row.get("commit")
        url = None
        if repository and commit and repository.count("/") == 1 and "://" not in repository:
            url = f"https://github.com/{repository}/tree/{commit}"
        vendor = vendor_of(row.get("vendor") or row["name"])
        return cls(
            name=row["name"],
            vendor=vendor,
            repository=repository,
            ref=row.get("ref"),
            commit=commit,
            commit_date=row.get("commit_date"),
            version=row.get("version"),
            fetched_at=row.get("fetched_at"),
            loaded_at=row.get("loaded_at"),
            url=url,
            rule_count=row.get("rule_count"),
            current_rule_count=row.get("current_rules") if vendor is not None else None,
            predicate_count=row.get("predicate_count"),
            problem_count=row.get("problem_count"),
            technique_count=row.get("technique_count"),
        )


@strawberry.type(description="The loaded catalog: its sources and totals.")
class Catalog:
    sources: list[Source]
    attack_version: str | None
    rule_count: int = strawberry.field(description="Current (not deprecated) rules.")
    deprecated_rule_count: int
    technique_count: int = strawberry.field(description="Current ATT&CK techniques.")
    covered_technique_count: int = strawberry.field(
        description="Current techniques with at least one current rule tagged with them."
    )
    event_count: int
    field_count: int
    indicator_count: int = strawberry.field(
        description="Every distinct (field, operator, value) in the graph, whatever checks it: "
        "deprecated rules and negated checks included."
    )
    current_indicator_count: int = strawberry.field(
        description="Distinct (field, operator, value) that at least one current rule checks "
        "positively: what the authoring guide calls an indicator."
    )
