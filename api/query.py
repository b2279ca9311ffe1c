"""The Query root: thin resolvers over the named queries in graph/queries and the loaders."""

from collections import defaultdict
from collections.abc import Mapping
from typing import Any, cast

import strawberry
from strawberry import UNSET
from strawberry.scalars import JSON

from api.arguments import (
    MAX_TECHNIQUE_SEARCH,
    given,
    id_list,
    indicator_key,
    lowered,
    operator_argument,
    search_text,
    technique_argument,
    trimmed,
)
from api.context import Info, resolver
from api.errors import BadArgument, shown
from api.navigator import NAVIGATOR_PLATFORMS, build_layer, navigator_platform
from api.pagination import MAX_LINKS, capped, encode_cursor, non_negative, page_window
from api.types.catalog import Catalog, Source
from api.types.collection import Collection
from api.types.connection import page_info
from api.types.coverage import MatrixCell, TacticCoverage, TechniqueCount
from api.types.event import Event
from api.types.field import Field
from api.types.indicator import Indicator, IndicatorSearch
from api.types.overlap import SharedIndicator, TechniqueSimilarity
from api.types.rule import Rule, RuleConnection, load_rules, rule_edges
from api.types.technique import (
    Tactic,
    Technique,
    TechniqueConnection,
    TechniqueEdge,
    load_technique,
    load_techniques,
)
from api.types.vendor import Vendor, vendor_counts, vendor_names
from graph.queries import (
    catalog,
    coverage,
    events,
    fields,
    indicator,
    overlap,
    rules,
    technique,
)
from graph.selectors import event_selector_params, is_event_selector
from loaders.records import value_key


@strawberry.type
class Query:
    @resolver("A technique by ATT&CK id (e.g. T1546.003); null if unknown.")
    async def technique(self, info: Info, id: str) -> Technique | None:
        return await load_technique(info, technique_argument(id))

    @resolver(
        "Techniques by id. tactic: id, short name or name; platform: one of the "
        "technique's platforms, any case (an unknown tactic or platform is BAD_ARGUMENT); "
        "covered: has (or has not) a current rule, of `vendor` when given (vendor alone means "
        "covered by it); uncoveredBy: no current rule of any of these vendors (with vendor or "
        "covered: true, the gaps of those vendors that another catalog covers); search: id "
        "prefix, words in the name, or words in the id, name or description (full-text, the "
        "last word and technique ids also as prefixes), ranked id matches first, then name "
        "matches, then the rest by relevance. "
        "Revoked and deprecated techniques only with includeDeprecated."
    )
    async def techniques(
        self,
        info: Info,
        *,
        tactic: str | None = UNSET,
        platform: str | None = UNSET,
        vendor: Vendor | None = UNSET,
        covered: bool | None = UNSET,
        search: str | None = UNSET,
        first: int | None = 50,
        after: str | None = UNSET,
        include_deprecated: bool | None = False,
        uncovered_by: list[Vendor] | None = UNSET,
    ) -> TechniqueConnection:
        skip, limit = page_window(first, after)
        chosen_tactic = trimmed(tactic)
        if chosen_tactic:
            await _known_tactic(info, chosen_tactic)
        chosen_platform = trimmed(platform)
        if chosen_platform:
            await _known_platform(info, chosen_platform)
        filters: dict[str, Any] = {
            "tactic": chosen_tactic,
            "platform": chosen_platform,
            "vendor": vendor.value if vendor else None,
            "covered": given(covered),
            "uncovered_by": sorted({v.value for v in given(uncovered_by) or []}),
            "include_deprecated": bool(include_deprecated),
            "skip": skip,
            "limit": limit,
        }
        text = lowered(trimmed(search))
        if text is not None and len(text) > MAX_TECHNIQUE_SEARCH:
            # Lucene refuses a prefix of more than 1,000 bytes and more than 1,024 words.
            raise BadArgument(
                f"a technique search takes at most {MAX_TECHNIQUE_SEARCH} characters, "
                f"got {len(text):,}"
            )
        if text is None:
            rows = await info.context.runner.read(technique.TECHNIQUE_PAGE, **filters)
        else:
            rows = await info.context.runner.read(
                technique.TECHNIQUE_SEARCH_PAGE,
                search=text,
                words=text.split(),
                lucene=technique.lucene_query(text),
                **filters,
            )
        total, ids = int(rows[0]["total"]), list(rows[0]["ids"])
        nodes = await load_techniques(info, ids)
        return TechniqueConnection(
            edges=[
                TechniqueEdge(node=t, cursor=encode_cursor(skip + i)) for i, t in enumerate(nodes)
            ],
            page_info=page_info(skip, len(nodes), total),
            total_count=total,
        )

    @resolver("Every ATT&CK tactic, in matrix order.")
    async def tactics(self, info: Info) -> list[Tactic]:
        return [Tactic.from_row(row) for row in await info.context.loaders.tactics()]

    @resolver("A rule by uid (`sigma:<id>`, `elastic:<rule_id>`, `splunk:<id>`).")
    async def rule(self, info: Info, uid: str) -> Rule | None:
        found = await load_rules(info, [uid.strip()])
        return found[0] if found else None

    @resolver(
        "Rules by title. search: title substring or exact native id / uid; "
        "techniqueId: tagged with it; eventId: observes it; field: filters on it; value: checks "
        "that value (exact, or lower-cased), on `field` when both are given; operator: with that "
        "operator, one of eq, wildcard, regex_match, match, cidr, exists, lt, lte, gt, gte, lookup "
        "(another is BAD_ARGUMENT; then field + operator + value name one indicator, the value "
        "matched as given, else lower-cased as indicator() does); negated: true for "
        "exclusions only, false for positive checks only. Field, operator, value and negated "
        "all apply to the same check, so (field, operator, value, negated) lists exactly the "
        "rules an IndicatorUsage's corpusReach counts. "
        "onlyRetiredTechniques: rules whose every technique tag ATT&CK revoked or deprecated. "
        "includeSubtechniques: with techniqueId, also rules tagged with one of its current "
        "sub-techniques, the rules coverage(includeSubtechniques: true) counts. valueContains: "
        "the check's value contains this text (any case, at least 2 characters; with the other "
        "check arguments, on the same check): with the same negated and includeEventSelectors, "
        "the rules indicators(search:) counts (indicators takes negated: false by default, "
        "rules both polarities). includeEventSelectors: false, the check is no event selector."
    )
    async def rules(
        self,
        info: Info,
        *,
        search: str | None = UNSET,
        vendor: Vendor | None = UNSET,
        technique_id: str | None = UNSET,
        event_id: str | None = UNSET,
        field: str | None = UNSET,
        value: str | None = UNSET,
        include_deprecated: bool | None = False,
        first: int | None = 50,
        after: str | None = UNSET,
        operator: str | None = UNSET,
        negated: bool | None = UNSET,
        only_retired_techniques: bool | None = False,
        include_subtechniques: bool | None = False,
        value_contains: str | None = UNSET,
        include_event_selectors: bool | None = True,
    ) -> RuleConnection:
        skip, limit = page_window(first, after)
        contains = given(value_contains)
        if contains is not None:
            contains = search_text(contains)
        chosen_operator = operator_argument(operator)
        checked = given(value)
        name = trimmed(field)
        if checked and name and chosen_operator and checked != checked.lower():
            # As indicator(): the value as given, else lower-cased when only that one is checked
            # (case-insensitive checks are stored lower-cased).
            key = await indicator_key(info, name, chosen_operator, checked)
            if key == value_key(name, chosen_operator, checked.lower()):
                checked = checked.lower()
        chosen = rules.RuleFilter(
            search=trimmed(search),
            vendor=vendor.value if vendor else None,
            technique=technique_argument(technique_id) if technique_id else None,
            include_subtechniques=bool(include_subtechniques),
            event=trimmed(event_id),
            field=name,
            # An empty string is a value rules check (37 indicators of the corpus have one).
            value=checked,
            value_contains=contains,
            include_selectors=include_event_selectors is not False,
            operator=chosen_operator,
            negated=given(negated),
            only_retired_techniques=bool(only_retired_techniques),
            include_deprecated=bool(include_deprecated),
        )
        rows = await info.context.runner.read(
            rules.rule_page(chosen), **rules.rule_page_params(chosen, skip, limit)
        )
        total, uids = int(rows[0]["total"]), list(rows[0]["uids"])
        nodes = await load_rules(info, uids)
        return RuleConnection(
            edges=rule_edges(nodes, skip),
            page_info=page_info(skip, len(nodes), total),
            total_count=total,
        )

    @resolver("A catalog event by id (e.g. sysmon:1); null if unknown.")
    async def event(self, info: Info, id: str) -> Event | None:
        row = await info.context.loaders.event.load(id.strip())
        return Event.from_row(row) if row else None

    @resolver(
        "Events whose id or name holds every word of `search` (any order, any case), most "
        "observed first (then by id). offset: "
        "skip that many first (first is at most 200; without search, catalog.eventCount "
        "counts them all)."
    )
    async def events(
        self, info: Info, search: str | None = UNSET, first: int | None = 100, offset: int = 0
    ) -> list[Event]:
        rows = await info.context.runner.read(
            events.EVENT_SEARCH,
            words=(trimmed(search) or "").lower().split(),
            skip=non_negative(offset, "offset"),
            limit=capped(first, 100),
        )
        return [Event.from_row(row["event"]) for row in rows]

    @resolver("A canonical field by name (e.g. process.name); null if unknown.")
    async def field(self, info: Info, name: str) -> Field | None:
        exists = await info.context.loaders.field_exists.load(name.strip())
        return Field(name=name.strip()) if exists else None

    @resolver(
        "The canonical fields some rule writes as `name` (a vendor's own name, any case), by "
        "name: Sigma's ParentImage is process.parent.name, or process.parent.executable for a "
        "full path. Each field's aliases say which vendors write it so."
    )
    async def fields_written_as(self, info: Info, name: str) -> list[Field]:
        rows = await info.context.runner.read(fields.FIELDS_WRITTEN_AS, name=name.strip())
        info.context.spend(len(rows))
        return [Field(name=row["name"]) for row in rows]

    @resolver(
        "One indicator across the catalog: the (field, operator, value) triple with a "
        "polarity (negated: true for it as an exclusion). The value as given, else lower-cased "
        "(case-insensitive checks are stored lower-cased); null when no rule, current or "
        "deprecated, checks the triple (one only deprecated rules check has counts of 0). An "
        "operator outside eq, wildcard, regex_match, match, cidr, exists, lt, lte, gt, gte, "
        "lookup is BAD_ARGUMENT."
    )
    async def indicator(
        self, info: Info, field: str, operator: str, value: str, negated: bool = False
    ) -> Indicator | None:
        chosen = operator_argument(operator)
        name = field.strip()
        if chosen is None or not name:
            raise BadArgument("indicator needs a field and an operator")
        key = await indicator_key(info, name, chosen, value)
        if key is None:
            return None
        rows = await info.context.loaders.indicator_rules.load(key)
        return info.context.runner.memo(
            ("indicator", key, negated), lambda: Indicator.from_rules(key, negated, rows)
        )

    @resolver(
        "Indicators whose value contains `search` (any case; at least 2 characters), on "
        "`field` and with `operator` when given, checked by current rules with the polarity "
        "asked (negated: true for exclusions), most rules first: every indicator and rule that "
        "mentions a tool, path or string. includeEventSelectors: false leaves out event "
        "selectors (`host.os.type windows` for `windows`) from the list and the rule count. An "
        "unknown operator is BAD_ARGUMENT. offset: skip that many nodes first (first is at most "
        "200; totalCount says how many there are)."
    )
    async def indicators(
        self,
        info: Info,
        *,
        search: str,
        field: str | None = UNSET,
        operator: str | None = UNSET,
        negated: bool = False,
        first: int | None = 50,
        include_event_selectors: bool = True,
        offset: int = 0,
    ) -> IndicatorSearch:
        text = search_text(search)
        rows = await info.context.runner.read(
            indicator.INDICATOR_SEARCH,
            text=text,
            field=trimmed(field),
            operator=operator_argument(operator),
            negated=negated,
            skip=non_negative(offset, "offset"),
            limit=capped(first, 50),
            include_selectors=include_event_selectors,
            **event_selector_params(),
        )
        found = IndicatorSearch.from_row(rows[0], negated)
        info.context.spend(len(found.nodes))
        return found

    @resolver(
        "Non-negated indicators checked by current rules of at least two of the "
        "techniques, most shared first (then by rules). Unknown ids: UNKNOWN_TECHNIQUE. "
        "includeEventSelectors: false leaves out event selectors (see "
        "SharedIndicator.eventSelector), which most rules of a vendor share whatever the "
        "technique."
    )
    async def indicator_overlap(
        self,
        info: Info,
        technique_ids: list[str],
        first: int | None = 50,
        include_subtechniques: bool | None = False,
        include_event_selectors: bool | None = True,
    ) -> list[SharedIndicator]:
        ids = id_list(technique_ids, "techniqueIds", technique_argument)
        if len(ids) < 2:
            raise BadArgument("indicatorOverlap needs at least two distinct technique ids")
        await info.context.loaders.require_techniques(ids)
        rows = await info.context.runner.read(
            overlap.INDICATOR_OVERLAP,
            ids=ids,
            subs=bool(include_subtechniques),
            min_techniques=2,
            limit=capped(first, 50),
            include_selectors=include_event_selectors is not False,
            **event_selector_params(),
        )
        reach = await info.context.loaders.reach.load_many([(r["key"], False) for r in rows])
        result = []
        for row, n in zip(rows, reach, strict=True):
            per = {p["id"]: int(p["rules"]) for p in row["per"]}
            result.append(
                SharedIndicator(
                    field=Field(name=row["field"]),
                    operator=row["operator"],
                    value=row["value"],
                    rule_count_by_technique=[
                        TechniqueCount(technique_id=i, rule_count=per.get(i, 0)) for i in ids
                    ],
                    corpus_reach=n,
                    event_selector=is_event_selector(row["field"], row["value"]),
                )
            )
        return result

    @resolver(
        "Techniques ranked by Jaccard similarity of their sets of non-negated "
        "indicators (current rules, direct tags). Unknown id: UNKNOWN_TECHNIQUE. "
        "includeEventSelectors: false takes the sets without event selectors, so that "
        "techniques sharing only which events they read are not similar. "
        "includeSubtechniques: every technique's set also holds its current sub-techniques' "
        "indicators (as coverage(includeSubtechniques: true) counts their rules), and the "
        "technique's own family (its parent, its sub-techniques) is not offered."
    )
    async def similar_techniques(
        self,
        info: Info,
        id: str,
        first: int | None = 10,
        include_event_selectors: bool | None = True,
        include_subtechniques: bool | None = False,
    ) -> list[TechniqueSimilarity]:
        tid = technique_argument(id)
        (row,) = await info.context.loaders.require_techniques([tid])
        rolled_up = bool(include_subtechniques)
        index = await info.context.loaders.similarity(
            include_event_selectors is not False, rolled_up
        )
        family = [row.get("parent"), *(row.get("subtechniques") or [])] if rolled_up else []
        return [
            TechniqueSimilarity(
                technique_id=s.technique,
                jaccard=s.jaccard,
                shared_indicators=s.shared,
                indicator_count=index.size(s.technique),
            )
            for s in index.similar(tid, capped(first, 10), [str(f) for f in family if f])
        ]

    @resolver(
        "Tactics x current techniques (platform filter, any case; an unknown platform is "
        "BAD_ARGUMENT) with distinct current rules per technique (direct tags), optionally of "
        "some vendors only. includeSubtechniques: sub-techniques are folded into their "
        "parents, each parent counting the distinct rules of itself and its current "
        "sub-techniques on the platform."
    )
    async def coverage_matrix(
        self,
        info: Info,
        platform: str | None = UNSET,
        vendors: list[Vendor] | None = UNSET,
        include_subtechniques: bool | None = False,
    ) -> list[TacticCoverage]:
        chosen = trimmed(platform)
        if chosen:
            await _known_platform(info, chosen)
        rows = await info.context.runner.read(
            coverage.TECHNIQUE_RULE_COUNTS,
            platform=chosen,
            vendors=_vendor_list(vendors),
            subs=bool(include_subtechniques),
        )
        cells: dict[str, list[MatrixCell]] = defaultdict(list)
        for row in rows:
            counts = {v["vendor"]: int(v["rules"]) for v in row["by_vendor"] if v}
            cell = MatrixCell(
                technique_id=row["id"],
                rule_count=sum(counts.values()),
                by_vendor=vendor_counts(counts),
            )
            for tactic_id in row["tactics"]:
                cells[tactic_id].append(cell)
        return [
            TacticCoverage(
                tactic=Tactic.from_row(t),
                technique_count=len(cells[t["id"]]),
                covered_count=sum(1 for c in cells[t["id"]] if c.rule_count),
                techniques=cells[t["id"]],
            )
            for t in await info.context.loaders.tactics()
        ]

    @resolver(
        "Current techniques (revoked and deprecated ones left out) some current rule can fire "
        "on given the events collected: a rule can fire when at least one of the events it "
        "observes is collected. Unknown event ids match nothing."
    )
    async def detectable_with(self, info: Info, event_ids: list[str]) -> list[Technique]:
        ids = id_list(event_ids, "eventIds")
        rows = await info.context.runner.read(coverage.DETECTABLE_WITH, events=ids)
        return await load_techniques(info, [row["id"] for row in rows])

    @resolver(
        "What the current rules (of `vendors` when given) can detect with these events "
        "collected, and which events to collect next: as detectableWith, a rule can fire when "
        "one of the events it observes is collected. Unknown ids are listed, not an error, so "
        "an inventory can be pasted (at most 500 ids)."
    )
    async def collection(
        self, info: Info, event_ids: list[str], vendors: list[Vendor] | None = UNSET
    ) -> Collection:
        ids = id_list(event_ids, "eventIds")
        rows = await info.context.loaders.event.load_many(ids)
        known = [i for i, row in zip(ids, rows, strict=True) if row is not None]
        index = await info.context.loaders.collection(vendor_names(vendors))
        rule_count, technique_count = index.state(known)
        return Collection(
            event_ids=known,
            unknown_event_ids=[i for i, row in zip(ids, rows, strict=True) if row is None],
            rule_count=rule_count,
            technique_count=technique_count,
            reachable_rule_count=index.reachable_rules,
            reachable_technique_count=index.reachable_techniques,
            index=index,
        )

    @resolver(
        "An ATT&CK Navigator layer (format 4.5, Navigator 5.2 or later): score = distinct "
        "current rules, comment = rules per vendor, links = the rule files upstream (at most "
        "linksPerTechnique each, at most 50). The platform is one of Navigator's (Windows, "
        "Linux, macOS, ..., any case). gapsOf: only the techniques with no current rule of "
        "that vendor, scored by the rules of the other vendors (of `vendors` when given): its "
        "gaps, as the matrix's gap view shows them. Also a file at GET /navigator-layer.json."
    )
    async def navigator_layer(
        self,
        info: Info,
        platform: str | None = UNSET,
        vendors: list[Vendor] | None = UNSET,
        links_per_technique: int | None = 25,
        gaps_of: Vendor | None = UNSET,
    ) -> JSON:
        chosen = trimmed(platform)
        platform_name = navigator_platform(chosen) if chosen else None
        given_gap = given(gaps_of)
        gap = given_gap.value if given_gap is not None else None
        scope = _vendor_list(vendors)
        # The gap vendor's own rules are counted too, to know which techniques it covers.
        asked = sorted({*scope, gap}) if gap and scope is not None else scope
        params = {"platform": platform_name, "vendors": asked}
        counts = await info.context.runner.read(
            coverage.TECHNIQUE_RULE_COUNTS, subs=False, **params
        )
        links = await info.context.runner.read(coverage.TECHNIQUE_RULE_LINKS, **params)
        sources = await info.context.loaders.sources()
        attack = next((s for s in sources if s["name"] == "attack"), {})
        layer = build_layer(
            counts,
            {row["id"]: row["rules"] for row in links},
            attack_version=attack.get("version"),
            platform=platform_name,
            vendors=scope,
            links_per_technique=min(
                capped(links_per_technique, 25, "linksPerTechnique"), MAX_LINKS
            ),
            gaps_of=gap,
        )
        return cast(JSON, layer)

    @resolver("What is loaded: sources with provenance, and totals.")
    async def catalog(self, info: Info) -> Catalog:
        sources = await info.context.loaders.sources()
        totals = (await info.context.runner.read(catalog.TOTALS))[0]
        attack = next((s for s in sources if s["name"] == "attack"), {})
        return Catalog(
            sources=[Source.from_row(s) for s in sources],
            attack_version=attack.get("version"),
            rule_count=int(totals["rules"]) - int(totals["deprecated_rules"]),
            deprecated_rule_count=int(totals["deprecated_rules"]),
            technique_count=int(totals["techniques"]),
            covered_technique_count=int(totals["covered"]),
            event_count=int(totals["events"]),
            field_count=int(totals["fields"]),
            indicator_count=int(totals["indicators"]),
            current_indicator_count=int(totals["current_indicators"]),
        )


def _names(tactic: Mapping[str, Any]) -> tuple[str, ...]:
    """A tactic's id, short name and name, lower-cased: what a ``tactic:`` argument may say."""
    return tuple(str(tactic.get(key) or "").lower() for key in ("id", "shortname", "name"))


async def _known_tactic(info: Info, tactic: str) -> None:
    """BadArgument, listing the tactics, when no tactic has this id, short name or name."""
    tactics = await info.context.loaders.tactics()
    wanted = tactic.lower()
    if not tactics or any(wanted in _names(t) for t in tactics):
        return
    names = ", ".join(str(t.get("shortname") or t["id"]) for t in tactics)
    raise BadArgument(f"unknown tactic {shown(tactic)}; one of (id, short name or name): {names}")


async def _known_platform(info: Info, platform: str) -> None:
    """BadArgument, listing the platforms, for one neither ATT&CK's techniques nor Navigator name.

    Navigator's names are accepted everywhere so that a platform the layer takes is never an
    error in the matrix; with no technique loaded there is nothing to check against.
    """
    loaded = await info.context.loaders.platforms()
    if not loaded:
        return
    known = list(dict.fromkeys([*NAVIGATOR_PLATFORMS, *loaded]))
    if platform.lower() not in {p.lower() for p in known}:
        raise BadArgument(f"unknown platform {shown(platform)}; one of: {', '.join(known)}")


def _vendor_list(vendors: list[Vendor] | None) -> list[str] | None:
    names = vendor_names(vendors)
    return list(names) if names is not None else None
