"""Techniques and tactics: lookups by id, the filtered technique list, tactic membership."""

from __future__ import annotations

import re

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

#: The filters `techniques` takes besides search, on `t`; the page query and the search share it.
TECHNIQUE_FILTERS = f"""($include_deprecated OR ({CURRENT}))
  AND {ON_PLATFORM}
  AND ($tactic IS NULL OR EXISTS {{
        MATCH (t)-[:IN_TACTIC]->(ta:Tactic)
        WHERE ta.id = toUpper($tactic) OR ta.shortname = toLower($tactic)
           OR toLower(ta.name) = toLower($tactic) }})"""

#: Covered (or not) by a current rule, of $vendor when given; both null means any technique.
#: And no current rule of a vendor in $uncovered_by (empty: no such condition): with $vendor or
#: $covered, the techniques other catalogs cover and those vendors miss.
COVERED_FILTER = """(($covered IS NULL AND $vendor IS NULL) OR
      EXISTS {
        MATCH (t)<-[:DETECTS]-(r:Rule)
        WHERE NOT r.deprecated AND ($vendor IS NULL OR r.vendor = $vendor) }
      = coalesce($covered, true))
  AND (size($uncovered_by) = 0 OR NOT EXISTS {
        MATCH (t)<-[:DETECTS]-(r:Rule)
        WHERE NOT r.deprecated AND r.vendor IN $uncovered_by })"""

# Ids only: the page's techniques are then read through the same batched lookup as any other.
TECHNIQUE_PAGE = Query(
    "technique_page",
    f"""
MATCH (t:Technique)
WHERE {TECHNIQUE_FILTERS}
WITH t
WHERE {COVERED_FILTER}
WITH t ORDER BY t.id
WITH collect(t.id) AS ids
RETURN size(ids) AS total, ids[$skip..$skip + $limit] AS ids
""",
)

#: A name match: every word of the search is in the name (any order, any case), or is a
#: technique id the technique's id starts with (`t1059 powershell` is T1059.001 PowerShell).
_NAME_MATCH = (
    "all(w IN $words WHERE toLower(t.name) CONTAINS w "
    "OR (w =~ 't[0-9]{4}' AND toLower(t.id) STARTS WITH w))"
)

#: `techniques(search:)`: id prefix, name or full-text (technique_text: id, name, description)
#: matches, ranked id matches first (by id), then name matches (by id), then the rest by Lucene
#: score (ties by id). With $include_deprecated, retired techniques come after the current ones
#: of the same kind of match: a revoked id typed in full is still its first hit. The order is
#: total, so offset cursors page through it without gaps.
#: $search is the lower-cased text, $words its words, $lucene `lucene_query($search)` (null when
#: the text has nothing Lucene can search for, e.g. only punctuation).
TECHNIQUE_SEARCH_PAGE = Query(
    "technique_search_page",
    f"""
CALL () {{
  MATCH (t:Technique)
  WHERE toLower(t.id) STARTS WITH $search OR {_NAME_MATCH}
  RETURN t, 0.0 AS score
  UNION
  UNWIND CASE WHEN $lucene IS NULL THEN [] ELSE [$lucene] END AS lucene
  CALL db.index.fulltext.queryNodes('technique_text', lucene) YIELD node, score
  WHERE node:Technique
  RETURN node AS t, score
}}
WITH t, max(score) AS score
WHERE {TECHNIQUE_FILTERS}
WITH t, score
WHERE {COVERED_FILTER}
WITH t, score,
     CASE WHEN toLower(t.id) STARTS WITH $search THEN 0
          WHEN {_NAME_MATCH} THEN 1
          ELSE 2 END AS rank
WITH t ORDER BY rank, CASE WHEN {CURRENT} THEN 0 ELSE 1 END,
     CASE WHEN rank = 2 THEN -score ELSE 0.0 END, t.id
WITH collect(t.id) AS ids
RETURN size(ids) AS total, ids[$skip..$skip + $limit] AS ids
""",
)

#: Characters with a meaning in Lucene's query syntax; user text escapes them with a backslash.
LUCENE_SPECIAL = frozenset('+-&|!(){}[]^"~*?:\\/')


def lucene_escape(word: str) -> str:
    """The word with every Lucene syntax character escaped, so it is searched for as text."""
    return "".join(f"\\{c}" if c in LUCENE_SPECIAL else c for c in word)


#: A word that is a technique id of four digits (`t1059`), whose sub-techniques it starts.
_TECHNIQUE_ID_WORD = re.compile(r"^t[0-9]{4}$")


def lucene_query(search: str) -> str | None:
    """A Lucene query for technique_text that needs every word of `search`; None for no word.

    Words are lower-cased (so that AND, OR and NOT are words, not operators) and escaped; the
    last one also matches as a prefix, for a search box that asks while the user types, and so
    does a technique id anywhere (`t1059 powershell`: the analyzer keeps `t1059.001` as one
    word). Words with nothing but punctuation are dropped: the analyzer would leave nothing of
    them.
    """
    words = [w for w in search.lower().split() if any(c.isalnum() for c in w)]
    if not words:
        return None
    terms = [
        f"({word} OR {word}*)"
        if word.isalnum() and (i == len(words) - 1 or _TECHNIQUE_ID_WORD.match(word))
        else lucene_escape(word)
        for i, word in enumerate(words)
    ]
    return " AND ".join(terms)


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
