"""Canonical (ECS) fields and the names vendors' rules give them."""

import strawberry

from api.context import Info, resolver
from api.types.vendor import Vendor, vendor_of


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
