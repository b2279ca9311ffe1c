"""Coverage of techniques by rules: per technique, per tactic, and from the events collected.

Counts are of distinct rules. Only `DETECTS` relationships are read: a rule detects exactly the
techniques it is tagged with, and a parent technique's roll-up of its sub-techniques is done here,
at query time, when `$subs` asks for it.
"""

from __future__ import annotations

from graph.queries.runner import Query
from graph.queries.technique import CURRENT, ON_PLATFORM

#: The technique itself, plus its current sub-techniques when `k.subs`: rows of (k, t, scope).
#: Revoked and deprecated sub-techniques are left out of the roll-up, as from every list.
SCOPE = """
UNWIND $keys AS k
MATCH (t:Technique {id: k.id})
OPTIONAL MATCH (sub:Technique)-[:SUBTECHNIQUE_OF]->(t)
WHERE k.subs AND NOT coalesce(sub.revoked, false) AND NOT coalesce(sub.deprecated, false)
WITH k, t, collect(sub) AS subs
UNWIND [t] + subs AS scope
"""

#: Per technique: each distinct rule with its vendor and the events it observes.
COVERAGE = Query(
    "coverage",
    SCOPE
    + """
OPTIONAL MATCH (scope)<-[:DETECTS]-(r:Rule)
WHERE k.deprecated OR NOT r.deprecated
WITH DISTINCT k, r
WITH k, r, [(r)-[:OBSERVES]->(e:Event) | e.id] AS events
ORDER BY r.title, r.uid
RETURN k.id AS id, k.subs AS subs, k.deprecated AS deprecated,
       collect(CASE WHEN r IS NULL THEN null
                    ELSE {uid: r.uid, vendor: r.vendor, events: events} END) AS rules
""",
)

#: Per technique: the distinct rules' fields (with each rule's operators on it and vendor) and
#: indicators (with their distinct rules per vendor).
AUTHORING = Query(
    "authoring",
    SCOPE
    + """
MATCH (scope)<-[:DETECTS]-(r:Rule)
WHERE NOT r.deprecated AND ($vendors IS NULL OR r.vendor IN $vendors)
WITH k, collect(DISTINCT r) AS rules
CALL (rules) {
  UNWIND rules AS r
  MATCH (r)-[fo:FILTERS_ON]->(f:Field)
  WITH f.name AS field, collect(fo.operators) AS operators, collect(r.vendor) AS vendors
  RETURN collect({field: field, operators: operators, vendors: vendors}) AS fields
}
CALL (rules) {
  UNWIND rules AS r
  MATCH (r)-[c:CHECKS]->(v:Value)
  WITH v, c.negated AS negated, r.vendor AS vendor, count(DISTINCT r) AS n
  WITH v, negated, collect([vendor, n]) AS per
  RETURN collect({key: v.key, field: v.field, operator: v.operator, value: v.value,
                  negated: negated, per: per}) AS values
}
RETURN k.id AS id, k.subs AS subs, size(rules) AS rule_count, fields, values
""",
)

#: How many current rules in the whole catalog check a Value with the given polarity.
CORPUS_REACH = Query(
    "corpus_reach",
    """
UNWIND $checks AS k
MATCH (v:Value {key: k.key})
CALL (v, k) {
  MATCH (v)<-[c:CHECKS]-(r:Rule)
  WHERE c.negated = k.negated AND NOT r.deprecated
  RETURN count(DISTINCT r) AS reach
}
RETURN k.key AS key, k.negated AS negated, reach
""",
)

#: Current techniques on a platform, each with its distinct current rules per vendor.
#: With `$subs`, sub-techniques are folded into their parents: only techniques that are not
#: sub-techniques are returned, each counting the distinct rules of itself and of its current
#: sub-techniques on the platform (those the matrix would show under it).
TECHNIQUE_RULE_COUNTS = Query(
    "technique_rule_counts",
    f"""
MATCH (t:Technique)
WHERE {CURRENT} AND {ON_PLATFORM}
  AND NOT (coalesce($subs, false) AND (t)-[:SUBTECHNIQUE_OF]->(:Technique))
WITH t, CASE WHEN coalesce($subs, false)
        THEN [t] + [(s:Technique)-[:SUBTECHNIQUE_OF]->(t)
                    WHERE NOT coalesce(s.revoked, false) AND NOT coalesce(s.deprecated, false)
                      AND {ON_PLATFORM.replace("t.platforms", "s.platforms")} | s]
        ELSE [t] END AS scope
UNWIND scope AS st
OPTIONAL MATCH (st)<-[:DETECTS]-(r:Rule)
WHERE NOT r.deprecated AND ($vendors IS NULL OR r.vendor IN $vendors)
WITH DISTINCT t, r
WITH t, r.vendor AS vendor, count(r) AS n
WITH t, collect(CASE WHEN vendor IS NULL THEN null ELSE {{vendor: vendor, rules: n}} END)
     AS by_vendor
RETURN t.id AS id, [(t)-[:IN_TACTIC]->(ta:Tactic) | ta.id] AS tactics,
       [(t)-[:IN_TACTIC]->(ta:Tactic) | ta.shortname] AS tactic_names,
       by_vendor
ORDER BY id
""",
)

#: The rules behind each covered technique, for links: uid, vendor, title, path and provenance.
TECHNIQUE_RULE_LINKS = Query(
    "technique_rule_links",
    f"""
MATCH (t:Technique)<-[:DETECTS]-(r:Rule)
WHERE {CURRENT} AND {ON_PLATFORM}
  AND NOT r.deprecated AND ($vendors IS NULL OR r.vendor IN $vendors)
OPTIONAL MATCH (r)-[:FROM]->(s:Source)
WITH t, r, s ORDER BY r.vendor, r.title, r.uid
RETURN t.id AS id,
       collect({{uid: r.uid, vendor: r.vendor, title: r.title, path: r.path,
                repository: s.repository, commit: s.commit}}) AS rules
""",
)

#: Current techniques detected by a current rule that observes at least one of the events
#: (revoked and deprecated techniques left out, as in the matrix and similarity).
DETECTABLE_WITH = Query(
    "detectable_with",
    f"""
MATCH (e:Event)<-[:OBSERVES]-(r:Rule)-[:DETECTS]->(t:Technique)
WHERE e.id IN $events AND NOT r.deprecated AND {CURRENT}
RETURN DISTINCT t.id AS id
ORDER BY id
""",
)
