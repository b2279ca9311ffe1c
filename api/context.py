"""The per-request context: the request's query runner and its DataLoaders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import strawberry

from api.errors import ResultTooLarge
from api.loaders import Loaders
from graph.queries.runner import GraphAccess, RequestRunner

#: The most list items one answer may hold (COVGRAPH_API_MAX_ITEMS). GraphQL completes about
#: 10,000 items a second here, so this bounds an answer at a few seconds of one worker; a page
#: of 50 techniques with their rules and the rules' techniques holds about 12,000.
MAX_ITEMS = 25_000


@dataclass(slots=True)
class Context:
    """What every resolver reaches through `info.context`."""

    runner: RequestRunner
    loaders: Loaders
    request: Any = None
    response: Any = None
    #: List items (rules, checks, events, techniques, field aliases) resolved so far. The cost
    #: estimate (api.cost) uses averages, and one technique has 30 times the average number of
    #: rules: past `max_items` the answer is cut short rather than take the worker for seconds.
    items: int = 0
    max_items: int = MAX_ITEMS

    def spend(self, count: int) -> None:
        """Count `count` more list items; ResultTooLarge once the answer is past the budget."""
        self.items += count
        if self.items > self.max_items:
            raise ResultTooLarge(self.max_items)


def build_context(
    access: GraphAccess, request: Any = None, response: Any = None, max_items: int = MAX_ITEMS
) -> Context:
    """A fresh context: new counters and loaders, so nothing leaks between requests."""
    runner = RequestRunner(access)
    return Context(
        runner=runner,
        loaders=Loaders(runner),
        request=request,
        response=response,
        max_items=max_items,
    )


Info = strawberry.Info[Context, None]


F = TypeVar("F", bound=Callable[..., Any])


def resolver(description: str | None = None) -> Callable[[F], F]:
    """`strawberry.field(description=...)` as a typed decorator.

    Strawberry types the bare decorator but not the one taking arguments (it returns Any), which
    strict mypy rejects; the behaviour is strawberry's own.
    """
    return cast(Callable[[F], F], strawberry.field(description=description))
