"""Query limits and error codes, checked on the schema alone (they fail before any resolver)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from api.errors import BadArgument, BadCursor
from api.pagination import MAX_FIRST, capped, decode_cursor, encode_cursor
from api.schema import MAX_ALIASES, MAX_DEPTH, MAX_TOKENS, build_schema


def _errors(query: str) -> list[dict[str, Any]]:
    result = asyncio.run(build_schema().execute(query))
    assert result.errors, "the query should have been refused"
    return [e.formatted for e in result.errors]


def test_a_query_deeper_than_the_limit_is_refused() -> None:
    nested = "id"
    for _ in range(MAX_DEPTH):
        nested = f"parent {{ {nested} }}"
    errors = _errors(f'{{ technique(id: "T1546.003") {{ {nested} }} }}')
    assert errors[0]["message"].endswith(
        f"exceeds maximum operation depth of {MAX_DEPTH} (the root field is 1)"
    )
    assert errors[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def test_too_many_aliases_are_refused() -> None:
    aliases = " ".join(f"a{i}: catalog {{ ruleCount }}" for i in range(MAX_ALIASES + 1))
    errors = _errors(f"{{ {aliases} }}")
    assert "aliases found" in errors[0]["message"]
    assert errors[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


def test_too_many_tokens_are_refused() -> None:
    fields = " ".join(["ruleCount"] * (MAX_TOKENS + 1))
    errors = _errors(f"{{ catalog {{ {fields} }} }}")
    assert "token" in errors[0]["message"].lower()
    assert errors[0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"


def test_unknown_fields_and_syntax_errors_have_codes() -> None:
    assert _errors("{ nope }")[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert _errors("{ catalog { ")[0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"


def test_cursors_round_trip_and_forged_ones_are_refused() -> None:
    assert decode_cursor(encode_cursor(0)) == 0
    assert decode_cursor(encode_cursor(4321)) == 4321
    for forged in ("", "abc", "b2Zmc2V0Oi0x", encode_cursor(0)[:-2], "b3RoZXI6MQ=="):
        with pytest.raises(BadCursor):
            decode_cursor(forged)


def test_first_is_capped_and_negative_first_refused() -> None:
    assert capped(None, 20) == 20
    assert capped(10_000) == MAX_FIRST
    with pytest.raises(BadArgument):
        capped(-1)


def test_a_document_is_parsed_once_and_limits_still_apply() -> None:
    from api.schema import _parsed

    schema = build_schema()
    query = "query ParsedOnce { __typename }"
    before = _parsed.cache_info()
    for _ in range(3):
        result = asyncio.run(schema.execute(query))
        assert result.errors is None
        assert result.data == {"__typename": "Query"}
    after = _parsed.cache_info()
    assert (after.misses - before.misses, after.hits - before.hits) == (1, 2)
    # A refused document is never stored: it is refused, with its code, every time.
    fields = " ".join(["ruleCount"] * (MAX_TOKENS + 1))
    for _ in range(2):
        errors = _errors(f"{{ catalog {{ {fields} }} }}")
        assert errors[0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert _parsed.cache_info().currsize == after.currsize
