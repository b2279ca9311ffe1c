"""Building canonical predicates: one place for the rules every vendor's parser shares.

Each parser reads its own syntax into (field, operator, value) and calls `make_predicate`, which
applies what makes indicators from different vendors the same Value node: suffix clean-up,
lower-casing of case-insensitive comparisons, and path-to-name folding.
"""

from __future__ import annotations

import re

from loaders.records import ANY_FIELD, Predicate

# ECS multi-field suffixes that name an index variant, not a different field.
_SUFFIXES = (".caseless", ".keyword", ".text", ".wildcard")

# A path field checked only for its last component is the same check as the name field with
# eq. ECS pairs each path-like field with its name field; the pairs are fixed by ECS itself.
PATH_TO_NAME = {
    "process.executable": "process.name",
    "process.parent.executable": "process.parent.name",
    "file.path": "file.name",
    "dll.path": "dll.name",
    "file.target_path": "file.target_name",
    "process.Ext.effective_parent.executable": "process.Ext.effective_parent.name",
    "process.group_leader.executable": "process.group_leader.name",
    "process.session_leader.executable": "process.session_leader.name",
}

# "*\name.ext" or "*/name": a wildcard anchored on a path separator, naming one component.
_LAST_COMPONENT = re.compile(r"^\*[\\/]+([^\\/*?]+)$")

CASE_FOLDED_OPERATORS = frozenset({"eq", "wildcard", "match"})


def clean_field(name: str) -> str:
    """Drop index-variant suffixes (``process.executable.caseless`` -> ``process.executable``)."""
    for suffix in _SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def has_wildcard(value: str) -> bool:
    """True when the value holds an unescaped ``*`` or ``?``."""
    escaped = False
    for char in value:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char in "*?":
            return True
    return False


def make_predicate(
    field: str | None,
    operator: str,
    value: object,
    *,
    negated: bool = False,
    vendor_field: str | None = None,
    raw_value: str | None = None,
    case_insensitive: bool = True,
) -> Predicate:
    """A canonical Predicate from a vendor's (field, operator, value).

    ``field`` is the canonical name already (None for a keyword search); ``value`` may be any
    scalar and is rendered as text. Values of case-insensitive eq / wildcard / match checks are
    lower-cased; case-sensitive ones keep their case and are marked ``case_sensitive`` (`-c` and
    `-C` are different flags). A path field matched on its last component becomes the name
    field with eq.
    """
    text = _render(value)
    raw = text if raw_value is None else raw_value
    name = ANY_FIELD if not field else clean_field(field)
    if operator == "match":
        name = ANY_FIELD if not field else name
    case_sensitive = False
    if operator in CASE_FOLDED_OPERATORS:
        if case_insensitive:
            text = text.lower()
        else:
            # Only where case can matter: a value with letters (not "4", not "-1").
            case_sensitive = text.lower() != text.upper()
    if operator == "wildcard" and name in PATH_TO_NAME:
        found = _LAST_COMPONENT.match(text)
        if found:
            name, operator, text = PATH_TO_NAME[name], "eq", found.group(1)
    return Predicate(
        field=name,
        operator=operator,
        value=text,
        negated=negated,
        vendor_field=vendor_field,
        raw_value=raw,
        case_sensitive=case_sensitive,
    )


def _render(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)
