"""Checks of arguments several resolvers share."""

from api.errors import BadArgument
from loaders.records import OPERATORS


def operator_argument(value: str | None) -> str | None:
    """The operator trimmed and lower-cased, None when not given; one that no check can have is
    BAD_ARGUMENT naming the operators, rather than an empty answer."""
    chosen = (value or "").strip().lower() or None
    if chosen is not None and chosen not in OPERATORS:
        raise BadArgument(
            f"unknown operator {value!r}; operators are {', '.join(sorted(OPERATORS))}"
        )
    return chosen
