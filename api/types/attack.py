"""ATT&CK's own detection guidance for a technique (ATT&CK v18 detection strategies), beside
the technique's rules: which events ATT&CK's analytics read, and how many rules observe each."""

from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from api.context import Info, resolver

if TYPE_CHECKING:
    from api.types.event import Event
    from api.types.technique import Technique


@strawberry.type(description="An ATT&CK data component: what a kind of log records (DC0032).")
class DataComponent:
    id: str
    name: str
    url: str | None


@strawberry.type(description="An ATT&CK analytic: one platform's way to detect a technique.")
class Analytic:
    id: str
    name: str
    description: str | None
    platforms: list[str]
    url: str | None
    log_sources: list[str] = strawberry.field(
        description="The log sources it reads, as ATT&CK names them: `name channel`, e.g. "
        "`WinEventLog:Sysmon EventCode=1`."
    )
    data_components: list[DataComponent]
    event_ids: strawberry.Private[list[str]]

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "Analytic":
        return cls(
            id=row["id"],
            name=row.get("name") or row["id"],
            description=row.get("description"),
            platforms=list(row.get("platforms") or []),
            url=row.get("url"),
            log_sources=list(row.get("log_sources") or []),
            data_components=sorted(
                (
                    DataComponent(id=c["id"], name=c.get("name") or c["id"], url=c.get("url"))
                    for c in row.get("data_components") or []
                ),
                key=lambda c: c.id,
            ),
            event_ids=sorted(row.get("events") or []),
        )

    @resolver(
        "The catalog events its log sources name (Windows channels with event codes, and logs "
        "such as CloudTrail or auditd); log sources the catalog has no event for name none."
    )
    async def events(
        self, info: Info
    ) -> list[Annotated["Event", strawberry.lazy("api.types.event")]]:
        from api.types.event import load_events

        return await load_events(info, self.event_ids)


@strawberry.type(description="An ATT&CK detection strategy (DET0086) and its analytics.")
class DetectionStrategy:
    id: str
    name: str
    url: str | None
    analytics: list[Analytic] = strawberry.field(description="Its current analytics, by id.")

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "DetectionStrategy":
        return cls(
            id=row["id"],
            name=row.get("name") or row["id"],
            url=row.get("url"),
            analytics=sorted(
                (Analytic.from_row(a) for a in row.get("analytics") or []), key=lambda a: a.id
            ),
        )


@strawberry.type(
    description="A catalog event ATT&CK's analytics for a technique read, and how many of the "
    "technique's rules observe it: 0 is an event ATT&CK says to watch that no rule reads."
)
class AttackEvent:
    event_id: strawberry.Private[str]
    analytics: list[str] = strawberry.field(description="Ids of the analytics reading it.")
    rule_count: int = strawberry.field(
        description="Distinct current rules of the technique (the same scope) observing it."
    )

    @resolver()
    async def event(self, info: Info) -> Annotated["Event", strawberry.lazy("api.types.event")]:
        from api.types.event import known_event

        return await known_event(info, self.event_id)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "AttackEvent":
        return cls(
            event_id=row["event"],
            analytics=sorted(row.get("analytics") or []),
            rule_count=int(row.get("rules") or 0),
        )


@strawberry.type(
    description="A technique whose ATT&CK detection strategy reads an event, and how many of "
    "its rules observe that event: 0 is a log ATT&CK uses for the technique that none of its "
    "rules reads."
)
class AttackTechnique:
    technique_id: strawberry.Private[str]
    analytics: list[str] = strawberry.field(description="Ids of the analytics reading the event.")
    rule_count: int = strawberry.field(
        description="Distinct current rules of the technique observing the event."
    )

    @resolver()
    async def technique(
        self, info: Info
    ) -> Annotated["Technique", strawberry.lazy("api.types.technique")]:
        from api.types.technique import known_technique

        return await known_technique(info, self.technique_id)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "AttackTechnique":
        return cls(
            technique_id=row["technique"],
            analytics=sorted(row.get("analytics") or []),
            rule_count=int(row.get("rules") or 0),
        )
