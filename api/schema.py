"""The Strawberry schema with its limits, error codes and per-request query counts."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any

import strawberry
from graphql import DocumentNode, ExecutionResult, OperationDefinitionNode, parse
from graphql.error import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.types.execution import ExecutionContext

from api.context import Context
from api.cost import MAX_COST, CostLimit
from api.errors import CodedErrors, OperationNotNamed, log_errors
from api.query import Query

#: Deepest selection allowed, counting the root field as level 1: the technique page of
#: docs/api.md needs 6 (technique > authoringGuide > fields > field > aliases > vendor), so 10
#: leaves room without allowing runaway nesting.
MAX_DEPTH = 10
MAX_ALIASES = 30
MAX_TOKENS = 2000
# The cost budget (objects a document may return): api.cost.MAX_COST, or COVGRAPH_API_MAX_COST.


class QueryCounts(SchemaExtension):
    """Adds `extensions.covgraph`: statements asked for and sent to Neo4j, list items resolved."""

    def get_results(self) -> dict[str, Any]:
        context = self.execution_context.context
        if not isinstance(context, Context):
            return {}
        runner = context.runner
        return {
            "covgraph": {
                "queries": runner.queries,
                "neo4j": runner.executed,
                "items": context.items,
            }
        }


@lru_cache(maxsize=256)
def _parsed(query: str, max_tokens: int | None) -> DocumentNode:
    return parse(query, max_tokens=max_tokens)


class ParsedDocuments(SchemaExtension):
    """Parses each distinct document once (LRU of 256) and shares the parsed tree.

    Strawberry's ParserCache parses inside its hook, so a syntax error there skips the other
    extensions' exit hooks and the error loses its code. Here a document that does not parse
    is left alone: strawberry parses it again and reports the error its usual way.
    """

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        options = context.parse_options
        if context.query and set(options) <= {"max_tokens"}:
            with contextlib.suppress(GraphQLError):
                context.graphql_document = _parsed(context.query, options.get("max_tokens"))
        yield


_UNKNOWN = object()


class OneOperation(SchemaExtension):
    """A document of several operations must name the one to run (`operationName`), as the
    GraphQL spec's GetOperation requires; graphql-core would run the first one silently."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        # strawberry's `operation_name` falls back to the first operation's: the one asked is
        # kept apart.
        asked = getattr(context, "_provided_operation_name", _UNKNOWN)
        if asked is _UNKNOWN:
            yield  # a strawberry without that attribute: graphql-core's own choice stands
            return
        if document is not None and context.result is None and not asked:
            operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
            if len(operations) > 1:
                refusal = OperationNotNamed(len(operations))
                context.result = ExecutionResult(
                    data=None, errors=[GraphQLError(refusal.message, original_error=refusal)]
                )
        yield


class CovgraphSchema(strawberry.Schema):
    """Logs what clients are not shown (masked errors) and nothing they are."""

    def process_errors(
        self,
        errors: Sequence[GraphQLError],
        execution_context: ExecutionContext | None = None,
    ) -> None:
        log_errors(errors)


def build_schema(max_cost: int = MAX_COST) -> strawberry.Schema:
    """The API's schema; extensions are factories so each request gets its own instances."""
    # The limits' validation rules are made once: ValidationCache keys on the rule classes, and
    # a limiter made per request would make new classes and miss the cache every time.
    limits = [
        # Strawberry counts the root field as depth 0, so its limit is one less than ours.
        *QueryDepthLimiter(max_depth=MAX_DEPTH - 1).validation_rules,
        *MaxAliasesLimiter(max_alias_count=MAX_ALIASES).validation_rules,
    ]
    return CovgraphSchema(
        query=Query,
        extensions=[
            lambda: AddValidationRules(limits),
            lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
            ParsedDocuments,
            lambda: ValidationCache(maxsize=256),
            OneOperation,
            lambda: CostLimit(max_cost),
            lambda: CodedErrors(MAX_DEPTH),
            QueryCounts,
        ],
    )


def printed_schema() -> str:
    """The schema in SDL, as checked in at the repository root (schema.graphql)."""
    return build_schema().as_str() + "\n"


if __name__ == "__main__":
    print(printed_schema(), end="")
