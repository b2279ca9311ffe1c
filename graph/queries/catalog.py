"""What is loaded: the Source nodes with their provenance, and catalog-wide totals."""

from __future__ import annotations

from graph.queries.runner import Query

SOURCES = Query(
    "sources",
    """
MATCH (s:Source)
RETURN s {.*, current_rules: COUNT { (s)<-[:FROM]-(r:Rule) WHERE NOT r.deprecated }} AS source
ORDER BY CASE s.name WHEN 'attack' THEN 0 WHEN 'sigma' THEN 1 WHEN 'elastic' THEN 2
                     WHEN 'splunk' THEN 3 ELSE 4 END, s.name
""",
)

TOTALS = Query(
    "totals",
    """
CALL () { MATCH (r:Rule) RETURN count(r) AS rules,
       sum(CASE WHEN r.deprecated THEN 1 ELSE 0 END) AS deprecated_rules }
CALL () { MATCH (t:Technique)
       WHERE NOT coalesce(t.revoked, false) AND NOT coalesce(t.deprecated, false)
       RETURN count(t) AS techniques,
              sum(CASE WHEN EXISTS { (t)<-[:DETECTS]-(r:Rule) WHERE NOT r.deprecated }
                  THEN 1 ELSE 0 END) AS covered }
CALL () { MATCH (e:Event) RETURN count(e) AS events }
CALL () { MATCH (f:Field) RETURN count(f) AS fields }
CALL () { MATCH (v:Value) RETURN count(v) AS indicators }
CALL () { MATCH (v:Value)
       WHERE EXISTS { (v)<-[c:CHECKS]-(r:Rule) WHERE NOT c.negated AND NOT r.deprecated }
       RETURN count(v) AS current_indicators }
RETURN rules, deprecated_rules, techniques, covered, events, fields, indicators,
       current_indicators
""",
)
