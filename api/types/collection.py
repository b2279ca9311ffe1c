"""Log collection planning: what the rules detect with the events collected, what to add next."""

from __future__ import annotations

import strawberry

from api.context import Info, resolver
from api.errors import BadArgument, shown
from api.pagination import capped
from api.types.event import Event, known_event, load_events
from api.types.technique import Technique, load_techniques
from graph.queries.collection import CollectionIndex, Gain

#: Most steps a plan may take; each re-scores a few events, so this bounds it at well under a
#: second even when every step is contested.
MAX_STEPS = 50


@strawberry.type(description="What collecting one more event adds to what the rules detect.")
class EventGain:
    event_id: strawberry.Private[str]
    new_technique_ids: strawberry.Private[tuple[str, ...]]
    new_rule_count: int = strawberry.field(
        description="Current rules that observe the event and could fire on no event before."
    )
    technique_count: int = strawberry.field(
        description="In a plan: techniques detectable once this step is collected (running "
        "total). In next: the same, with this event alone added."
    )
    rule_count: int = strawberry.field(
        description="In a plan: rules that can fire once this step is collected (running "
        "total). In next: the same, with this event alone added."
    )

    @classmethod
    def of(cls, gain: Gain, techniques: int, rules: int) -> EventGain:
        return cls(
            event_id=gain.event,
            new_technique_ids=gain.new_techniques,
            new_rule_count=gain.new_rules,
            technique_count=techniques,
            rule_count=rules,
        )

    @resolver("The event.")
    async def event(self, info: Info) -> Event:
        return await known_event(info, self.event_id)

    @resolver("Current techniques no rule could detect before and its rules detect.")
    def new_technique_count(self) -> int:
        return len(self.new_technique_ids)

    @resolver("Those techniques, by id.")
    async def new_techniques(self, info: Info, first: int | None = 10) -> list[Technique]:
        return await load_techniques(info, list(self.new_technique_ids[: capped(first, 10)]))


@strawberry.type(
    description="What the current rules (of some vendors) can detect given the events "
    "collected: a rule can fire when at least one of the events it observes is collected, a "
    "technique is detectable when a current rule tagged with it can fire."
)
class Collection:
    event_ids: list[str] = strawberry.field(description="The collected events the graph knows.")
    unknown_event_ids: list[str] = strawberry.field(
        description="Ids given that are no catalog event (ignored)."
    )
    rule_count: int = strawberry.field(description="Current rules that can fire.")
    technique_count: int = strawberry.field(description="Current techniques detectable.")
    reachable_rule_count: int = strawberry.field(
        description="Current rules that could fire with every catalog event collected (rules "
        "observing no catalog event never can)."
    )
    reachable_technique_count: int = strawberry.field(
        description="Current techniques detectable with every catalog event collected."
    )
    index: strawberry.Private[CollectionIndex]

    @resolver("The collected events the graph knows, in the order given.")
    async def events(self, info: Info) -> list[Event]:
        return await load_events(info, self.event_ids)

    def _platform(self, platform: str | None) -> str | None:
        """The platform asked, lower-cased; one no catalog event has is BAD_ARGUMENT, so that a
        typo is not taken for "nothing to add"."""
        wanted = (platform or "").strip().lower() or None
        known = sorted({p for p in self.index.platforms.values() if p})
        if wanted is not None and wanted not in known:
            raise BadArgument(
                f"unknown event platform {shown(platform)}; one of: {', '.join(known)}"
            )
        return wanted

    @resolver(
        "Techniques detectable with the events collected and every event of that platform "
        "(Event.platform, any case): the most collecting that platform's logs can give."
    )
    async def platform_technique_count(self, info: Info, platform: str | None = None) -> int:
        wanted = self._platform(platform)
        if wanted is None:
            raise BadArgument("platformTechniqueCount needs a platform")
        return self.index.state([*self.event_ids, *self.index.platform_events(wanted)])[1]

    @resolver("The techniques detectable, by id.")
    async def techniques(self, info: Info, first: int | None = 50) -> list[Technique]:
        ids = self.index.detected(self.event_ids)
        return await load_techniques(info, ids[: capped(first, 50)])

    @resolver(
        "The events not collected that add most, each taken on its own: most new techniques, "
        "then most new rules, then by id. Events that add no rule are left out. platform: only "
        "events of that log source platform (Event.platform: windows, linux, aws, ...; any case)."
    )
    async def next(
        self, info: Info, first: int | None = 20, platform: str | None = None
    ) -> list[EventGain]:
        gains = self.index.next_events(self.event_ids, capped(first, 20), self._platform(platform))
        info.context.spend(len(gains))
        return [
            EventGain.of(
                g,
                self.technique_count + len(g.new_techniques),
                self.rule_count + g.new_rules,
            )
            for g in gains
        ]

    @resolver(
        f"Up to `steps` events (at most {MAX_STEPS}) to collect in turn, each the one that adds "
        "the most techniques given those collected and the steps before it (greedy; ties: more "
        "rules, then by id); stops when no event adds a technique. platform: chosen among the "
        "events of that platform only, as in next."
    )
    async def plan(
        self, info: Info, steps: int | None = 10, platform: str | None = None
    ) -> list[EventGain]:
        limit = min(capped(steps, 10, "steps"), MAX_STEPS)
        chosen = self.index.plan(self.event_ids, limit, self._platform(platform))
        info.context.spend(len(chosen))
        return [EventGain.of(g, g.technique_count, g.rule_count) for g in chosen]
