"""Objects shaped from cached rows are shared within a graph version and dropped with it."""

from __future__ import annotations

import asyncio
from typing import Any

from graph.queries.runner import GraphAccess, RequestRunner
from graph.settings import Neo4jSettings


def _access(**kwargs: Any) -> GraphAccess:
    # Nothing here contacts Neo4j: the driver is only made on a read.
    settings = Neo4jSettings(
        uri="bolt://127.0.0.1:1", user=None, password=None, database=None, external=True
    )
    return GraphAccess(settings, **kwargs)


def _builder(log: list[str], name: str) -> Any:
    def build() -> dict[str, str]:
        log.append(name)
        return {"name": name}

    return build


def test_one_object_per_key_and_version() -> None:
    access, built = _access(), []
    first = access.memo("v1", ("rule", "a"), _builder(built, "a"))
    assert access.memo("v1", ("rule", "a"), _builder(built, "again")) is first
    assert access.memo("v1", ("rule", "b"), _builder(built, "b"))["name"] == "b"
    assert built == ["a", "b"]
    # A new graph version forgets every object of the old one.
    assert access.memo("v2", ("rule", "a"), _builder(built, "a2"))["name"] == "a2"
    assert built == ["a", "b", "a2"]


def test_the_least_recently_used_object_goes_first() -> None:
    access, built = _access(object_cache_size=2), []
    access.memo("v1", "a", _builder(built, "a"))
    access.memo("v1", "b", _builder(built, "b"))
    access.memo("v1", "a", _builder(built, "a-again"))  # a is now the most recent
    access.memo("v1", "c", _builder(built, "c"))  # evicts b
    access.memo("v1", "a", _builder(built, "a-again"))
    access.memo("v1", "b", _builder(built, "b2"))
    assert built == ["a", "b", "c", "b2"]


def test_a_request_shares_objects_only_once_it_knows_the_version() -> None:
    async def scenario(cache_enabled: bool) -> list[str]:
        access, built = _access(cache_enabled=cache_enabled), []

        async def version() -> str:
            return "v1"

        for _ in range(2):
            runner = RequestRunner(access)
            runner.memo("k", _builder(built, "before the version is read"))
            runner._generation = asyncio.ensure_future(version())
            await runner._generation
            runner.memo("k", _builder(built, "shared"))
        return built

    assert asyncio.run(scenario(True)) == [
        "before the version is read",
        "shared",
        "before the version is read",
    ]
    assert asyncio.run(scenario(False)) == ["before the version is read", "shared"] * 2


def test_each_reads_only_the_keys_no_request_of_the_version_read() -> None:
    async def scenario(cache_enabled: bool) -> list[list[str]]:
        access, asked = _access(cache_enabled=cache_enabled), []

        async def version() -> str:
            return "v1"

        async def read(keys: list[str]) -> list[str]:
            asked.append(list(keys))
            return [key.upper() for key in keys]

        for keys in (["a", "b"], ["b", "c", "c", "a"], ["a"]):
            runner = RequestRunner(access)
            runner._generation = asyncio.ensure_future(version())
            assert await runner.each("letters", keys, read) == [k.upper() for k in keys]
        return asked

    # Duplicates are read once; a key read by an earlier request is not read again; a
    # request whose every key is known reads nothing.
    assert asyncio.run(scenario(True)) == [["a", "b"], ["c"]]
    assert asyncio.run(scenario(False)) == [["a", "b"], ["b", "c", "c", "a"], ["a"]]
