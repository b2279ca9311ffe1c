"""GraphQL object types, one module per family; each maps onto rows of a named query."""
