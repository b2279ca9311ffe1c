"""Rules: lookups by uid, their predicates, and the filtered, paged rule list."""

from __future__ import annotations

from dataclasses import dataclass

from graph.queries.runner import Query
from graph.selectors import event_selector_params

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
    #: With `technique`: also rules tagged with one of its current sub-techniques (the roll-up
    #: of coverage(includeSubtechniques: true)).
    include_subtechniques: bool = False
    event: str | None = None
    field: str | None = None
    value: str | None = None
    #: Lower-cased text the checked value contains (any case), as indicators(search:) finds.
    value_contains: str | None = None
    #: With an operator the check is one exact indicator: the value is matched as is.
    operator: str | None = None
    #: True: only checks under negation (exclusions); False: only positive ones.
    negated: bool | None = None
    #: False: the check must not be an event selector (graph.selectors).
    include_selectors: bool = True
    #: Only rules every technique tag of which ATT&CK revoked or deprecated.
    only_retired_techniques: bool = False
    include_deprecated: bool = False

    def checks(self) -> bool:
        """Whether the filter names a check (value, operator or polarity) beyond the field."""
        return (
            self.value is not None
            or self.value_contains is not None
            or self.operator is not None
            or self.negated is not None
            or not self.include_selectors
        )


# The query starts from the most selective anchor the filter names, so that a technique's or an
# event's rules are found through their relationships instead of a scan of every rule. Only
# these fixed fragments are ever joined: user input goes in parameters.
_ANCHORS = {
    "technique": "MATCH (:Technique {id: $technique})<-[:DETECTS]-(r:Rule)",
    "event": "MATCH (:Event {id: $event})<-[:OBSERVES]-(r:Rule)",
    "field": "MATCH (:Field {name: $field})<-[:FILTERS_ON]-(r:Rule)",
    "any": "MATCH (r:Rule)",
}
#: The technique anchor with the roll-up: the technique and its current sub-techniques.
_ROLLED_UP = (
    "MATCH (t:Technique {id: $technique})\n"
    "UNWIND [t] + [(s:Technique)-[:SUBTECHNIQUE_OF]->(t) WHERE NOT coalesce(s.revoked, false) "
    "AND NOT coalesce(s.deprecated, false) | s] AS x\n"
    "MATCH (x)<-[:DETECTS]-(r:Rule)"
)
_CONDITIONS = {
    "technique": "EXISTS { (r)-[:DETECTS]->(:Technique {id: $technique}) }",
    "event": "EXISTS { (r)-[:OBSERVES]->(:Event {id: $event}) }",
    "field": "EXISTS { (r)-[:FILTERS_ON]->(:Field {name: $field}) }",
}
# One CHECKS relationship must satisfy every part named: field, operator, value and polarity
# together, so that (field, operator, value, negated) lists exactly the rules a corpusReach
# counts. Without an operator the value is matched as given or lower-cased (case-insensitive
# checks are stored lower-cased); with one, the triple is an exact Value.
_CHECK = (
    "EXISTS { MATCH (r)-[c:CHECKS]->(v:Value) "
    "WHERE ($field IS NULL OR v.field = $field) "
    "AND ($operator IS NULL OR v.operator = $operator) "
    "AND ($value IS NULL OR v.value = $value "
    "OR ($operator IS NULL AND v.value = toLower($value))) "
    "AND ($contains IS NULL OR toLower(v.value) CONTAINS $contains) "
    "AND ($negated IS NULL OR c.negated = $negated)"
)
#: Appended to _CHECK (before its closing brace) when the check must not be an event selector.
_NOT_SELECTOR = (
    " AND NOT (v.field IN $selector_fields OR v.field + '|' + toLower(v.value) IN $selector_values)"
)
_RETIRED_ONLY = (
    "EXISTS { (r)-[:DETECTS]->(:Technique) } AND NOT EXISTS { MATCH (r)-[:DETECTS]->(t:Technique) "
    "WHERE NOT coalesce(t.revoked, false) AND NOT coalesce(t.deprecated, false) }"
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
    if f.checks():
        where.append(_CHECK + ("" if f.include_selectors else _NOT_SELECTOR) + " }")
    if f.only_retired_techniques:
        where.append(_RETIRED_ONLY)
    if f.search:
        where.append(_SEARCH)
    start = _ROLLED_UP if anchor == "technique" and f.include_subtechniques else _ANCHORS[anchor]
    text = (
        f"{start}\nWHERE {' AND '.join(where)}\n"
        "WITH DISTINCT r ORDER BY r.title, r.uid\n"
        "WITH collect(r.uid) AS uids\n"
        "RETURN size(uids) AS total, uids[$skip..$skip + $limit] AS uids"
    )
    shape = "-".join(
        name
        for name in (
            "search",
            "vendor",
            "technique",
            "event",
            "field",
            "value",
            "value_contains",
            "operator",
        )
        if getattr(f, name) not in (None, "")
    )
    if not f.include_selectors:
        shape += "-no-selectors"
    if f.negated is not None:
        shape += "-negated" if f.negated else "-positive"
    if f.only_retired_techniques:
        shape += "-retired"
    if f.technique and f.include_subtechniques:
        shape += "-sub"
    return Query(f"rule_page:{shape}", text)


def rule_page_params(f: RuleFilter, skip: int, limit: int) -> dict[str, object]:
    """Parameters for `rule_page(f)`."""
    params: dict[str, object] = {
        "search": f.search,
        "vendor": f.vendor,
        "technique": f.technique,
        "event": f.event,
        "field": f.field,
        "value": f.value,
        "contains": f.value_contains,
        "operator": f.operator,
        "negated": f.negated,
        "include_deprecated": f.include_deprecated,
        "skip": skip,
        "limit": limit,
    }
    if not f.include_selectors:
        params.update(event_selector_params())
    return params
