"""The per-request context: the request's query runner and its DataLoaders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import strawberry

from api.loaders import Loaders
from graph.queries.runner import GraphAccess, RequestRunner


@dataclass(slots=True)
class Context:
    """What every resolver reaches through `info.context`."""

    runner: RequestRunner
    loaders: Loaders
    request: Any = None
    response: Any = None


def build_context(access: GraphAccess, request: Any = None, response: Any = None) -> Context:
    """A fresh context: new counters and loaders, so nothing leaks between requests."""
    runner = RequestRunner(access)
    return Context(runner=runner, loaders=Loaders(runner), request=request, response=response)


Info = strawberry.Info[Context, None]


F = TypeVar("F", bound=Callable[..., Any])


def resolver(description: str | None = None) -> Callable[[F], F]:
    """`strawberry.field(description=...)` as a typed decorator.

    Strawberry types the bare decorator but not the one taking arguments (it returns Any), which
    strict mypy rejects; the behaviour is strawberry's own.
    """
    return cast(Callable[[F], F], strawberry.field(description=description))
