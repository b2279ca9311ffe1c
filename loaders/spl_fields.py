"""Field names through an SPL pipeline: renames, evals and the commands that create fields.

A check late in a pipeline names a field as the pipeline left it; covgraph wants the name the
events carry. FieldNames follows ``rename`` (and ``rename Processes.* AS *`` from
``drop_dm_object_name``), ``eval x=y``, aggregations (``values(x) AS y`` keeps x's values),
``spath`` over the event's JSON, and the commands whose fields hold no log data (counts,
lookups, iplocation, ``rex`` and ``spath`` run on one field).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from lark import Token, Tree

from loaders.spl_syntax import options, unescape

# Aggregations whose result is one of the values of the field they read.
_KEEPING = frozenset(
    {"values", "first", "last", "latest", "earliest", "min", "max", "list", "mode"}
)
_CALL = re.compile(r"(\w+)\(([\w.{}@:]+)\)")
_NAMED_GROUP = re.compile(r"\(\?P?<([A-Za-z_]\w*)>")


@dataclass(frozen=True, slots=True)
class Condition:
    """The condition of ``eval x=if(condition, when_true, when_false)``, parsed.

    One of the two values may be an expression (None here): ``if(c, "found " . y, "false")``
    is still checked as ``x!="false"``. ``unset_when`` is the condition's truth value for which
    x is ``null()`` while the other gives a value (``if(match(_raw, "re"), "seen", null())``),
    so that ``isnotnull(x)`` checks the condition too.
    """

    tree: Tree[Token]
    when_true: str | None
    when_false: str | None
    offset: int
    unset_when: bool | None = None


@dataclass(frozen=True, slots=True)
class Capture:
    """A named group of ``rex field=F "pattern"`` run on an event field F.

    The group is a field the search creates, not one of the event: a check that it is set is a
    check that F matches the pattern, and a check of its value a check that F matches the
    pattern with that value in the group's place (`regex_groups.fill_group`).
    ``source`` is the events' name of F, ``pattern`` the regular expression as the rex wrote it.
    """

    source: str
    pattern: str


@dataclass(frozen=True, slots=True)
class Lookup:
    """The lookup(s) behind a field a ``lookup`` command output.

    A later check that the output is set (``search isutility=True``, ``where isnotnull(x)``)
    checks that the input fields' values are a row of the table: the indicator is membership of
    each input field in the table. ``tables`` pairs each table with the events' names of its
    input fields (those the pipeline created are left out); ``coalesce()`` of two lookups'
    outputs gives two pairs.
    """

    tables: tuple[tuple[str, tuple[str, ...]], ...]

    def merged(self, other: Lookup) -> Lookup:
        return Lookup(tuple(dict.fromkeys((*self.tables, *other.tables))))


class FieldNames:
    """Which name a field had in the events, through the renames and evals of a pipeline."""

    def __init__(self) -> None:
        self.aliases: dict[str, str] = {}
        self.prefixes: list[tuple[str, str]] = []
        self.derived: set[str] = set()
        #: Fields set by ``eval x=if(condition, a, b)``: checking x for a is checking the
        #: condition, checking it for b is checking its negation.
        self.conditions: dict[str, Condition] = {}
        #: Fields a ``lookup`` command output, and the lookup behind each.
        self.lookups: dict[str, Lookup] = {}
        #: The value ``fillnull`` wrote into lookup outputs the lookup left unset (lower case):
        #: the output holding it says the input is no row of the table.
        self.filled: dict[str, str] = {}
        #: Groups a ``rex`` extracted from an event field other than _raw, and that field.
        self.captures: dict[str, Capture] = {}
        #: Patterns of names a command created without saying which (an MLTK model's
        #: ``IsOutlier(x)``, a lookup's outputs when it names none).
        self.created_patterns: list[re.Pattern[str]] = []
        #: Data-model fields (``Registry.registry_value_data``) tstats read in this scope.
        self.model_fields: set[str] = set()
        #: True after a generating command (inputlookup, summary): no field is a log field.
        self.generated = False

    def reset(self) -> None:
        self.aliases.clear()
        self.prefixes.clear()
        self.derived.clear()
        self.conditions.clear()
        self.lookups.clear()
        self.filled.clear()
        self.captures.clear()
        self.created_patterns.clear()
        self.model_fields.clear()
        self.generated = False

    def copy(self) -> FieldNames:
        other = FieldNames()
        other.aliases = dict(self.aliases)
        other.prefixes = list(self.prefixes)
        other.derived = set(self.derived)
        other.conditions = dict(self.conditions)
        other.lookups = dict(self.lookups)
        other.filled = dict(self.filled)
        other.captures = dict(self.captures)
        other.created_patterns = list(self.created_patterns)
        other.model_fields = set(self.model_fields)
        other.generated = self.generated
        return other

    def merge_subsearch(self, scope: FieldNames) -> None:
        """Carry back what a joined or appended subsearch's results hold.

        Fields it computes are computed ones here too. Data-model fields it read and renamed
        (``drop_dm_object_name(Registry)``) keep their data model: a later ``registry_value_data``
        is ``Registry.registry_value_data``, not the outer search's ``Processes.`` one, unless
        the outer search reads that attribute itself (a join key).
        """
        created = scope.derived - self.derived
        if scope.generated:
            created |= set(scope.aliases)
        for name in created:
            self.create(name)
            if name in scope.lookups:
                self.lookups[name] = scope.lookups[name]
            if name in scope.captures:
                self.captures[name] = scope.captures[name]
        self.created_patterns.extend(
            p for p in scope.created_patterns if p not in self.created_patterns
        )
        outer_attributes = {name.rpartition(".")[2] for name in self.model_fields}
        for full in sorted(scope.model_fields - self.model_fields):
            attribute = full.rpartition(".")[2]
            if attribute in outer_attributes or attribute in scope.derived:
                continue
            if scope.resolve(attribute) == full and self.resolve(attribute) != full:
                self.derive_or_alias(attribute, full)

    def resolve(self, name: str) -> str | None:
        """The events' name of a field, or None when the pipeline created it."""
        if name in self.derived or self.generated:
            return None
        if any(pattern.match(name) for pattern in self.created_patterns):
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
        lookup = self.lookups.get(source)
        capture = self.captures.get(source)
        self.derive_or_alias(target, original)
        if lookup is not None and original is None:
            self.lookups[target] = lookup
        if capture is not None and original is None:
            self.captures[target] = capture
        return True

    def derive_or_alias(self, target: str, original: str | None) -> None:
        self.conditions.pop(target, None)
        self.lookups.pop(target, None)
        self.filled.pop(target, None)
        self.captures.pop(target, None)
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
        self.lookups.pop(name, None)
        self.captures.pop(name, None)


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


def _words(tokens: Sequence[Token]) -> list[str]:
    """A command's words as the events name them: quoted ones unquoted, bare ones split at
    commas (``a,b`` is two fields)."""
    return [
        unescape(part)
        for token in tokens
        if token.type in {"RAW", "STRING"}
        for part in (token.value.split(",") if token.type == "RAW" else [token.value])
        if part
    ]


def read_fillnull(tokens: Sequence[Token], names: FieldNames) -> None:
    """``fillnull value=V f1 f2`` (no field: every field; no value: 0): a lookup output it fills
    holds V where the lookup found no row."""
    found, rest = options(tokens[1:])
    value = found.get("value", "0").strip().lower()
    fields = _words(rest) or list(names.lookups)
    for name in fields:
        if name in names.lookups:
            names.filled[name] = value


def read_lookup(tokens: Sequence[Token], names: FieldNames) -> None:
    """Fields a lookup adds: those after OUTPUT, else (it names none) the table's own.

    ``lookup [update=t] TABLE in [AS event_field]... [OUTPUT|OUTPUTNEW out [AS name]...]``.
    Each named output remembers its Lookup (the table and the events' input fields), so that a
    later check on it reads as membership. Without OUTPUT every column of the table that is no
    input is added; the names are not in the search. Lookup tables name their columns after
    themselves (``ut_shannon_lookup`` adds ``ut_shannon``; the URL Toolbox's ``ut_*_lookup``
    tables all add ``ut_*`` fields).
    """
    _, rest = options(tokens[1:])  # local=t, update=true
    words = _words(rest)
    if not words:
        return
    split = next(
        (i for i, w in enumerate(words) if w.upper() in {"OUTPUT", "OUTPUTNEW"}), len(words)
    )
    table, inputs, outputs = words[0], words[1:split], words[split + 1 :]
    if split == len(words):
        stem = table.removesuffix("_lookup")
        stem = "ut_" if stem.startswith("ut_") else stem
        names.created_patterns.append(re.compile(re.escape(stem)))
        return
    resolved = [names.resolve(name) for name in _event_names(inputs)]
    lookup = Lookup(((table, tuple(r for r in resolved if r is not None)),))
    only_new = words[split].upper() == "OUTPUTNEW"
    for name in _event_names(outputs):
        earlier = names.lookups.get(name)
        if earlier is not None:
            # A second lookup into the same output (a table read by file name, then by original
            # file name): whether it overwrites (OUTPUT) or fills what the first left unset
            # (OUTPUTNEW), the field is set when either table holds the row.
            names.lookups[name] = earlier.merged(lookup)
        elif only_new and name in names.derived:
            # OUTPUTNEW keeps the value the search already computed: no membership alone.
            continue
        else:
            names.create(name)
            names.lookups[name] = lookup


def _event_names(words: Sequence[str]) -> list[str]:
    """The search's names in ``a [AS b] c [AS d]...``: b for a renamed column, else a."""
    found: list[str] = []
    index = 0
    while index < len(words):
        renamed = index + 2 < len(words) and words[index + 1].lower() == "as"
        found.append(words[index + 2] if renamed else words[index])
        index += 3 if renamed else 1
    return found


#: Fields ``transaction`` adds to each transaction.
TRANSACTION_FIELDS = ("duration", "eventcount", "closed_txn", "field_match_sum", "linecount")
#: Names MLTK's apply and fit (and the DSDL apps' models) give their results: IsOutlier(x),
#: predicted(x), probability(...), BoundaryRanges(...), cluster, pred_*, predicted_*. Anchored
#: at both ends: a later field such as cluster_name is the search's own.
_MODEL_OUTPUT = re.compile(
    r"(?:(?:IsOutlier|predicted|probability|BoundaryRanges)\(.*\)|cluster|pred_\w*|predicted_\w*)$"
)
#: Fields MLTK's ``summary`` command returns for a model.
SUMMARY_FIELDS = ("cardinality", "mean", "std", "min", "max", "distribution_type")


def read_model(tokens: Sequence[Token], names: FieldNames) -> None:
    """``apply model [as name]`` / ``fit ... [into model] [as name]``: the results are new."""
    words = [unescape(t.value.strip(",")) for t in tokens[1:] if t.type in {"RAW", "STRING"}]
    for index, word in enumerate(words[:-1]):
        if word.lower() == "as":
            names.create(words[index + 1])
    if _MODEL_OUTPUT not in names.created_patterns:
        names.created_patterns.append(_MODEL_OUTPUT)


def read_addtotals(tokens: Sequence[Token], names: FieldNames) -> None:
    """``addtotals [fieldname=X]`` adds X (default Total) to each result."""
    names.create(options(tokens[1:])[0].get("fieldname", "Total"))


def read_iplocation(tokens: Sequence[Token], names: FieldNames) -> None:
    prefix = options(tokens[1:])[0].get("prefix", "")
    for created in ("City", "Country", "Region", "lat", "lon"):
        names.create(prefix + created)


def read_rex(tokens: Sequence[Token], names: FieldNames) -> None:
    """The fields ``rex [field=F] [mode=sed] "pattern"`` sets.

    Groups extracted from _raw (the default) are parts of the event, as an add-on's extractions
    are, and stay readable under their names. Extracted from another field they are new fields
    whose being set says F matched the pattern (a Capture); from a computed field they are
    computed. ``mode=sed`` rewrites F itself, which then holds no value the event holds.
    """
    found, rest = options(tokens[1:])
    source = found.get("field", "_raw")
    resolved = names.resolve(source)
    if found.get("mode", "").lower() == "sed":
        if source != "_raw":
            names.create(source)
        return
    for token in rest:
        if token.type != "STRING":
            continue
        pattern = unescape(token.value)
        for group in _NAMED_GROUP.findall(pattern):
            if source == "_raw":
                names.extract(group)
            else:
                names.create(group)
                if resolved is not None:
                    names.captures[group] = Capture(resolved, pattern)


def read_spath(tokens: Sequence[Token], names: FieldNames) -> None:
    """The fields ``spath [input=F] [output=Y] [path=P | P]`` sets.

    Over _raw (the default) spath reads the event's own JSON: P is an event field, and Y that
    field under another name. Over another field F it parses text the event holds as one value
    (a policy document, a list of grants): Y (else P) is a new field, computed like rex groups.
    Without a path every key becomes a field of its own name, names the search does not give,
    so nothing is recorded.
    """
    found, rest = options(tokens[1:])
    words = [unescape(token.value) for token in rest if token.type in {"RAW", "STRING"}]
    path = found.get("path") or (words[0] if words else None)
    if path is None:
        return
    output = found.get("output") or path
    if found.get("input", "_raw") != "_raw":
        names.create(output)
    elif output == path:
        names.extract(output)
    else:
        names.derive_or_alias(output, path)
