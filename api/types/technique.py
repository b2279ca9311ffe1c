"""ATT&CK techniques and tactics."""

from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from api.context import Info, resolver
from api.types.connection import PageInfo
from api.types.vendor import Vendor, vendor_names

if TYPE_CHECKING:
    from api.types.attack import AttackEvent, DetectionStrategy
    from api.types.authoring import AuthoringGuide
    from api.types.coverage import Coverage


@strawberry.type(description="An ATT&CK tactic (a column of the matrix).")
class Tactic:
    id: str
    name: str
    shortname: str = strawberry.field(description="Kill-chain phase name, e.g. `persistence`.")
    description: str | None
    url: str | None
    order: int = strawberry.field(description="Position in the Enterprise matrix, from 1.")

    @resolver("Current (not revoked or deprecated) techniques, by id.")
    async def techniques(self, info: Info) -> list["Technique"]:
        ids = await info.context.loaders.tactic_techniques.load(self.id)
        return await load_techniques(info, ids)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "Tactic":
        return cls(
            id=row["id"],
            name=row.get("name") or row["id"],
            shortname=row.get("shortname") or "",
            description=row.get("description"),
            url=row.get("url"),
            order=int(row.get("order") or 0),
        )


@strawberry.type(description="An ATT&CK technique or sub-technique.")
class Technique:
    id: str
    name: str
    description: str | None
    url: str | None
    platforms: list[str]
    is_subtechnique: bool
    deprecated: bool = strawberry.field(description="ATT&CK marked it deprecated.")
    revoked: bool = strawberry.field(
        description="ATT&CK revoked it (replaced by another: see revokedBy)."
    )
    revoked_by_id: strawberry.Private[str | None]
    parent_id: strawberry.Private[str | None]
    subtechnique_ids: strawberry.Private[list[str]]
    tactic_ids: strawberry.Private[list[str]]

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> "Technique":
        return cls(
            id=row["id"],
            name=row.get("name") or row["id"],
            description=row.get("description"),
            url=row.get("url"),
            platforms=list(row.get("platforms") or []),
            is_subtechnique=bool(row.get("is_subtechnique")),
            deprecated=bool(row.get("deprecated")),
            revoked=bool(row.get("revoked")),
            revoked_by_id=row.get("revoked_by"),
            parent_id=row.get("parent"),
            subtechnique_ids=sorted(row.get("subtechniques") or []),
            tactic_ids=list(row.get("tactics") or []),
        )

    @resolver("The tactics it serves, in matrix order.")
    async def tactics(self, info: Info) -> list[Tactic]:
        mine = set(self.tactic_ids)
        return [Tactic.from_row(t) for t in await info.context.loaders.tactics() if t["id"] in mine]

    @resolver("The parent technique of a sub-technique.")
    async def parent(self, info: Info) -> "Technique | None":
        if self.parent_id is None:
            return None
        return await load_technique(info, self.parent_id)

    @resolver(
        "For a revoked technique, the technique ATT&CK replaced it with (null otherwise, or "
        "when ATT&CK names none). Rules still tagged only with a revoked technique are not "
        "credited to its replacement (the matrix, layer, detectableWith and "
        "techniques(covered:) leave them out): find them with rules(techniqueId:) or "
        "rules(onlyRetiredTechniques: true)."
    )
    async def revoked_by(self, info: Info) -> "Technique | None":
        if not self.revoked_by_id:
            return None
        return await load_technique(info, self.revoked_by_id)

    @resolver(
        "Its current sub-techniques, by id; revoked and deprecated ones only with "
        "includeDeprecated."
    )
    async def subtechniques(
        self, info: Info, include_deprecated: bool | None = False
    ) -> list["Technique"]:
        found = await load_techniques(info, self.subtechnique_ids)
        return found if include_deprecated else [t for t in found if t.current]

    @property
    def current(self) -> bool:
        """Neither revoked nor deprecated."""
        return not (self.revoked or self.deprecated)

    @resolver(
        "The rules tagged with it and the events they need. Counts are of "
        "distinct rules; deprecated rules only with includeDeprecated; current sub-techniques' "
        "rules only with includeSubtechniques (rolled up at query time; revoked and deprecated "
        "sub-techniques are never rolled up)."
    )
    async def coverage(
        self,
        info: Info,
        include_subtechniques: bool | None = False,
        include_deprecated: bool | None = False,
    ) -> Annotated["Coverage", strawberry.lazy("api.types.coverage")]:
        from api.types.coverage import Coverage

        row = await info.context.loaders.coverage.load(
            (self.id, bool(include_subtechniques), bool(include_deprecated))
        )
        return Coverage.from_row(row)

    @resolver(
        "What its current rules check: fields, indicators and exclusions, each "
        "ranked by the number of distinct rules (includeSubtechniques: with its current "
        "sub-techniques' rules)."
    )
    async def authoring_guide(
        self,
        info: Info,
        include_subtechniques: bool | None = False,
        vendors: list[Vendor] | None = strawberry.UNSET,
    ) -> Annotated["AuthoringGuide", strawberry.lazy("api.types.authoring")]:
        from api.types.authoring import AuthoringGuide

        key = (self.id, bool(include_subtechniques), vendor_names(vendors))
        row = await info.context.loaders.authoring.load(key)
        # Ranking every indicator of a large technique costs more than reading the cached
        # rows: the guide is built once per graph version (RequestRunner.memo).
        return info.context.runner.memo(("authoring", *key), lambda: AuthoringGuide.from_row(row))

    @resolver(
        "ATT&CK's detection strategies for it (current ones, by id), with their analytics "
        "and the log sources and catalog events they read."
    )
    async def detection_strategies(
        self, info: Info
    ) -> list[Annotated["DetectionStrategy", strawberry.lazy("api.types.attack")]]:
        from api.types.attack import DetectionStrategy

        rows = await info.context.loaders.strategies.load(self.id)
        return sorted((DetectionStrategy.from_row(r) for r in rows), key=lambda s: s.id)

    @resolver(
        "The catalog events its detection strategies' analytics read, each with how many of "
        "its current rules observe it (0: ATT&CK says to watch it, no rule reads it); most "
        "analytics first, then by id. includeSubtechniques: its current sub-techniques' "
        "strategies and rules as well."
    )
    async def attack_events(
        self, info: Info, include_subtechniques: bool | None = False
    ) -> list[Annotated["AttackEvent", strawberry.lazy("api.types.attack")]]:
        from api.types.attack import AttackEvent

        rows = await info.context.loaders.attack_events.load((self.id, bool(include_subtechniques)))
        found = [AttackEvent.from_row(r) for r in rows]
        return sorted(found, key=lambda e: (-len(e.analytics), e.event_id))


async def load_technique(info: Info, technique_id: str) -> Technique | None:
    """A technique by id through the request's loader; None when the graph has none."""
    row = await info.context.loaders.technique.load(technique_id)
    return Technique.from_row(row) if row else None


async def known_technique(info: Info, technique_id: str) -> Technique:
    """The technique, or one carrying only its id when the graph has none: a row that names a
    technique (a count, a similarity) keeps its id even if the technique went."""
    found = await load_technique(info, technique_id)
    return found or Technique.from_row({"id": technique_id})


async def load_techniques(info: Info, ids: list[str]) -> list[Technique]:
    """Techniques by id through the request's loader, in the given order, unknown ids skipped."""
    info.context.spend(len(ids))
    rows = await info.context.loaders.technique.load_many(ids)
    return [Technique.from_row(row) for row in rows if row is not None]


@strawberry.type
class TechniqueEdge:
    node: Technique
    cursor: str


@strawberry.type(description="A page of techniques (Relay connection).")
class TechniqueConnection:
    edges: list[TechniqueEdge]
    page_info: PageInfo
    total_count: int

    @resolver("The page's techniques without their edges.")
    def nodes(self) -> list[Technique]:
        return [edge.node for edge in self.edges]
