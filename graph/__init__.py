"""Neo4j access: settings, driver, schema, the writer, the local server and every Cypher query."""
