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
