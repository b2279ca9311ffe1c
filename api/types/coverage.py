"""Coverage of a technique by rules, and of the ATT&CK matrix by the catalog."""

from collections import Counter
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from api.context import Info, resolver
from api.types.technique import Tactic, Technique, known_technique
from api.types.vendor import VENDOR_ORDER, Vendor, VendorCount, vendor_of

if TYPE_CHECKING:
    from api.types.event import Event
    from api.types.rule import Rule


async def _load_rules(info: Info, uids: list[str]) -> list[Any]:
    from api.types.rule import load_rules

    info.context.spend(len(uids))
    return await load_rules(info, uids)


@strawberry.type(description="One vendor's rules in a selection.")
class VendorRules:
    vendor: Vendor
    rule_count: int
    rule_uids: strawberry.Private[list[str]]

    @resolver("The rules, by title.")
    async def rules(self, info: Info) -> list[Annotated["Rule", strawberry.lazy("api.types.rule")]]:
        return await _load_rules(info, self.rule_uids)


@strawberry.type(description="A catalog event and how many rules of a selection observe it.")
class EventUsage:
    event_id: strawberry.Private[str]
    rule_count: int

    @resolver()
    async def event(self, info: Info) -> Annotated["Event", strawberry.lazy("api.types.event")]:
        from api.types.event import known_event

        return await known_event(info, self.event_id)


@strawberry.type(description="The rules tagged with a technique and the events they need.")
class Coverage:
    rule_count: int = strawberry.field(description="Distinct rules.")
    event_count: int = strawberry.field(
        description="Distinct catalog events observed by at least one of the rules."
    )
    usage: strawberry.Private[list[tuple[str, int]]]
    vendor_uids: strawberry.Private[dict[Vendor, list[str]]]

    @classmethod
    def from_row(cls, row: dict[str, Any] | None) -> "Coverage":
        rules = list((row or {}).get("rules") or [])
        per_event: Counter[str] = Counter()
        vendor_uids: dict[Vendor, list[str]] = {v: [] for v in VENDOR_ORDER}
        for rule in rules:
            per_event.update(set(rule["events"] or ()))
            vendor = vendor_of(rule["vendor"])
            if vendor is not None:
                vendor_uids[vendor].append(rule["uid"])
        usage = sorted(per_event.items(), key=lambda item: (-item[1], item[0]))
        return cls(
            rule_count=len(rules),
            event_count=len(usage),
            usage=usage,
            vendor_uids=vendor_uids,
        )

    @resolver("The events, most observed first.")
    async def events(
        self, info: Info
    ) -> list[Annotated["Event", strawberry.lazy("api.types.event")]]:
        from api.types.event import load_events

        return await load_events(info, [event_id for event_id, _ in self.usage])

    @resolver("The events with how many of the rules observe each.")
    def event_usage(self) -> list[EventUsage]:
        return [EventUsage(event_id=e, rule_count=n) for e, n in self.usage]

    @resolver("Every vendor (SIGMA, ELASTIC, SPLUNK, in that order) with its rules.")
    def by_vendor(self) -> list[VendorRules]:
        return [
            VendorRules(vendor=v, rule_count=len(uids), rule_uids=uids)
            for v, uids in self.vendor_uids.items()
        ]


@strawberry.type(description="A technique and a number of distinct rules.")
class TechniqueCount:
    technique_id: strawberry.Private[str]
    rule_count: int

    @resolver()
    async def technique(self, info: Info) -> Technique:
        return await known_technique(info, self.technique_id)


@strawberry.type(description="One technique of a tactic column, with its rules per vendor.")
class MatrixCell:
    technique_id: strawberry.Private[str]
    rule_count: int = strawberry.field(description="Distinct current rules tagged with it.")
    by_vendor: list[VendorCount]

    @resolver()
    async def technique(self, info: Info) -> Technique:
        return await known_technique(info, self.technique_id)


@strawberry.type(description="One tactic column of the coverage matrix.")
class TacticCoverage:
    tactic: Tactic
    technique_count: int = strawberry.field(description="Techniques in the column.")
    covered_count: int = strawberry.field(description="Techniques with at least one rule.")
    techniques: list[MatrixCell]
