"""Fields: how many rules filter on them and the names each vendor's rules use for them."""

from __future__ import annotations

from graph.queries.runner import Query

FIELDS_EXIST = Query(
    "fields_exist",
    """
UNWIND $names AS name
MATCH (f:Field {name: name})
RETURN f.name AS name
""",
)

FIELD_RULE_COUNTS = Query(
    "field_rule_counts",
    """
UNWIND $names AS name
MATCH (f:Field {name: name})
RETURN name, COUNT { (f)<-[:FILTERS_ON]-(r:Rule) WHERE NOT r.deprecated } AS rules
""",
)

#: The field names the rules wrote (`vendor_field` on CHECKS), per vendor, deprecated rules too.
FIELD_ALIASES = Query(
    "field_aliases",
    """
UNWIND $names AS name
MATCH (f:Field {name: name})<-[:OF_FIELD]-(:Value)<-[c:CHECKS]-(r:Rule)
WHERE c.vendor_field IS NOT NULL
WITH DISTINCT name, r.vendor AS vendor, c.vendor_field AS alias
ORDER BY vendor, alias
RETURN name, collect({vendor: vendor, name: alias}) AS aliases
""",
)

#: Per field: the vendor of each current rule filtering on it and the operators it uses there.
FIELD_USAGE = Query(
    "field_usage",
    """
UNWIND $names AS name
MATCH (f:Field {name: name})<-[fo:FILTERS_ON]-(r:Rule)
WHERE NOT r.deprecated
RETURN name, collect(r.vendor) AS vendors, collect(fo.operators) AS operators
""",
)

#: Per (field, operator or null for any, polarity): the field's indicators checked by current
#: rules with that polarity, with the distinct rules of each vendor ([vendor, rules] pairs in
#: `per`), most rules first, then by operator and value; at most $limit.
FIELD_INDICATORS = Query(
    "field_indicators",
    """
UNWIND $keys AS k
MATCH (:Field {name: k.name})<-[:OF_FIELD]-(v:Value)
WHERE k.operator IS NULL OR v.operator = k.operator
MATCH (v)<-[c:CHECKS]-(r:Rule)
WHERE NOT r.deprecated AND c.negated = k.negated
WITH k, v, r.vendor AS vendor, count(DISTINCT r) AS n
WITH k, v, collect([vendor, n]) AS per, sum(n) AS total
ORDER BY total DESC, v.operator, v.value
WITH k, collect({key: v.key, field: v.field, operator: v.operator, value: v.value, per: per})
     AS rows
RETURN k.name AS name, k.operator AS operator, k.negated AS negated, rows[..$limit] AS rows,
       size(rows) AS total
""",
)

#: Canonical fields that some rule writes as $name (any case), with the vendors that do: every
#: CHECKS relationship is read (about 0.2 s on the corpus), so only for an unknown field name.
FIELDS_WRITTEN_AS = Query(
    "fields_written_as",
    """
MATCH (f:Field)<-[:OF_FIELD]-(:Value)<-[c:CHECKS]-(r:Rule)
WHERE toLower(c.vendor_field) = toLower($name)
WITH f.name AS name, collect(DISTINCT r.vendor) AS vendors
RETURN name, vendors
ORDER BY name
""",
)
