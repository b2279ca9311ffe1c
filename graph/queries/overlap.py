"""Where techniques meet: indicators their rules share, and each technique's indicator set."""

from __future__ import annotations

from graph.queries.runner import Query

#: Non-negated indicators checked by current rules of at least `$min_techniques` of the given
#: techniques, with each technique's distinct rule count (roll-up: current sub-techniques only).
#: Without $include_selectors, event selectors are left out: fields in $selector_fields, and
#: `field|lower-cased value` pairs in $selector_values (api.types.authoring has the lists).
INDICATOR_OVERLAP = Query(
    "indicator_overlap",
    """
UNWIND $ids AS id
MATCH (t:Technique {id: id})
OPTIONAL MATCH (sub:Technique)-[:SUBTECHNIQUE_OF]->(t)
WHERE $subs AND NOT coalesce(sub.revoked, false) AND NOT coalesce(sub.deprecated, false)
WITH id, t, collect(sub) AS subs
UNWIND [t] + subs AS x
MATCH (x)<-[:DETECTS]-(r:Rule)-[c:CHECKS]->(v:Value)
WHERE NOT r.deprecated AND NOT c.negated
  AND ($include_selectors OR NOT (v.field IN $selector_fields
                                  OR v.field + '|' + toLower(v.value) IN $selector_values))
WITH v, id, count(DISTINCT r) AS n
WITH v, collect({id: id, rules: n}) AS per, sum(n) AS total
WHERE size(per) >= $min_techniques
RETURN v.key AS key, v.field AS field, v.operator AS operator, v.value AS value, per
ORDER BY size(per) DESC, total DESC, key
LIMIT $limit
""",
)

#: Every current rule that tags a technique and checks a non-negated indicator: its techniques
#: as [id, retired] pairs and its Value keys. The similarity index unions them per technique;
#: read from the rule side, the statement avoids collecting DISTINCT over every
#: (technique, rule, value) path, which took twice as long on the whole corpus.
INDICATOR_SETS = Query(
    "indicator_sets",
    """
MATCH (r:Rule) WHERE NOT r.deprecated
WITH r, [(r)-[:DETECTS]->(t:Technique)
         | [t.id, coalesce(t.revoked, false) OR coalesce(t.deprecated, false)]] AS techniques
WHERE size(techniques) > 0
WITH techniques, [(r)-[c:CHECKS]->(v:Value) WHERE NOT c.negated | v.key] AS values
WHERE size(values) > 0
RETURN techniques, values
""",
)
