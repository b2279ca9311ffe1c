"""One indicator across the whole catalog: the rules that check it and what else they check."""

from __future__ import annotations

from graph.queries.runner import Query
from graph.queries.technique import CURRENT

#: Which of the keys name a Value node (an indicator some rule checks or checked).
VALUES_EXIST = Query(
    "values_exist",
    """
UNWIND $keys AS key
MATCH (v:Value {key: key})
RETURN key
""",
)

#: Per Value key: every current rule checking it, with the polarities it checks it with, its
#: vendor, its current techniques and the events it observes. The API counts them per vendor,
#: technique and event for either polarity, so one read serves both.
INDICATOR_RULES = Query(
    "indicator_rules",
    f"""
UNWIND $keys AS key
MATCH (v:Value {{key: key}})<-[c:CHECKS]-(r:Rule)
WHERE NOT r.deprecated
WITH key, r, collect(DISTINCT c.negated) AS polarities
RETURN key, collect({{
  vendor: r.vendor,
  polarities: polarities,
  techniques: [(r)-[:DETECTS]->(t:Technique) WHERE {CURRENT} | t.id],
  events: [(r)-[:OBSERVES]->(e:Event) | e.id]
}}) AS rules
""",
)

#: Per (Value key, polarity): the non-negated indicators the same current rules also check,
#: with how many of those rules of each vendor check each ([vendor, rules] pairs in `per`), most
#: first (ties by field, operator, value), at most $limit, and how many there are in all.
#: Without $include_selectors, event selectors are left out (graph.selectors has the lists).
CHECKED_WITH = Query(
    "checked_with",
    """
UNWIND $checks AS k
MATCH (:Value {key: k.key})<-[c:CHECKS]-(r:Rule)
WHERE NOT r.deprecated AND c.negated = k.negated
WITH k, collect(DISTINCT r) AS rules
CALL (k, rules) {
  UNWIND rules AS r
  MATCH (r)-[c:CHECKS]->(w:Value)
  WHERE NOT c.negated AND w.key <> k.key
    AND ($include_selectors OR NOT (w.field IN $selector_fields
                                    OR w.field + '|' + toLower(w.value) IN $selector_values))
  WITH w, r.vendor AS vendor, count(DISTINCT r) AS n
  WITH w, collect([vendor, n]) AS per, sum(n) AS total
  ORDER BY total DESC, w.field, w.operator, w.value
  RETURN collect({key: w.key, field: w.field, operator: w.operator, value: w.value, per: per})
         AS rows
}
RETURN k.key AS key, k.negated AS negated, rows[..$limit] AS rows, size(rows) AS total
""",
)

#: The indicators whose value contains $text (lower-cased; compared with the lower-cased value),
#: on $field and with $operator when given, checked by current rules with polarity $negated:
#: the distinct rules checking any of them, and the indicators with their distinct rules per
#: vendor, most rules first (ties by field, operator, value), at most $limit, with their number.
#: Without $include_selectors, event selectors are left out.
#: Every Value is read (no index serves CONTAINS), some 57,000 on the corpus: tens of ms.
#: The checks the search reads, on (v, c, r); written once, read twice below.
_SEARCHED = """MATCH (v:Value)
  WHERE toLower(v.value) CONTAINS $text
    AND ($field IS NULL OR v.field = $field) AND ($operator IS NULL OR v.operator = $operator)
    AND ($include_selectors OR NOT (v.field IN $selector_fields
                                    OR v.field + '|' + toLower(v.value) IN $selector_values))
  MATCH (v)<-[c:CHECKS]-(r:Rule)
  WHERE NOT r.deprecated AND c.negated = $negated"""

INDICATOR_SEARCH = Query(
    "indicator_search",
    f"""
CALL () {{
  {_SEARCHED}
  RETURN count(DISTINCT r) AS rules
}}
CALL () {{
  {_SEARCHED}
  WITH v, r.vendor AS vendor, count(DISTINCT r) AS n
  WITH v, collect([vendor, n]) AS per, sum(n) AS total
  ORDER BY total DESC, v.field, v.operator, v.value
  RETURN collect({{key: v.key, field: v.field, operator: v.operator, value: v.value, per: per}})
         AS rows
}}
RETURN rules, rows[$skip..$skip + $limit] AS rows, size(rows) AS total
""",
)
