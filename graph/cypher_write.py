"""Every Cypher statement the writer runs, named. All take parameters; none is built from input."""

# --- ATT&CK -------------------------------------------------------------------------------

MERGE_NODES = {
    # label -> statement; rows are {key, props}: props replace the node's properties.
    "Tactic": "UNWIND $rows AS row MERGE (n:Tactic {id: row.key}) SET n = row.props",
    "Technique": "UNWIND $rows AS row MERGE (n:Technique {id: row.key}) SET n = row.props",
    "DataSource": "UNWIND $rows AS row MERGE (n:DataSource {id: row.key}) SET n = row.props",
    "DataComponent": (
        "UNWIND $rows AS row MERGE (n:DataComponent {id: row.key}) SET n = row.props"
    ),
    "DetectionStrategy": (
        "UNWIND $rows AS row MERGE (n:DetectionStrategy {id: row.key}) SET n = row.props"
    ),
    "Analytic": "UNWIND $rows AS row MERGE (n:Analytic {id: row.key}) SET n = row.props",
}

DELETE_STALE_NODES = {
    label: f"MATCH (n:{label}) WHERE NOT n.id IN $keys DETACH DELETE n" for label in MERGE_NODES
}

DELETE_ATTACK_RELATIONSHIPS = """
MATCH (a)-[r:IN_TACTIC|SUBTECHNIQUE_OF|PART_OF|USES]->()
DELETE r
"""

DELETE_ATTACK_DETECTS = """
MATCH (a)-[r:DETECTS|OBSERVES]->()
WHERE a:DataComponent OR a:DetectionStrategy OR a:Analytic
DELETE r
"""

# Link name -> (from label, relationship type, to label). Built from this fixed table only;
# the pairs ({a, b}: the two nodes' ids) are parameters.
_ATTACK_LINK_SHAPES = {
    "IN_TACTIC": ("Technique", "IN_TACTIC", "Tactic"),
    "SUBTECHNIQUE_OF": ("Technique", "SUBTECHNIQUE_OF", "Technique"),
    "PART_OF": ("DataComponent", "PART_OF", "DataSource"),
    "COMPONENT_DETECTS": ("DataComponent", "DETECTS", "Technique"),
    "STRATEGY_DETECTS": ("DetectionStrategy", "DETECTS", "Technique"),
    "USES": ("DetectionStrategy", "USES", "Analytic"),
    "ANALYTIC_OBSERVES": ("Analytic", "OBSERVES", "DataComponent"),
}

#: An analytic reads a catalog event; `log_sources` are its references naming the event.
ANALYTIC_EVENTS = """
UNWIND $pairs AS p
MATCH (a:Analytic {id: p.a}) MATCH (e:Event {id: p.b})
CREATE (a)-[:OBSERVES {log_sources: p.log_sources}]->(e)
"""

ATTACK_LINKS = {
    name: f"UNWIND $pairs AS p\n"
    f"MATCH (a:{source} {{id: p.a}}) MATCH (b:{target} {{id: p.b}})\n"
    f"CREATE (a)-[:{rel}]->(b)"
    for name, (source, rel, target) in _ATTACK_LINK_SHAPES.items()
}

# --- sources ------------------------------------------------------------------------------

MERGE_SOURCE = "MERGE (s:Source {name: $name}) SET s = $props"

# --- rules --------------------------------------------------------------------------------

DELETE_RULES_NOT_IN = """
MATCH (r:Rule)-[:FROM]->(:Source {name: $source})
WHERE NOT r.uid IN $uids
DETACH DELETE r
"""

DELETE_RULE_RELATIONSHIPS = """
UNWIND $uids AS uid
MATCH (r:Rule {uid: uid})-[old]->()
DELETE old
"""

MERGE_EVENTS = "UNWIND $rows AS row MERGE (e:Event {id: row.key}) SET e += row.props"

MERGE_STORIES = "UNWIND $rows AS row MERGE (s:Story {id: row.key}) SET s = row.props"

MERGE_FIELDS = "UNWIND $names AS name MERGE (:Field {name: name})"

MERGE_VALUES = """
UNWIND $rows AS row
MERGE (v:Value {key: row.key})
ON CREATE SET v.field = row.field, v.operator = row.operator, v.value = row.value
WITH v, row
WHERE NOT (v)-[:OF_FIELD]->()
MATCH (f:Field {name: row.field})
CREATE (v)-[:OF_FIELD]->(f)
"""

# One row per rule: its properties and every relationship it has, created in one pass so that
# each rule is looked up once.
MERGE_RULES = """
UNWIND $rows AS row
MERGE (r:Rule {uid: row.uid})
SET r = row.props
WITH r, row
MATCH (src:Source {name: $source})
CREATE (r)-[:FROM]->(src)
WITH r, row
CALL (r, row) {
  UNWIND row.techniques AS tid
  MATCH (t:Technique {id: tid})
  CREATE (r)-[:DETECTS]->(t)
  RETURN count(*) AS detects
}
CALL (r, row) {
  UNWIND row.events AS eid
  MATCH (e:Event {id: eid})
  CREATE (r)-[:OBSERVES]->(e)
  RETURN count(*) AS observes
}
CALL (r, row) {
  UNWIND row.stories AS sid
  MATCH (s:Story {id: sid})
  CREATE (r)-[:IN_STORY]->(s)
  RETURN count(*) AS stories
}
CALL (r, row) {
  UNWIND row.fields AS f
  MATCH (fld:Field {name: f.name})
  CREATE (r)-[:FILTERS_ON {operators: f.operators}]->(fld)
  RETURN count(*) AS fields
}
CALL (r, row) {
  UNWIND row.checks AS c
  MATCH (v:Value {key: c.key})
  CREATE (r)-[:CHECKS {negated: c.negated, vendor_field: c.vendor_field,
                       raw_value: c.raw_value, case_sensitive: c.case_sensitive}]->(v)
  RETURN count(*) AS checks
}
RETURN sum(detects) AS detects, sum(checks) AS checks
"""

DELETE_ORPHAN_VALUES = """
MATCH (v:Value) WHERE NOT ()-[:CHECKS]->(v)
DETACH DELETE v
"""

DELETE_ORPHAN_FIELDS = """
MATCH (f:Field) WHERE NOT ()-[:FILTERS_ON]->(f) AND NOT ()-[:OF_FIELD]->(f)
DELETE f
"""

DELETE_ORPHAN_EVENTS = """
MATCH (e:Event) WHERE NOT ()-[:OBSERVES]->(e)
DELETE e
"""

DELETE_STALE_STORIES = """
MATCH (s:Story {vendor: $vendor}) WHERE NOT s.id IN $keys
DETACH DELETE s
"""

RULE_TECHNIQUE_IDS = "MATCH (t:Technique) RETURN collect(t.id) AS ids"
