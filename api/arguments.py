"""Checks of arguments several resolvers share."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import strawberry

from api.context import Info
from api.errors import BadArgument, shown
from loaders.records import OPERATORS, value_key


def operator_argument(value: str | None) -> str | None:
    """The operator trimmed and lower-cased, None when not given; one that no check can have is
    BAD_ARGUMENT naming the operators, rather than an empty answer."""
    chosen = (value or "").strip().lower() or None
    if chosen is not None and chosen not in OPERATORS:
        raise BadArgument(
            f"unknown operator {shown(value)}; operators are {', '.join(sorted(OPERATORS))}"
        )
    return chosen


T = TypeVar("T")

#: Most event ids `detectableWith` takes, and technique ids `indicatorOverlap` takes.
MAX_IDS = 500
#: The longest `techniques(search:)` text: a name or a few words, well inside Lucene's limits.
MAX_TECHNIQUE_SEARCH = 200
#: Fewest characters `indicators(search:)` takes: one matches most of the catalog's values.
MIN_SEARCH = 2


def trimmed(value: str | None) -> str | None:
    """Null for a missing (unset or null) or blank filter, else the trimmed text."""
    if not value:
        return None
    return value.strip() or None


def lowered(value: str | None) -> str | None:
    """The text lower-cased; None stays None."""
    return value.lower() if value is not None else None


def given(value: T | None) -> T | None:
    """None for an argument left out (UNSET) or null."""
    return None if value is strawberry.UNSET else value


def search_text(value: str) -> str:
    """Text searched for in checked values: trimmed, lower-cased, at least MIN_SEARCH long."""
    text = value.strip().lower()
    if len(text) < MIN_SEARCH:
        raise BadArgument(
            f"a value search needs at least {MIN_SEARCH} characters, got {shown(value)}"
        )
    return text


def technique_argument(value: str) -> str:
    """A technique id as the graph writes it: trimmed, upper case (t1059.001 is T1059.001)."""
    return value.strip().upper()


def id_list(values: list[str], name: str, normalise: Callable[[str], str] = str.strip) -> list[str]:
    """The ids given, normalised, blanks and repeats left out; more than MAX_IDS is
    BAD_ARGUMENT naming the argument."""
    cleaned = list(dict.fromkeys(normalise(v) for v in values if v.strip()))
    if len(cleaned) > MAX_IDS:
        raise BadArgument(f"{name} takes at most {MAX_IDS} ids, got {len(cleaned)}")
    return cleaned


async def indicator_key(info: Info, field: str, operator: str, value: str) -> str | None:
    """The Value key of (field, operator, value) as given, else with the value lower-cased; None
    when no rule checks either."""
    keys = list(dict.fromkeys([value_key(field, operator, value),
                               value_key(field, operator, value.lower())]))  # fmt: skip
    known = await info.context.loaders.values_exist.load_many(keys)
    return next((k for k, found in zip(keys, known, strict=True) if found), None)
