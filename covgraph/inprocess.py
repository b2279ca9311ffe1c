"""The GraphQL API run in this process, without a server: for the CLI's `query` and `technique`.

The same schema, resolvers, limits and error codes as `covgraph serve`; the answer is the body
the HTTP API would send (`data`, `errors` with their `extensions.code`, `extensions` with the
cost and query counts).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

#: The code of the error the API answers with when Neo4j cannot be reached.
UNAVAILABLE = "CATALOG_UNAVAILABLE"


def execute(
    document: str, variables: Mapping[str, Any] | None = None, operation: str | None = None
) -> dict[str, Any]:
    """Runs one GraphQL document (its operation `operation`, when it holds several) against the
    configured Neo4j; returns the response body."""
    return asyncio.run(_execute(document, dict(variables or {}), operation))


async def _execute(
    document: str, variables: dict[str, Any], operation: str | None
) -> dict[str, Any]:
    from api.app import max_cost, max_items, query_timeout
    from api.context import build_context
    from api.schema import build_schema
    from graph.queries.runner import GraphAccess
    from graph.settings import neo4j_settings

    # One request: nothing to share with a later one, so the result cache is off. The limits
    # are the server's (COVGRAPH_API_MAX_COST, _MAX_ITEMS, _QUERY_TIMEOUT).
    access = GraphAccess(neo4j_settings(), cache_enabled=False, query_timeout=query_timeout())
    try:
        result = await build_schema(max_cost()).execute(
            document,
            variable_values=variables,
            context_value=build_context(access, max_items=max_items()),
            operation_name=operation,
        )
    finally:
        await access.close()
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [error.formatted for error in result.errors]
    if result.extensions:
        body["extensions"] = result.extensions
    return body


def error_codes(body: Mapping[str, Any]) -> list[str]:
    """The `extensions.code` of each error in a response body, in order."""
    return [
        str((error.get("extensions") or {}).get("code", "")) for error in body.get("errors") or []
    ]
