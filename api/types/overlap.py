"""Where techniques overlap: shared indicators and similar techniques."""

import strawberry

from api.context import Info, resolver
from api.types.coverage import TechniqueCount
from api.types.field import Field
from api.types.technique import Technique, known_technique


@strawberry.type(description="An indicator checked by rules of several of the techniques asked.")
class SharedIndicator:
    field: Field
    operator: str
    value: str
    rule_count_by_technique: list[TechniqueCount] = strawberry.field(
        description="Every technique asked, in the order asked, with its distinct current rules "
        "checking the indicator (0 when none)."
    )
    corpus_reach: int = strawberry.field(
        description="Distinct current rules in the whole catalog checking it (not negated)."
    )
    event_selector: bool = strawberry.field(
        description="True when the check only says which events a rule reads (as "
        "IndicatorUsage.eventSelector)."
    )


@strawberry.type(description="A technique and how much its indicators overlap another's.")
class TechniqueSimilarity:
    technique_id: strawberry.Private[str]
    jaccard: float = strawberry.field(
        description="|A ∩ B| / |A ∪ B| over the sets of non-negated indicators."
    )
    shared_indicators: int = strawberry.field(description="|A ∩ B|.")
    indicator_count: int = strawberry.field(description="|B|: this technique's indicators.")

    @resolver()
    async def technique(self, info: Info) -> Technique:
        return await known_technique(info, self.technique_id)
