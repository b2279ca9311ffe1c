"""Where techniques meet: indicators their rules share, and each technique's indicator set."""

from __future__ import annotations

from graph.queries.runner import Query

#: Non-negated indicators checked by current rules of at least `$min_techniques` of the given
#: techniques, with each technique's distinct rule count.
INDICATOR_OVERLAP = Query(
    "indicator_overlap",
    """
UNWIND $ids AS id
MATCH (t:Technique {id: id})
OPTIONAL MATCH (sub:Technique)-[:SUBTECHNIQUE_OF]->(t) WHERE $subs
WITH id, t, collect(sub) AS subs
UNWIND [t] + subs AS x
MATCH (x)<-[:DETECTS]-(r:Rule)-[c:CHECKS]->(v:Value)
WHERE NOT r.deprecated AND NOT c.negated
WITH v, id, count(DISTINCT r) AS n
WITH v, collect({id: id, rules: n}) AS per, sum(n) AS total
WHERE size(per) >= $min_techniques
RETURN v.key AS key, v.field AS field, v.operator AS operator, v.value AS value, per
ORDER BY size(per) DESC, total DESC, key
LIMIT $limit
""",
)

#: Every technique with its set of non-negated indicators (Value keys) from current rules.
#: Read once per graph version to rank techniques by Jaccard similarity in memory.
INDICATOR_SETS = Query(
    "indicator_sets",
    """
MATCH (t:Technique)<-[:DETECTS]-(r:Rule)-[c:CHECKS]->(v:Value)
WHERE NOT r.deprecated AND NOT c.negated
RETURN t.id AS id, coalesce(t.revoked, false) OR coalesce(t.deprecated, false) AS retired,
       collect(DISTINCT v.key) AS values
""",
)
