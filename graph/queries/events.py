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

EVENT_SEARCH = Query(
    "event_search",
    f"""
MATCH (e:Event)
WHERE $search IS NULL OR toLower(e.id) CONTAINS toLower($search)
   OR toLower(coalesce(e.name, '')) CONTAINS toLower($search)
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
RETURN id, collect({id: t.id,
                    retired: coalesce(t.revoked, false) OR coalesce(t.deprecated, false)})
       AS techniques
""",
)
