"""Catalog events: lookups, search, and the techniques their rules detect."""

from __future__ import annotations

from graph.queries.runner import Query

#: Event properties with the number of current rules that observe it.
EVENT_MAP = """e {
  .id, .name, .provider, .channel, .event_id, .platform,
  rule_count: COUNT { (e)<-[:OBSERVES]-(r:Rule) WHERE NOT r.deprecated }
}"""

EVENTS_BY_ID = Query(
    "events_by_id",
    f"""
UNWIND $ids AS id
MATCH (e:Event {{id: id}})
RETURN {EVENT_MAP} AS event
""",
)

#: Events whose id or name holds every word of the search ($words, lower-cased; empty: all), in
#: any order: `security 4688` is windows-security:4688, "Windows Security EventID 4688".
EVENT_SEARCH = Query(
    "event_search",
    f"""
MATCH (e:Event)
WHERE all(w IN $words WHERE toLower(e.id) CONTAINS w
                         OR toLower(coalesce(e.name, '')) CONTAINS w)
WITH {EVENT_MAP} AS event
RETURN event ORDER BY event.rule_count DESC, event.id
SKIP $skip LIMIT $limit
""",
)

#: Per event: techniques detected by current rules observing it, by rule count, each with
#: whether ATT&CK retired it (revoked or deprecated), for the caller to keep or leave out.
EVENT_TECHNIQUES = Query(
    "event_techniques",
    """
UNWIND $ids AS id
MATCH (:Event {id: id})<-[:OBSERVES]-(r:Rule)-[:DETECTS]->(t:Technique)
WHERE NOT r.deprecated
WITH id, t, count(DISTINCT r) AS n ORDER BY n DESC, t.id
RETURN id, collect({id: t.id, rules: n,
                    retired: coalesce(t.revoked, false) OR coalesce(t.deprecated, false)})
       AS techniques
""",
)
