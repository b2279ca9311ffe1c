"""Helpers of the HTTP tests: `covgraph serve` on a free port, and GraphQL over httpx."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from api_process import serve_api

REPO = Path(__file__).resolve().parents[2]


#: `covgraph serve` in a subprocess on a free port: yields its base URL, stops it after.
running_api = serve_api


def gql(
    url: str, query: str, variables: dict[str, Any] | None = None, timeout: float = 60
) -> tuple[int, dict[str, Any]]:
    """POST a GraphQL query; returns (HTTP status, decoded body)."""
    response = httpx.post(
        f"{url}/graphql", json={"query": query, "variables": variables or {}}, timeout=timeout
    )
    return response.status_code, response.json()


def data(url: str, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
    """The data of a query that must succeed."""
    status, body = gql(url, query, variables)
    assert status == 200, body
    assert "errors" not in body, body["errors"]
    result: dict[str, Any] = body["data"]
    return result
