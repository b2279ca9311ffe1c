"""What every Elastic query-language parser returns: predicates, skipped constructs, indices."""

from __future__ import annotations

from dataclasses import dataclass, field

from lark import Lark, Token, Tree
from lark.exceptions import LarkError, UnexpectedInput

from covgraph.errors import Location, ParseError
from loaders.fields import elastic_check
from loaders.predicates import clean_field, make_predicate
from loaders.records import Predicate


@dataclass(slots=True)
class ParsedQuery:
    """The predicates read from one query, and what could not be turned into predicates."""

    predicates: list[Predicate] = field(default_factory=list)
    #: Constructs seen but not turned into predicates (``length() comparison``, ...).
    unsupported: list[str] = field(default_factory=list)
    #: Index patterns the query itself names (ES|QL ``from``).
    indices: list[str] = field(default_factory=list)
    #: The predicates of each part that matches events of its own: each step of an EQL
    #: sequence or sample, each branch of a top-level ``or``. Empty for a query of one part.
    #: The rule's events are read per part, so that one step's event type or code is not
    #: taken for another's.
    parts: list[list[Predicate]] = field(default_factory=list)
    #: The parts were read from ``predicates[:parts_end]``; predicates added after them (the
    #: rule's filters) apply to every part.
    parts_end: int = 0

    def add(
        self,
        field_name: str | None,
        operator: str,
        value: object,
        *,
        negated: bool,
        case_insensitive: bool,
        raw_value: str | None = None,
    ) -> None:
        """Add one canonical predicate; the vendor field is the name as written."""
        canonical = field_name
        if field_name and operator == "eq":
            written = value
            canonical, value = elastic_check(clean_field(field_name), value)
            if raw_value is None and value is not written:
                raw_value = str(written)
        elif field_name:
            canonical = elastic_check(clean_field(field_name), None)[0]
        self.predicates.append(
            make_predicate(
                canonical,
                operator,
                value,
                negated=negated,
                vendor_field=field_name,
                raw_value=raw_value,
                case_insensitive=case_insensitive,
            )
        )

    def skip(self, construct: str) -> None:
        """Record a construct that yields no predicate, once."""
        if construct not in self.unsupported:
            self.unsupported.append(construct)

    def extend(self, other: ParsedQuery) -> None:
        """Merge another query's results (a KQL string embedded in ES|QL)."""
        self.predicates.extend(other.predicates)
        for construct in other.unsupported:
            self.skip(construct)
        self.indices.extend(other.indices)


def pattern_operator(value: str) -> str:
    """``wildcard`` when a pattern holds ``*`` or ``?``, else ``eq``.

    Elastic's wildcard patterns (EQL ``:`` and ``like``, KQL values, ES|QL ``like``) have no
    escape for a literal backslash, so a backslash before ``*`` does not escape it: the plain
    check is right here, unlike `loaders.predicates.has_wildcard` for Sigma's escaped values.
    """
    return "wildcard" if "*" in value or "?" in value else "eq"


def query_error(reason: str, line: int | None, column: int | None) -> ParseError:
    """A ParseError whose location is a position inside the query text (1-based)."""
    return ParseError(reason, Location("<query>", line, column))


def parse_tree(parser: Lark, query: str, language: str) -> Tree[Token]:
    """The lark tree of a query; a syntax error becomes a ParseError at its position."""
    try:
        return parser.parse(query)
    except UnexpectedInput as exc:
        reason = str(exc).strip().splitlines()[0]
        raise query_error(f"{language} syntax error: {reason}", exc.line, exc.column) from None
    except LarkError as exc:
        raise query_error(f"{language} syntax error: {exc}", None, None) from None


def unescape_pattern(value: str) -> str:
    """A pattern whose ``\\`` escapes the next character (ES|QL ``like``, Elasticsearch
    ``wildcard``) in canonical form: escapes dropped, a literal ``*`` or ``?`` kept as ``?``.

    Canonical patterns carry no escapes, so an escaped wildcard character can only be kept as
    the one-character wildcard: a slight widening.
    """
    out: list[str] = []
    i = 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value):
            nxt = value[i + 1]
            out.append("?" if nxt in "*?" else nxt)
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)
