"""Techniques and tactics: lookups by id, the filtered technique list, tactic membership."""

from __future__ import annotations

from graph.queries.runner import Query

#: The technique properties the API shows (the long `detection` text is left in the graph).
TECHNIQUE_MAP = """t {
  .id, .name, .description, .url, .platforms, .is_subtechnique, .deprecated, .revoked, .revoked_by,
  parent: head([(t)-[:SUBTECHNIQUE_OF]->(p:Technique) | p.id]),
  subtechniques: [(s:Technique)-[:SUBTECHNIQUE_OF]->(t) | s.id],
  tactics: [(t)-[:IN_TACTIC]->(ta:Tactic) | ta.id]
}"""

#: A technique is current unless ATT&CK marked it revoked or deprecated.
CURRENT = "NOT coalesce(t.revoked, false) AND NOT coalesce(t.deprecated, false)"

#: Case-insensitive platform filter; $platform null means any.
ON_PLATFORM = (
    "($platform IS NULL OR any(p IN coalesce(t.platforms, []) "
    "WHERE toLower(p) = toLower($platform)))"
)

TECHNIQUES_BY_ID = Query(
    "techniques_by_id",
    f"""
UNWIND $ids AS id
MATCH (t:Technique {{id: id}})
RETURN {TECHNIQUE_MAP} AS technique
""",
)

#: Every technique, revoked and deprecated ones too: a few hundred small maps, read once per
#: graph version so that the API's technique lookups need no round trip.
ALL_TECHNIQUES = Query(
    "all_techniques",
    f"""
MATCH (t:Technique)
RETURN {TECHNIQUE_MAP} AS technique
""",
)

# Ids only: the page's techniques are then read through the same batched lookup as any other.
TECHNIQUE_PAGE = Query(
    "technique_page",
    f"""
MATCH (t:Technique)
WHERE ($include_deprecated OR ({CURRENT}))
  AND {ON_PLATFORM}
  AND ($tactic IS NULL OR EXISTS {{
        MATCH (t)-[:IN_TACTIC]->(ta:Tactic)
        WHERE ta.id = toUpper($tactic) OR ta.shortname = toLower($tactic)
           OR toLower(ta.name) = toLower($tactic) }})
  AND ($search IS NULL OR toLower(t.id) STARTS WITH toLower($search)
       OR toLower(t.name) CONTAINS toLower($search))
WITH t
WHERE ($covered IS NULL AND $vendor IS NULL) OR
      EXISTS {{
        MATCH (t)<-[:DETECTS]-(r:Rule)
        WHERE NOT r.deprecated AND ($vendor IS NULL OR r.vendor = $vendor) }}
      = coalesce($covered, true)
WITH t ORDER BY t.id
WITH collect(t.id) AS ids
RETURN size(ids) AS total, ids[$skip..$skip + $limit] AS ids
""",
)

#: Every platform some technique names, as ATT&CK spells it.
PLATFORMS = Query(
    "platforms",
    """
MATCH (t:Technique)
UNWIND coalesce(t.platforms, []) AS platform
RETURN DISTINCT platform
ORDER BY platform
""",
)

TACTICS = Query(
    "tactics",
    """
MATCH (ta:Tactic)
RETURN ta {.id, .name, .shortname, .description, .url, .order} AS tactic
ORDER BY ta.order, ta.id
""",
)

TACTIC_TECHNIQUES = Query(
    "tactic_techniques",
    f"""
UNWIND $ids AS id
MATCH (ta:Tactic {{id: id}})
OPTIONAL MATCH (ta)<-[:IN_TACTIC]-(t:Technique)
WHERE {CURRENT}
WITH id, t ORDER BY t.id
RETURN id, collect(t.id) AS techniques
""",
)
