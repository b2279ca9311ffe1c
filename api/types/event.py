"""Catalog events: the log events rules need."""

from typing import Any

import strawberry

from api.context import Info, resolver
from api.pagination import capped
from api.types.technique import Technique, load_techniques


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

    @resolver("Techniques detected by current rules observing the event, by rule count.")
    async def techniques(self, info: Info, first: int | None = 50) -> list[Technique]:
        ids = await info.context.loaders.event_techniques.load(self.id)
        return await load_techniques(info, ids[: capped(first, 50)])
