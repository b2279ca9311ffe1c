"""One indicator across the whole catalog: who checks it, under which techniques, on what events."""

from collections import Counter
from typing import Any

import strawberry

from api.context import Info, resolver
from api.pagination import capped, rows_needed, window
from api.types.authoring import (
    IndicatorRow,
    IndicatorUsage,
    usage_of,
    with_reach,
)
from api.types.coverage import EventUsage, TechniqueCount
from api.types.field import Field
from api.types.vendor import VendorCount, vendor_counts
from graph.selectors import is_event_selector


def _ranked(counts: Counter[str]) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


@strawberry.type(
    description="One indicator, a (field, operator, value) triple with a polarity, across the "
    "whole catalog: the current rules checking it, per vendor, technique and event, and what "
    "else those rules look for."
)
class Indicator:
    key: strawberry.Private[str]
    field: Field
    operator: str
    value: str
    negated: bool = strawberry.field(description="True for the indicator as an exclusion.")
    event_selector: bool = strawberry.field(
        description="True when the check only says which events a rule reads (as "
        "IndicatorUsage.eventSelector)."
    )
    corpus_reach: int = strawberry.field(
        description="Distinct current rules checking it with this polarity: the rules that "
        "rules(field:, operator:, value:, negated:) lists, and IndicatorUsage.corpusReach."
    )
    opposite_reach: int = strawberry.field(
        description="Distinct current rules checking the same triple with the other polarity: "
        "excluding it when negated is false, looking for it when true."
    )
    by_vendor: list[VendorCount] = strawberry.field(
        description="Every vendor with its part of corpusReach (0 for a vendor with none)."
    )
    technique_count: int = strawberry.field(
        description="Distinct current techniques the corpusReach rules are tagged with."
    )
    untagged_rule_count: int = strawberry.field(
        description="corpusReach rules tagged with no current technique (none, or only "
        "revoked or deprecated ones)."
    )
    event_count: int = strawberry.field(
        description="Distinct catalog events the corpusReach rules observe."
    )
    technique_rows: strawberry.Private[list[tuple[str, int]]]
    event_rows: strawberry.Private[list[tuple[str, int]]]

    @classmethod
    def from_rules(cls, key: str, negated: bool, rules: list[Any]) -> "Indicator":
        """From INDICATOR_RULES' rules of the Value key: each current rule checking it, with
        the polarities it checks it with, its vendor, techniques and events."""
        field, operator, value = key.split("|", 2)  # fields and operators never hold `|`
        chosen = [r for r in rules if negated in r["polarities"]]
        techniques: Counter[str] = Counter()
        events: Counter[str] = Counter()
        for rule in chosen:
            techniques.update(set(rule["techniques"]))
            events.update(set(rule["events"]))
        return cls(
            key=key,
            field=Field(name=field),
            operator=operator,
            value=value,
            negated=negated,
            event_selector=is_event_selector(field, value),
            corpus_reach=len(chosen),
            opposite_reach=sum((not negated) in r["polarities"] for r in rules),
            by_vendor=vendor_counts(Counter(r["vendor"] for r in chosen)),
            technique_count=len(techniques),
            untagged_rule_count=sum(not r["techniques"] for r in chosen),
            event_count=len(events),
            technique_rows=_ranked(techniques),
            event_rows=_ranked(events),
        )

    @resolver(
        "Current techniques the corpusReach rules are tagged with (direct tags), each with "
        "how many of them, most first (then by id)."
    )
    def techniques(self, info: Info, first: int | None = 20) -> list[TechniqueCount]:
        rows = self.technique_rows[: capped(first, 20)]
        info.context.spend(len(rows))
        return [TechniqueCount(technique_id=t, rule_count=n) for t, n in rows]

    @resolver(
        "Catalog events the corpusReach rules observe, each with how many of them, most "
        "first (then by id)."
    )
    def events(self, info: Info, first: int | None = 20) -> list[EventUsage]:
        rows = self.event_rows[: capped(first, 20)]
        info.context.spend(len(rows))
        return [EventUsage(event_id=e, rule_count=n) for e, n in rows]

    @resolver(
        "Non-negated indicators the corpusReach rules also check, by how many of them check "
        "both (ruleCount, with byVendor), most first; corpusReach is the other indicator's own. "
        "includeEventSelectors: false leaves out event selectors (before `first` applies). "
        "offset: skip that many first (checkedWithCount says how many there are)."
    )
    async def checked_with(
        self,
        info: Info,
        first: int | None = 10,
        include_event_selectors: bool = True,
        offset: int = 0,
    ) -> list[IndicatorUsage]:
        rows, _ = await info.context.loaders.checked_with.load(
            (self.key, self.negated, include_event_selectors, rows_needed(first, offset, 10))
        )
        chosen = [IndicatorRow.from_map(r, negated=False) for r in window(rows, first, offset, 10)]
        info.context.spend(len(chosen))
        return await with_reach(info, chosen)

    @resolver("How many indicators checkedWith ranks, with the same includeEventSelectors.")
    async def checked_with_count(self, info: Info, include_event_selectors: bool = True) -> int:
        _, total = await info.context.loaders.checked_with.load(
            (self.key, self.negated, include_event_selectors, rows_needed(None, 0, 10))
        )
        return int(total)


@strawberry.type(description="The indicators whose value contains a text, ranked by their rules.")
class IndicatorSearch:
    total_count: int = strawberry.field(description="How many indicators match.")
    rule_count: int = strawberry.field(
        description="Distinct current rules checking at least one of them (with the polarity "
        "asked): the rules that mention the text in a value."
    )
    nodes: list[IndicatorUsage] = strawberry.field(
        description="The first of them, most rules first (ruleCount is their corpusReach), "
        "ties by field, operator, value."
    )

    @classmethod
    def from_row(cls, row: dict[str, Any], negated: bool) -> "IndicatorSearch":
        rows = [IndicatorRow.from_map(r, negated=negated) for r in row["rows"]]
        return cls(
            total_count=int(row["total"]),
            rule_count=int(row["rules"]),
            nodes=[usage_of(r) for r in rows],
        )
