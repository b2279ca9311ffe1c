"""Relay cursors (opaque offsets) and the cap on `first`."""

from __future__ import annotations

import base64
import binascii
from typing import TypeVar

from api.errors import BadArgument, BadCursor, shown

#: The most items one page or list returns; larger `first` values are lowered to it.
MAX_FIRST = 200
#: The most rule links per technique a Navigator layer carries (linksPerTechnique is lowered to
#: it): 550 techniques with 50 links each is already a 2 MB file.
MAX_LINKS = 50
_PREFIX = "offset:"
#: No list has a billion items: longer offsets are forged, and would overflow Cypher's integers.
_MAX_DIGITS = 9

T = TypeVar("T")


def encode_cursor(offset: int) -> str:
    """The opaque cursor of the item at `offset` in a list."""
    return base64.b64encode(f"{_PREFIX}{offset}".encode()).decode("ascii")


def decode_cursor(cursor: str) -> int:
    """The offset a cursor stands for; BadCursor when it is not one of ours."""
    try:
        text = base64.b64decode(cursor.encode("ascii"), validate=True).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        raise BadCursor(f"cursor {shown(cursor)} is not a cursor this API returned") from None
    number = text.removeprefix(_PREFIX)
    if not text.startswith(_PREFIX) or not number.isdigit() or len(number) > _MAX_DIGITS:
        raise BadCursor(f"cursor {shown(cursor)} is not a cursor this API returned")
    return int(number)


def capped(first: int | None, default: int = 50, name: str = "first") -> int:
    """`first` within 0..MAX_FIRST (null means the default); negative values are an error."""
    if first is None:
        first = default
    if first < 0:
        raise BadArgument(f"{name} must be zero or more, got {first}")
    return min(first, MAX_FIRST)


def non_negative(value: int, name: str) -> int:
    """An offset or count that must not be negative; BAD_ARGUMENT otherwise."""
    if value < 0:
        raise BadArgument(f"{name} must not be negative, got {value}")
    return value


def rows_needed(first: int | None, offset: int, default: int = 20) -> int:
    """How many leading rows a window of `first` after `offset` needs, rounded up to whole
    blocks of MAX_FIRST: lists read from Neo4j in blocks share one read for every window of a
    block (the default window and a count read the first block)."""
    end = non_negative(offset, "offset") + capped(first, default)
    return max(MAX_FIRST, -(-end // MAX_FIRST) * MAX_FIRST)


def window(rows: list[T], first: int | None, offset: int, default: int = 20) -> list[T]:
    """`first` rows (`default` when null, at most MAX_FIRST) after the first `offset`: how the
    lists without cursors page."""
    start = non_negative(offset, "offset")
    return rows[start : start + capped(first, default)]


def page_window(first: int | None, after: str | None, default: int = 50) -> tuple[int, int]:
    """(skip, limit) for a connection page: items after the `after` cursor, `first` of them."""
    skip = decode_cursor(after) + 1 if after else 0
    return skip, capped(first, default)
