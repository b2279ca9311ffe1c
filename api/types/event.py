"""Catalog events: the log events rules need."""

from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from api.context import Info, resolver
from api.pagination import capped, window
from api.types.technique import Technique, load_techniques

if TYPE_CHECKING:
    from api.types.attack import AttackTechnique
    from api.types.coverage import TechniqueCount


@strawberry.type(description="A catalog event, e.g. `sysmon:1` or `windows-security:4688`.")
class Event:
    id: str
    name: str
    provider: str | None
    channel: str | None
    event_id: str | None
    platform: str | None
    rule_count: int = strawberry.field(description="Distinct current rules observing it.")

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "Event":
        event_id = row.get("event_id")
        return cls(
            id=row["id"],
            name=row.get("name") or row["id"],
            provider=row.get("provider"),
            channel=row.get("channel"),
            event_id=None if event_id is None else str(event_id),
            platform=row.get("platform"),
            rule_count=int(row.get("rule_count") or 0),
        )

    @resolver(
        "Current techniques detected by current rules observing the event, by rule count; "
        "revoked and deprecated techniques only with includeDeprecated (without it, the same "
        "techniques detectableWith gives for this one event). offset: skip that many first "
        "(first is at most 200; techniqueCount says how many there are)."
    )
    async def techniques(
        self,
        info: Info,
        first: int | None = 50,
        include_deprecated: bool | None = False,
        offset: int = 0,
    ) -> list[Technique]:
        rows = await self._technique_rows(info, include_deprecated)
        return await load_techniques(info, [r["id"] for r in window(rows, first, offset, 50)])

    @resolver(
        "The same techniques as `techniques`, each with how many current rules observing the "
        "event are tagged with it (`rules(techniqueId:, eventId:)` lists them)."
    )
    async def technique_usage(
        self,
        info: Info,
        first: int | None = 50,
        include_deprecated: bool | None = False,
        offset: int = 0,
    ) -> list[Annotated["TechniqueCount", strawberry.lazy("api.types.coverage")]]:
        from api.types.coverage import TechniqueCount

        chosen = window(await self._technique_rows(info, include_deprecated), first, offset, 50)
        info.context.spend(len(chosen))
        return [TechniqueCount(technique_id=r["id"], rule_count=int(r["rules"])) for r in chosen]

    @resolver("How many techniques `techniques` lists in all, with the same includeDeprecated.")
    async def technique_count(self, info: Info, include_deprecated: bool | None = False) -> int:
        return len(await self._technique_rows(info, include_deprecated))

    async def _technique_rows(self, info: Info, include_deprecated: bool | None) -> list[Any]:
        """The event's techniques by rule count, retired ones only when asked."""
        rows = await info.context.loaders.event_techniques.load(self.id)
        return [r for r in rows if include_deprecated or not r["retired"]]

    @resolver(
        "Current techniques whose ATT&CK detection strategies read the event (through an "
        "analytic's log source), by id, each with those analytics and how many of the "
        "technique's current rules observe the event."
    )
    async def attack_techniques(
        self, info: Info, first: int | None = 50
    ) -> list[Annotated["AttackTechnique", strawberry.lazy("api.types.attack")]]:
        from api.types.attack import AttackTechnique

        rows = await info.context.loaders.event_attack_techniques.load(self.id)
        found = sorted((AttackTechnique.from_row(r) for r in rows), key=lambda t: t.technique_id)
        limit = capped(first, 50)
        info.context.spend(min(len(found), limit))
        return found[:limit]

    @resolver(
        "How many techniques attackTechniques has in all (it lists at most 200), and, with "
        "noRule: true, how many of them have no current rule observing the event."
    )
    async def attack_technique_count(self, info: Info, no_rule: bool = False) -> int:
        rows = await info.context.loaders.event_attack_techniques.load(self.id)
        return sum(1 for r in rows if not no_rule or not r.get("rules"))


async def known_event(info: Info, event_id: str) -> Event:
    """The event, or one carrying only its id when the graph has none."""
    row = await info.context.loaders.event.load(event_id)
    return Event.from_row(row or {"id": event_id})


async def load_events(info: Info, ids: list[str]) -> list[Event]:
    """Events by id through the request's loader, in the given order, unknown ids skipped."""
    info.context.spend(len(ids))
    rows = await info.context.loaders.event.load_many(ids)
    return [Event.from_row(row) for row in rows if row is not None]
