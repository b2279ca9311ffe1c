"""Fixtures of the HTTP tests: a real API server (a `covgraph serve` subprocess)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from http_api import running_api


@pytest.fixture(scope="session")
def api_url(neo4j_driver: object) -> Iterator[str]:
    """An API server over the test Neo4j with the result cache off (tests rewrite the graph)."""
    with running_api({"COVGRAPH_API_CACHE": "0"}) as url:
        yield url
