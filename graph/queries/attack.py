"""ATT&CK's own detection guidance for a technique: its detection strategies, their analytics, and
the catalog events those analytics read, beside the technique's rules.

Only current (neither revoked nor deprecated) strategies and analytics are read.
"""

from __future__ import annotations

from graph.queries.coverage import SCOPE
from graph.queries.runner import Query

_CURRENT = "NOT coalesce({0}.revoked, false) AND NOT coalesce({0}.deprecated, false)"

#: Per technique: its detection strategies with their analytics, each analytic with its log
#: source references, data components and the catalog events it reads.
STRATEGIES = Query(
    "detection_strategies",
    f"""
UNWIND $ids AS id
MATCH (t:Technique {{id: id}})<-[:DETECTS]-(s:DetectionStrategy)
WHERE {_CURRENT.format("s")}
RETURN id, collect(s {{
  .id, .name, .url,
  analytics: [(s)-[:USES]->(a:Analytic) WHERE {_CURRENT.format("a")} | a {{
    .id, .name, .description, .platforms, .url, .log_sources,
    events: [(a)-[:OBSERVES]->(e:Event) | e.id],
    data_components: [(a)-[:OBSERVES]->(c:DataComponent) | c {{.id, .name, .url}}]
  }}]
}}) AS strategies
""",
)

#: Per technique (with its current sub-techniques when `k.subs`): every catalog event its
#: strategies' analytics read, the analytics reading it, and the distinct current rules of the
#: technique (the same scope) observing it.
ATTACK_EVENTS = Query(
    "attack_events",
    SCOPE
    + f"""
WITH k, collect(scope) AS scopes
UNWIND scopes AS x
MATCH (x)<-[:DETECTS]-(s:DetectionStrategy)-[:USES]->(a:Analytic)-[:OBSERVES]->(e:Event)
WHERE {_CURRENT.format("s")} AND {_CURRENT.format("a")}
WITH k, scopes, e, collect(DISTINCT a.id) AS analytics
WITH k, e, analytics, COUNT {{
  MATCH (r:Rule)-[:OBSERVES]->(e)
  WHERE NOT r.deprecated AND EXISTS {{ (r)-[:DETECTS]->(y) WHERE y IN scopes }}
}} AS rules
RETURN k.id AS id, k.subs AS subs,
       collect({{event: e.id, analytics: analytics, rules: rules}}) AS events
""",
)

#: Per event: the current techniques whose current strategies' analytics read it, each with
#: those analytics and the technique's current rules observing the event.
EVENT_ATTACK_TECHNIQUES = Query(
    "event_attack_techniques",
    f"""
UNWIND $ids AS id
MATCH (e:Event {{id: id}})<-[:OBSERVES]-(a:Analytic)<-[:USES]-(s:DetectionStrategy)
      -[:DETECTS]->(t:Technique)
WHERE {_CURRENT.format("a")} AND {_CURRENT.format("s")} AND {_CURRENT.format("t")}
WITH id, e, t, collect(DISTINCT a.id) AS analytics
WITH id, t, analytics,
     COUNT {{ MATCH (t)<-[:DETECTS]-(r:Rule)-[:OBSERVES]->(e) WHERE NOT r.deprecated }} AS rules
RETURN id, collect({{technique: t.id, analytics: analytics, rules: rules}}) AS techniques
""",
)
