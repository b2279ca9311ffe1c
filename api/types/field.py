"""Canonical (ECS) fields and the names vendors' rules give them."""

from collections import Counter
from typing import TYPE_CHECKING, Annotated

import strawberry

from api.arguments import operator_argument
from api.context import Info, resolver
from api.pagination import rows_needed, window
from api.types.vendor import Vendor, VendorCount, vendor_counts, vendor_of

if TYPE_CHECKING:
    from api.types.authoring import IndicatorUsage, OperatorCount

_Usage = Annotated["IndicatorUsage", strawberry.lazy("api.types.authoring")]
_OperatorCount = Annotated["OperatorCount", strawberry.lazy("api.types.authoring")]


@strawberry.type(description="A name a vendor's rules use for a canonical field.")
class FieldAlias:
    vendor: Vendor
    name: str


@strawberry.type(
    description="A canonical field (ECS name). `*` is the pseudo-field of keyword searches."
)
class Field:
    name: str

    @resolver("Field names as the rules wrote them, per vendor.")
    async def aliases(self, info: Info) -> list[FieldAlias]:
        rows = await info.context.loaders.field_aliases.load(self.name)
        info.context.spend(len(rows))
        return [
            FieldAlias(vendor=vendor, name=row["name"])
            for row in rows
            if (vendor := vendor_of(row["vendor"])) is not None
        ]

    @resolver("Distinct current rules filtering on the field.")
    async def rule_count(self, info: Info) -> int:
        count: int = await info.context.loaders.field_rule_count.load(self.name)
        return count

    @resolver(
        "Every vendor with its distinct current rules filtering on the field (0 for a vendor "
        "with none): ruleCount split by vendor."
    )
    async def by_vendor(self, info: Info) -> list[VendorCount]:
        usage = await info.context.loaders.field_usage.load(self.name)
        return vendor_counts(Counter(usage["vendors"]))

    @resolver(
        "Operators current rules use on the field, each with its distinct rules (a rule using "
        "two counts under both), most used first."
    )
    async def operators(self, info: Info) -> list[_OperatorCount]:
        from api.types.authoring import operator_counts

        usage = await info.context.loaders.field_usage.load(self.name)
        return operator_counts(usage["operators"])

    @resolver(
        "The field's indicators checked by current rules with the polarity asked (negated: "
        "true for exclusions), optionally with one operator, ranked by their distinct rules in "
        "the whole catalog (ruleCount, which is their corpusReach), ties by operator and value. "
        "offset: skip that many first (first is at most 200; indicatorCount says how many)."
    )
    async def indicators(
        self,
        info: Info,
        first: int | None = 20,
        operator: str | None = None,
        negated: bool = False,
        offset: int = 0,
    ) -> list[_Usage]:
        from api.types.authoring import IndicatorRow, usage_of

        rows, _ = await info.context.loaders.field_indicators.load(
            (self.name, operator_argument(operator), negated, rows_needed(first, offset))
        )
        chosen = [IndicatorRow.from_map(r, negated=negated) for r in window(rows, first, offset)]
        info.context.spend(len(chosen))
        return [usage_of(r) for r in chosen]

    @resolver(
        "How many distinct indicators `indicators` ranks with the same operator and polarity."
    )
    async def indicator_count(
        self, info: Info, operator: str | None = None, negated: bool = False
    ) -> int:
        _, total = await info.context.loaders.field_indicators.load(
            (self.name, operator_argument(operator), negated, rows_needed(None, 0))
        )
        return total
