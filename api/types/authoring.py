"""The authoring guide: what a technique's rules check, ranked by how many rules check it."""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import strawberry

from api.context import Info, resolver
from api.pagination import capped, window
from api.types.field import Field
from api.types.vendor import VENDOR_ORDER, Vendor, VendorCount, vendor_counts
from graph.selectors import EVENT_SELECTOR_FIELDS, EVENT_SELECTOR_VALUES, is_event_selector
from loaders.records import FIELD_REFERENCE


@strawberry.type(description="An operator and how many distinct rules use it on a field.")
class OperatorCount:
    operator: str
    count: int


@dataclass(frozen=True, slots=True)
class IndicatorRow:
    """One (field, operator, value) under a technique, with its polarity and rule count."""

    key: str
    field: str
    operator: str
    value: str
    negated: bool
    rules: int
    #: (vendor, distinct rules) pairs: the rules of each vendor among `rules`.
    vendors: tuple[tuple[str, int], ...] = ()

    @property
    def selector(self) -> bool:
        return is_event_selector(self.field, self.value)

    @classmethod
    def from_map(cls, row: dict[str, Any], negated: bool | None = None) -> "IndicatorRow":
        """From a statement's map: key, field, operator, value, negated (unless given) and
        `per`, the [vendor, distinct rules] pairs, whose sum is the rule count."""
        per = tuple((str(v), int(n)) for v, n in row.get("per") or ())
        return cls(
            key=row["key"],
            field=row["field"],
            operator=row["operator"],
            value=row["value"],
            negated=bool(row["negated"] if negated is None else negated),
            rules=sum(n for _, n in per),
            vendors=per,
        )


def operator_counts(per_rule: Iterable[Iterable[str] | None]) -> list[OperatorCount]:
    """Each operator with the rules using it, from each rule's operators on a field; most used
    first, ties by name."""
    counts: Counter[str] = Counter()
    for operators in per_rule:
        counts.update(set(operators or ()))
    return [
        OperatorCount(operator=o, count=n)
        for o, n in sorted(counts.items(), key=lambda i: (-i[1], i[0]))
    ]


def is_literal(operator: str, value: str) -> bool:
    """Whether a check compares the field with a value the rule wrote.

    `exists` checks carry the value `true`, `lookup` checks the name of a list (a Splunk lookup
    table, a Sigma placeholder) and field references (Sigma `|fieldref`) the other field's name
    as `field:<name>`: none is something to look for in the field.
    """
    if operator in {"exists", "lookup"}:
        return False
    return not (operator == "eq" and value.startswith(FIELD_REFERENCE))


@strawberry.type(description="A field the rules filter on.")
class FieldUsage:
    field: Field
    rule_count: int = strawberry.field(description="Distinct rules filtering on the field.")
    operators: list[OperatorCount] = strawberry.field(
        description="Operators used on the field, each with its distinct rules, most used first."
    )
    event_selector: bool = strawberry.field(
        description="True for a field whose every value only says which events a rule reads "
        "(see IndicatorUsage.eventSelector; fields where only some values do are false)."
    )
    by_vendor: list[VendorCount] = strawberry.field(
        description="Every vendor with its distinct rules of the selection filtering on the field."
    )
    values: strawberry.Private[list[str]]

    @resolver(
        "Distinct values the rules look for in the field (not exclusions), most checked "
        "first, whatever the operator. Only literal values: `exists` checks (value `true`), "
        "`lookup` checks (a list's name) and field references (`field:<name>`) are not "
        "samples; they stay in indicators."
    )
    def sample_values(self, first: int | None = 5) -> list[str]:
        return self.values[: capped(first, 5)]


@strawberry.type(description="One indicator: a (field, operator, value) triple and its reach.")
class IndicatorUsage:
    field: Field
    operator: str
    value: str
    negated: bool = strawberry.field(description="True for exclusions.")
    rule_count: int = strawberry.field(
        description="Distinct rules of the selection checking it with this polarity."
    )
    by_vendor: list[VendorCount] = strawberry.field(
        description="Every vendor with its part of ruleCount (0 for a vendor with none)."
    )
    corpus_reach: int = strawberry.field(
        description="Distinct current rules in the whole catalog, any technique or none, "
        "checking the same triple with the same polarity: the rules that "
        "rules(field:, operator:, value:, negated:) lists."
    )
    event_selector: bool = strawberry.field(
        description="True when the check only says which events a rule reads: any value of "
        + ", ".join(sorted(EVENT_SELECTOR_FIELDS))
        + "; or one of these values (any case) of "
        + "; ".join(f"{f} ({', '.join(sorted(v))})" for f, v in EVENT_SELECTOR_VALUES.items())
        + " that only restate the event kind. Shared by most rules of a vendor whatever the "
        "technique, so no indicator of it."
    )


def usage_of(row: IndicatorRow, reach: int | None = None) -> IndicatorUsage:
    """The row as an IndicatorUsage; without `reach` the row counts the whole catalog's rules
    (a field's values, a search), so its rule count is its reach."""
    return IndicatorUsage(
        field=Field(name=row.field),
        operator=row.operator,
        value=row.value,
        negated=row.negated,
        rule_count=row.rules,
        by_vendor=vendor_counts(dict(row.vendors)),
        corpus_reach=row.rules if reach is None else reach,
        event_selector=row.selector,
    )


async def with_reach(info: Info, rows: list[IndicatorRow]) -> list[IndicatorUsage]:
    """The rows as IndicatorUsage, each with its corpus reach (read in one batch)."""
    reach = await info.context.loaders.reach.load_many([(r.key, r.negated) for r in rows])
    return [usage_of(r, n) for r, n in zip(rows, reach, strict=True)]


def _without_selectors(rows: list[IndicatorRow], include: bool) -> list[IndicatorRow]:
    return rows if include else [r for r in rows if not r.selector]


def _ranked(rows: list[IndicatorRow]) -> list[IndicatorRow]:
    return sorted(rows, key=lambda r: (-r.rules, r.field, r.operator, r.value, r.negated))


@strawberry.type(description="How many indicators exactly one set of vendors checks.")
class VendorSetCount:
    vendors: list[Vendor] = strawberry.field(description="The vendors, in display order.")
    indicator_count: int = strawberry.field(
        description="Distinct indicators checked by rules of each of these vendors and of no other."
    )


#: Every non-empty set of vendors: each vendor alone, then each pair, then all three.
VENDOR_SETS: tuple[tuple[Vendor, ...], ...] = tuple(
    combo for size in range(1, len(VENDOR_ORDER) + 1) for combo in combinations(VENDOR_ORDER, size)
)


@strawberry.type(description="What a technique's current rules check, to help write new ones.")
class AuthoringGuide:
    rule_count: int = strawberry.field(description="Distinct current rules the guide reads.")
    distinct_field_count: int
    distinct_indicator_count: int = strawberry.field(
        description="Distinct non-negated (field, operator, value) triples."
    )
    distinct_exclusion_count: int = strawberry.field(
        description="Distinct triples checked under negation."
    )
    distinct_event_selector_count: int = strawberry.field(
        description="Distinct non-negated triples on event-selector fields: the part of "
        "distinctIndicatorCount that indicators(includeEventSelectors: false) leaves out."
    )
    distinct_excluded_event_selector_count: int = strawberry.field(
        description="Distinct negated triples on event-selector fields: the part of "
        "distinctExclusionCount that exclusions(includeEventSelectors: false) leaves out."
    )
    field_rows: strawberry.Private[list[FieldUsage]]
    indicator_rows: strawberry.Private[list[IndicatorRow]]
    exclusion_rows: strawberry.Private[list[IndicatorRow]]
    selector_rows: strawberry.Private[list[IndicatorRow]]

    @classmethod
    def from_row(cls, row: dict[str, Any] | None) -> "AuthoringGuide":
        row = row or {}
        values = [IndicatorRow.from_map(v) for v in row.get("values") or []]
        indicators = _ranked([v for v in values if not v.negated])
        exclusions = _ranked([v for v in values if v.negated])
        samples: dict[str, dict[str, None]] = {}
        for v in indicators:
            if is_literal(v.operator, v.value):
                samples.setdefault(v.field, {}).setdefault(v.value)
        usages = []
        for f in row.get("fields") or []:
            usages.append(
                FieldUsage(
                    field=Field(name=f["field"]),
                    rule_count=len(f["operators"]),
                    by_vendor=vendor_counts(Counter(f["vendors"])),
                    operators=operator_counts(f["operators"]),
                    event_selector=is_event_selector(f["field"]),
                    values=list(samples.get(f["field"], {})),
                )
            )
        usages.sort(key=lambda u: (-u.rule_count, u.field.name))
        return cls(
            rule_count=int(row.get("rule_count") or 0),
            distinct_field_count=len(usages),
            distinct_indicator_count=len(indicators),
            distinct_exclusion_count=len(exclusions),
            distinct_event_selector_count=sum(v.selector for v in indicators),
            distinct_excluded_event_selector_count=sum(v.selector for v in exclusions),
            field_rows=usages,
            indicator_rows=indicators,
            exclusion_rows=exclusions,
            selector_rows=_ranked([v for v in values if v.selector]),
        )

    @resolver(
        "Fields filtered on, by distinct rules, most first. offset: skip that many first (the "
        "guide's lists page by offset: first is at most 200)."
    )
    def fields(self, first: int | None = 20, offset: int = 0) -> list[FieldUsage]:
        return window(self.field_rows, first, offset)

    @resolver(
        "Non-negated indicators by distinct rules under the technique, most first. "
        "includeEventSelectors: false leaves out those on event-selector fields "
        "(distinctIndicatorCount - distinctEventSelectorCount remain). offset: as in fields."
    )
    async def indicators(
        self,
        info: Info,
        first: int | None = 20,
        include_event_selectors: bool = True,
        offset: int = 0,
    ) -> list[IndicatorUsage]:
        rows = _without_selectors(self.indicator_rows, include_event_selectors)
        return await with_reach(info, window(rows, first, offset))

    @resolver(
        "What the rules exclude: indicators checked under negation. includeEventSelectors: "
        "false leaves out those on event-selector fields (distinctExclusionCount - "
        "distinctExcludedEventSelectorCount remain). offset: as in fields."
    )
    async def exclusions(
        self,
        info: Info,
        first: int | None = 20,
        include_event_selectors: bool = True,
        offset: int = 0,
    ) -> list[IndicatorUsage]:
        rows = _without_selectors(self.exclusion_rows, include_event_selectors)
        return await with_reach(info, window(rows, first, offset))

    @resolver(
        "Checks on event-selector fields, looked for or excluded (see negated), by distinct "
        "rules, most first: distinctEventSelectorCount + distinctExcludedEventSelectorCount "
        "of them. They say which events the rules read. offset: as in fields."
    )
    async def event_selectors(
        self, info: Info, first: int | None = 20, offset: int = 0
    ) -> list[IndicatorUsage]:
        return await with_reach(info, window(self.selector_rows, first, offset))

    @resolver(
        "How far the vendors agree: for every set of vendors (each alone, each pair, all "
        "three), the distinct non-negated indicators checked by rules of exactly those vendors. "
        "The counts add up to distinctIndicatorCount (less distinctEventSelectorCount with "
        "includeEventSelectors: false)."
    )
    def vendor_agreement(self, include_event_selectors: bool = True) -> list[VendorSetCount]:
        rows = _without_selectors(self.indicator_rows, include_event_selectors)
        counts = Counter(frozenset(vendor for vendor, n in row.vendors if n > 0) for row in rows)
        return [
            VendorSetCount(
                vendors=list(combo),
                indicator_count=counts.get(frozenset(v.value for v in combo), 0),
            )
            for combo in VENDOR_SETS
        ]
