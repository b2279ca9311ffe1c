"""Field names through an SPL pipeline: renames, evals and the commands that create fields.

A check late in a pipeline names a field as the pipeline left it; covgraph wants the name the
events carry. FieldNames follows ``rename`` (and ``rename Processes.* AS *`` from
``drop_dm_object_name``), ``eval x=y``, aggregations (``values(x) AS y`` keeps x's values) and
the commands whose fields hold no log data (counts, lookups, iplocation).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from lark import Token, Tree

from loaders.spl_syntax import unescape

# Aggregations whose result is one of the values of the field they read.
_KEEPING = frozenset(
    {"values", "first", "last", "latest", "earliest", "min", "max", "list", "mode"}
)
_CALL = re.compile(r"(\w+)\(([\w.{}@:]+)\)")


@dataclass(frozen=True, slots=True)
class Condition:
    """The condition of ``eval x=if(condition, when_true, when_false)``, parsed."""

    tree: Tree[Token]
    when_true: str
    when_false: str
    offset: int


class FieldNames:
    """Which name a field had in the events, through the renames and evals of a pipeline."""

    def __init__(self) -> None:
        self.aliases: dict[str, str] = {}
        self.prefixes: list[tuple[str, str]] = []
        self.derived: set[str] = set()
        #: Fields set by ``eval x=if(condition, a, b)``: checking x for a is checking the
        #: condition, checking it for b is checking its negation.
        self.conditions: dict[str, Condition] = {}

    def reset(self) -> None:
        self.aliases.clear()
        self.prefixes.clear()
        self.derived.clear()
        self.conditions.clear()

    def copy(self) -> FieldNames:
        other = FieldNames()
        other.aliases = dict(self.aliases)
        other.prefixes = list(self.prefixes)
        other.derived = set(self.derived)
        other.conditions = dict(self.conditions)
        return other

    def resolve(self, name: str) -> str | None:
        """The events' name of a field, or None when the pipeline created it."""
        if name in self.derived:
            return None
        if name in self.aliases:
            return self.aliases[name]
        for source, target in reversed(self.prefixes):
            if name.startswith(target):
                return source + name[len(target) :]
        return name

    def rename(self, source: str, target: str) -> bool:
        """Record ``rename source AS target``; False for a wildcard pattern not understood."""
        if "*" in source or "*" in target:
            prefix_only = source.count("*") == target.count("*") == 1
            if prefix_only and source.endswith("*") and target.endswith("*"):
                self.prefixes.append((source[:-1], target[:-1]))
                return True
            return False
        original = self.resolve(source)
        self.derive_or_alias(target, original)
        return True

    def derive_or_alias(self, target: str, original: str | None) -> None:
        self.conditions.pop(target, None)
        if original is None:
            self.aliases.pop(target, None)
            self.derived.add(target)
        else:
            self.derived.discard(target)
            self.aliases[target] = original

    def create(self, name: str) -> None:
        self.derive_or_alias(name, None)

    def extract(self, name: str) -> None:
        self.aliases.pop(name, None)
        self.derived.discard(name)
        self.conditions.pop(name, None)


def read_aggregates(tokens: Sequence[Token], names: FieldNames) -> None:
    """Fields created by a stats-like command, named by ``as`` or by the aggregate call.

    ``values(x) AS y`` (and first, last, min, max...) keeps x's values: y is x under another
    name. Counts, sums and averages are new numbers, no log field.
    """
    tokens = [t.value.strip(",") for t in tokens[1:] if t.type == "RAW"]
    for index, word in enumerate(tokens):
        lowered = word.lower()
        if lowered in {"by", "groupby", "from", "where"}:
            break
        if lowered == "as" or "=" in word:
            continue
        named = index + 2 < len(tokens) and tokens[index + 1].lower() == "as"
        target = tokens[index + 2] if named else word
        call = _CALL.fullmatch(word)
        if call and call.group(1).lower() in _KEEPING and names.resolve(call.group(2)):
            names.derive_or_alias(target, names.resolve(call.group(2)))
        elif call or lowered in {"count", "dc"} or named:
            names.create(target)


def read_lookup(tokens: Sequence[Token], names: FieldNames) -> None:
    words = [t.value.strip(",") for t in tokens[1:] if t.type == "RAW"]
    outputs = False
    for index, word in enumerate(words):
        if word.upper() in {"OUTPUT", "OUTPUTNEW"}:
            outputs = True
        elif outputs and word.lower() != "as":
            following = words[index + 1].lower() if index + 1 < len(words) else ""
            if following != "as":
                names.create(word)


def read_iplocation(tokens: Sequence[Token], names: FieldNames) -> None:
    prefix = ""
    for token in tokens[1:]:
        if token.value.lower().startswith("prefix="):
            prefix = unescape(token.value.split("=", 1)[1])
    for created in ("City", "Country", "Region", "lat", "lon"):
        names.create(prefix + created)
