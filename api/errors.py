"""Errors the API reports: domain errors with a code, masking of everything else, the 503 rule.

Every error in a response carries `extensions.code`. Domain errors (an unknown technique id, a
bad cursor, a bad argument) keep their message. When Neo4j cannot be reached the message is
fixed and the code is CATALOG_UNAVAILABLE (the HTTP status is then 503). A read Neo4j stopped at
the transaction timeout is QUERY_TIMEOUT, a document over the cost budget QUERY_TOO_COSTLY, an
answer that grows past the result budget as it runs RESULT_TOO_LARGE (reported once).
Anything else, driver errors included, is masked as "Unexpected error." with
INTERNAL_SERVER_ERROR and logged.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from graphql.error import GraphQLError
from strawberry.extensions import MaskErrors

from covgraph.errors import CatalogUnavailable, CovgraphError
from graph.queries.runner import DatabaseNotFound, QueryTimedOut, UnencodableText

log = logging.getLogger("covgraph.api")

CATALOG_UNAVAILABLE = "CATALOG_UNAVAILABLE"
UNKNOWN_TECHNIQUE = "UNKNOWN_TECHNIQUE"
BAD_CURSOR = "BAD_CURSOR"
BAD_ARGUMENT = "BAD_ARGUMENT"
INTERNAL = "INTERNAL_SERVER_ERROR"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"
PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"
QUERY_TIMEOUT = "QUERY_TIMEOUT"
RESULT_TOO_LARGE = "RESULT_TOO_LARGE"

UNAVAILABLE_MESSAGE = "The coverage catalog (Neo4j) is unavailable; try again shortly."


def shown(value: object, limit: int = 80) -> str:
    """A client's value as an error message quotes it: repr, cut after `limit` characters (a
    100 kB argument is not sent back whole)."""
    text = str(value)
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}… ({len(text):,} characters)"


class ApiError(CovgraphError):
    """A request the API understood but cannot answer as asked; `code` names why."""

    code = BAD_ARGUMENT

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class OperationNotNamed(ApiError):
    """A document of several operations with no `operationName` to pick one."""

    code = VALIDATION_FAILED

    def __init__(self, count: int) -> None:
        super().__init__(
            f"the document holds {count} operations: name the one to run with operationName"
        )


class UnknownTechnique(ApiError):
    """A technique id that is not in the loaded ATT&CK catalog."""

    code = UNKNOWN_TECHNIQUE

    def __init__(self, ids: Sequence[str]) -> None:
        listed = ", ".join(i if len(i) <= 40 else shown(i, 40) for i in ids[:20])
        if len(ids) > 20:
            listed += f" and {len(ids) - 20} more"
        super().__init__(f"unknown technique id{'s' if len(ids) > 1 else ''}: {listed}")
        self.ids = tuple(ids)


class BadCursor(ApiError):
    """An `after` cursor this API did not hand out."""

    code = BAD_CURSOR


class BadArgument(ApiError):
    """An argument out of range or inconsistent with the others."""

    code = BAD_ARGUMENT


class QueryTooCostly(ApiError):
    """A document whose estimated result size is over the budget; it is not run."""

    code = QUERY_TOO_COSTLY

    def __init__(self, estimate: int, budget: int) -> None:
        super().__init__(
            f"query too costly: it may return about {estimate:,} objects, over the budget of "
            f"{budget:,}; ask for less (smaller `first`, fewer nested lists or aliases)"
        )
        self.estimate = estimate
        self.budget = budget


class ResultTooLarge(ApiError):
    """An answer that grew past the result budget while it ran (the estimate was too low)."""

    code = RESULT_TOO_LARGE

    def __init__(self, budget: int) -> None:
        super().__init__(
            f"result too large: the answer grew past {budget:,} list items (rules, checks, "
            "events...) and was cut short; ask for less (fewer techniques, nested lists or "
            "aliases, or no includeSubtechniques)"
        )
        self.budget = budget


def missing_database_message(database: str | None) -> str:
    """CATALOG_UNAVAILABLE's message when Neo4j has no database of the configured name."""
    name = repr(database) if database else "(the server's default)"
    return (
        f"The coverage catalog's database {name} does not exist on the Neo4j server; "
        "check NEO4J_DATABASE (the API's configuration, not the query)."
    )


def timeout_message(seconds: float | None) -> str:
    """The fixed message of QUERY_TIMEOUT (None: the server's own timeout stopped it)."""
    limit = f"{seconds:g} s" if seconds is not None else "its transaction timeout"
    return (
        f"The query ran longer than {limit} in the catalog (Neo4j) and was stopped; "
        "ask for less (smaller `first`, fewer nested lists or aliases)."
    )


def _code_of(error: GraphQLError) -> str:
    original = error.original_error
    if isinstance(original, ApiError):
        return original.code
    if isinstance(original, CatalogUnavailable):
        return CATALOG_UNAVAILABLE
    if isinstance(original, QueryTimedOut):
        return QUERY_TIMEOUT
    if isinstance(original, UnencodableText):
        return BAD_ARGUMENT
    if isinstance(original, GraphQLError):
        # graphql-core's own input coercion (a variable's value not of its type): the client's.
        return VALIDATION_FAILED
    if original is None:
        return PARSE_FAILED if error.message.startswith("Syntax Error") else VALIDATION_FAILED
    return INTERNAL


def _is_unexpected(error: GraphQLError) -> bool:
    return _code_of(error) == INTERNAL


#: strawberry's depth limiter counts the root field as 0, one less than covgraph says.
_DEPTH_MESSAGE = re.compile(r"exceeds maximum operation depth of \d+$")


class CodedErrors(MaskErrors):
    """MaskErrors that also gives every error its `extensions.code`; `max_depth` is the depth
    limit as covgraph counts it (the root field as 1), for the limiter's message."""

    def __init__(self, max_depth: int | None = None) -> None:
        super().__init__(should_mask_error=_is_unexpected, error_message="Unexpected error.")
        self.max_depth = max_depth

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        coded = [self._coded(error) for error in errors]
        # Every list resolved after the result budget ran out raises it again: say it once.
        too_large = [e for e in coded if (e.extensions or {}).get("code") == RESULT_TOO_LARGE]
        return [e for e in coded if e not in too_large[1:]]

    def _coded(self, error: GraphQLError) -> GraphQLError:
        code = _code_of(error)
        message = error.message
        if code == INTERNAL:
            message = self.error_message
        elif code == CATALOG_UNAVAILABLE:
            message = UNAVAILABLE_MESSAGE
        elif self.max_depth is not None and _DEPTH_MESSAGE.search(message):
            message = _DEPTH_MESSAGE.sub(
                f"exceeds maximum operation depth of {self.max_depth} (the root field is 1)",
                message,
            )
        extensions: dict[str, Any] = dict(error.extensions or {})
        extensions["code"] = code
        original = error.original_error
        if isinstance(original, DatabaseNotFound):
            message = missing_database_message(original.database)
        elif isinstance(original, QueryTimedOut):
            message = timeout_message(original.timeout)
            if original.timeout is not None:
                extensions["timeoutSeconds"] = original.timeout
        elif isinstance(original, QueryTooCostly):
            extensions["estimate"] = original.estimate
            extensions["budget"] = original.budget
        return GraphQLError(
            message=message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=None,
            extensions=extensions,
        )


def log_errors(errors: Sequence[GraphQLError]) -> None:
    """Log what a client cannot see: unexpected errors with their trace, outages in one line."""
    for error in errors:
        original = error.original_error
        if isinstance(original, CatalogUnavailable | QueryTimedOut):
            log.warning("%s", original)
        elif _is_unexpected(error):
            log.error("unexpected error at %s", error.path, exc_info=original)


def is_unavailable(response: Mapping[str, Any]) -> bool:
    """Whether a GraphQL response body reports the catalog unavailable."""
    errors = response.get("errors") or ()
    return any(
        (e.get("extensions") or {}).get("code") == CATALOG_UNAVAILABLE
        for e in errors
        if isinstance(e, Mapping)
    )
