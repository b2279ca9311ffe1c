"""Parsers: source files in, typed records out. Nothing here talks to Neo4j."""
