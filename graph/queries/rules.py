"""Rules: lookups by uid, their predicates, and the filtered, paged rule list."""

from __future__ import annotations

from dataclasses import dataclass

from graph.queries.runner import Query

RULES_BY_UID = Query(
    "rules_by_uid",
    """
UNWIND $uids AS uid
MATCH (r:Rule {uid: uid})
OPTIONAL MATCH (r)-[:FROM]->(s:Source)
RETURN r {.*} AS rule, s.repository AS repository, s.commit AS commit,
       [(r)-[:DETECTS]->(t:Technique) | t.id] AS techniques,
       [(r)-[:OBSERVES]->(e:Event) | e.id] AS events
""",
)

PREDICATES_BY_RULE = Query(
    "predicates_by_rule",
    """
UNWIND $uids AS uid
MATCH (r:Rule {uid: uid})-[c:CHECKS]->(v:Value)
WITH uid, c, v ORDER BY c.negated, v.field, v.operator, v.value
RETURN uid, collect({field: v.field, operator: v.operator, value: v.value,
                     negated: c.negated, vendor_field: c.vendor_field,
                     raw_value: c.raw_value,
                     case_sensitive: coalesce(c.case_sensitive, false)}) AS predicates
""",
)


@dataclass(frozen=True, slots=True)
class RuleFilter:
    """What a rule list is narrowed by; None means no narrowing."""

    search: str | None = None
    vendor: str | None = None
    technique: str | None = None
    event: str | None = None
    field: str | None = None
    value: str | None = None
    include_deprecated: bool = False


# The query starts from the most selective anchor the filter names, so that a technique's or an
# event's rules are found through their relationships instead of a scan of every rule. Only
# these fixed fragments are ever joined: user input goes in parameters.
_ANCHORS = {
    "technique": "MATCH (:Technique {id: $technique})<-[:DETECTS]-(r:Rule)",
    "event": "MATCH (:Event {id: $event})<-[:OBSERVES]-(r:Rule)",
    "field": "MATCH (:Field {name: $field})<-[:FILTERS_ON]-(r:Rule)",
    "any": "MATCH (r:Rule)",
}
_CONDITIONS = {
    "technique": "EXISTS { (r)-[:DETECTS]->(:Technique {id: $technique}) }",
    "event": "EXISTS { (r)-[:OBSERVES]->(:Event {id: $event}) }",
    "field": "EXISTS { (r)-[:FILTERS_ON]->(:Field {name: $field}) }",
}
_VALUE = (
    "EXISTS { MATCH (r)-[:CHECKS]->(v:Value) "
    "WHERE v.value IN [$value, toLower($value)] AND ($field IS NULL OR v.field = $field) }"
)
_SEARCH = (
    "(toLower(r.title) CONTAINS toLower($search) OR toLower(r.native_id) = toLower($search) "
    "OR r.uid = $search)"
)


def rule_page(f: RuleFilter) -> Query:
    """The statement listing rule uids for this filter, ordered by title, with the total."""
    anchor = next((name for name in ("technique", "event", "field") if getattr(f, name)), "any")
    where = ["($include_deprecated OR NOT r.deprecated)"]
    where += [cond for name, cond in _CONDITIONS.items() if getattr(f, name) and name != anchor]
    if f.vendor:
        where.append("r.vendor = $vendor")
    if f.value:
        where.append(_VALUE)
    if f.search:
        where.append(_SEARCH)
    text = (
        f"{_ANCHORS[anchor]}\nWHERE {' AND '.join(where)}\n"
        "WITH DISTINCT r ORDER BY r.title, r.uid\n"
        "WITH collect(r.uid) AS uids\n"
        "RETURN size(uids) AS total, uids[$skip..$skip + $limit] AS uids"
    )
    shape = "-".join(
        name
        for name in ("search", "vendor", "technique", "event", "field", "value")
        if getattr(f, name) not in (None, "")
    )
    return Query(f"rule_page:{shape}", text)


def rule_page_params(f: RuleFilter, skip: int, limit: int) -> dict[str, object]:
    """Parameters for `rule_page(f)`."""
    return {
        "search": f.search,
        "vendor": f.vendor,
        "technique": f.technique,
        "event": f.event,
        "field": f.field,
        "value": f.value,
        "include_deprecated": f.include_deprecated,
        "skip": skip,
        "limit": limit,
    }
